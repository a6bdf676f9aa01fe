"""/imagine end to end: signed slash command in, messages and images in the channel out."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack

# These scenarios check Titan request bodies: they run on the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack


def image_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG"
        return image.size


def parent_messages(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.channel_messages("C1") if m.get("bot_id")]


def private_notes(slack: FakeSlack, key: str = "r1") -> str:
    return "\n".join(r.get("text", "") for r in slack.responses.get(key, []))


def test_imagine_posts_parent_and_images_in_its_thread(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ack = studio.slash("/imagine", "sneaker on a neon street no=people ar=16:9 n=3")
    assert "Working on your 3 images" in ack["text"]
    assert ack.get("response_type", "ephemeral") == "ephemeral"
    studio.wait_idle()

    [parent] = parent_messages(slack)
    assert "<@U1>" in parent["text"] and "sneaker on a neon street" in parent["text"]
    [reply] = slack.thread_messages("C1", parent["ts"])
    assert len(reply["files"]) == 3, "all images arrive in one upload"
    assert len(slack.uploads) == 3
    for upload in slack.uploads:
        assert upload["thread_ts"] == parent["ts"]
        assert image_size(upload["content"]) == (1152, 640)
        assert "sneaker on a neon street" in upload["alt_txt"]

    [call] = bedrock.invocations("TEXT_IMAGE")
    assert call.body["textToImageParams"] == {"text": "sneaker on a neon street", "negativeText": "people"}
    config = call.body["imageGenerationConfig"]
    assert (config["numberOfImages"], config["width"], config["height"]) == (3, 1152, 640)

    final = slack.updates[-1]
    assert final["ts"] == parent["ts"]
    rendered = str(final["blocks"])
    assert "Titan Image Generator v2" in rendered
    assert f"seed {config['seed']}" in rendered
    assert "1152×640" in rendered


def test_seed_and_options_reach_bedrock(studio: Studio, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a red car --seed 7 --ar 3:2 quality=premium cfg=6.5")
    studio.wait_idle()
    [call] = bedrock.invocations("TEXT_IMAGE")
    assert call.body["imageGenerationConfig"] == {
        "numberOfImages": 1, "width": 1152, "height": 768, "cfgScale": 6.5, "seed": 7, "quality": "premium",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", "/imagine* _what to draw_"),
        ("", "Tell me what to draw"),
        ("a car sed=5", "Did you mean `seed=`?"),
        ("a car n=9", "`n=` must be a whole number from 1 to 5"),
        ("a car size=100x100", "Allowed: 1024x1024"),
        ("x" * 600, "at most 512"),
    ],
)
def test_usage_errors_answer_privately_without_calling_bedrock(
    studio: Studio, slack: FakeSlack, bedrock: FakeBedrock, text: str, expected: str
) -> None:
    ack = studio.slash("/imagine", text)
    assert expected in ack["text"]
    assert ack.get("response_type", "ephemeral") == "ephemeral"
    studio.wait_idle()
    assert bedrock.calls == []
    assert parent_messages(slack) == []


def test_blocked_prompt_is_explained_in_the_parent(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.blocked_terms.add("forbidden")
    studio.slash("/imagine", "a forbidden scene")
    studio.wait_idle()
    [parent] = parent_messages(slack)
    assert "content filter" in str(slack.updates[-1]["blocks"])
    assert slack.uploads == []
    assert len(bedrock.calls) == 1, "a refusal is never retried"


def test_partially_blocked_output_keeps_the_images_that_came_back(
    studio: Studio, slack: FakeSlack, bedrock: FakeBedrock
) -> None:
    bedrock.output_blocked_terms.add("risky")
    studio.slash("/imagine", "a risky poster n=3")
    studio.wait_idle()
    assert 1 <= len(slack.uploads) < 3
    assert "withheld by the content filter" in str(slack.updates[-1]["blocks"])


def test_model_access_denied_on_first_use_says_it_is_being_enabled(studio: Studio, slack: FakeSlack,
                                                                    bedrock: FakeBedrock) -> None:
    # Access is granted on the first call through AWS Marketplace; until then Bedrock denies it.
    bedrock.denied_models.add("amazon.titan-image-generator-v2:0")
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    rendered = str(slack.updates[-1]["blocks"])
    assert "amazon.titan-image-generator-v2:0" in rendered and "try again in a few minutes" in rendered


def test_throttling_recovers_and_shows_the_retry(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.fail_next(4, "ThrottlingException")  # more than botocore's own 3 attempts
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert len(slack.uploads) == 1
    assert any("Bedrock is busy" in str(update["blocks"]) for update in slack.updates)
    assert len(bedrock.invocations("TEXT_IMAGE")) == 5


def test_throttling_that_never_ends_fails_clearly(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(job_retries=1)
    bedrock.fail_next(100, "ThrottlingException")
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert slack.uploads == []
    assert "too busy" in str(slack.updates[-1]["blocks"])


def test_bot_not_in_channel_is_told_privately(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    slack.add_channel("C2", "private-team", bot_member=False, is_private=True)
    studio.slash("/imagine", "a red car", channel="C2")
    studio.wait_idle()
    assert "/invite @Studio" in private_notes(slack)
    assert bedrock.calls == []


def test_nova_canvas_sizes_follow_its_rules(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(image_model_id="amazon.nova-canvas-v1:0")
    studio.slash("/imagine", "a red car ar=16:9 " + "very " * 150)  # over Titan's 512, within Nova's 1024
    studio.wait_idle()
    [call] = bedrock.invocations("TEXT_IMAGE")
    config = call.body["imageGenerationConfig"]
    assert (config["width"], config["height"]) == (1360, 768)
    assert image_size(slack.uploads[0]["content"]) == (1360, 768)
    assert "Amazon Nova Canvas" in str(slack.updates[-1]["blocks"])


def test_mention_imagine_answers_in_the_thread(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = slack.post_user_message("C1", "U1", "<@UBOT> imagine a lighthouse --ar 3:2")
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    replies = slack.thread_messages("C1", ts)
    assert any(m.get("files") for m in replies)
    assert slack.uploads[0]["thread_ts"] == ts
