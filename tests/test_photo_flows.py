"""Photos in: /replace-bg and /describe from every entry point, and every kind of bad file."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image

from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import BAD_FILES, GOOD_ODD_FILES, camera_jpeg, small_jpeg

# These scenarios check Titan request bodies: they run on the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack


def post_photo(slack: FakeSlack, content: bytes | None = None, user: str = "U1", name: str = "car.jpg",
               mimetype: str = "image/jpeg", thread_ts: str | None = None, text: str = "") -> str:
    photo = slack.add_file(content if content is not None else small_jpeg(), name=name, mimetype=mimetype, user=user)
    return slack.post_user_message("C1", user, text, files=[photo], thread_ts=thread_ts)


def decoded(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def converse_images(bedrock: FakeBedrock) -> list[Image.Image]:
    images = []
    for call in bedrock.calls:
        if call.operation == "Converse":
            for block in call.body["messages"][0]["content"]:
                if "image" in block:
                    images.append(decoded(block["image"]["source"]["bytes"]))
    return images


def bot_replies(slack: FakeSlack, thread_ts: str) -> list[dict]:
    return [m for m in slack.thread_messages("C1", thread_ts) if m.get("bot_id")]


def reply_text(slack: FakeSlack, thread_ts: str) -> str:
    return "\n".join(m.get("text", "") + json.dumps(m.get("blocks", [])) for m in bot_replies(slack, thread_ts))


def private_notes(slack: FakeSlack) -> str:
    notes = [r.get("text", "") for rs in slack.responses.values() for r in rs]
    return "\n".join(notes + [e.get("text", "") for e in slack.ephemerals])


# --- /replace-bg ---------------------------------------------------------------------------

def test_replace_bg_uses_newest_photo_and_replies_in_its_thread(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_photo(slack, name="old.jpg")
    photo_ts = post_photo(slack, camera_jpeg(1600, 1200), name="car.jpg")
    ack = studio.slash("/replace-bg", "keep=car beach at sunset mode=precise n=2 seed=11")
    assert "Working on it" in ack["text"]
    studio.wait_idle()

    [call] = bedrock.invocations("OUTPAINTING")
    params = call.body["outPaintingParams"]
    assert (params["maskPrompt"], params["text"], params["outPaintingMode"]) == ("car", "beach at sunset", "PRECISE")
    assert call.body["imageGenerationConfig"]["numberOfImages"] == 2
    assert call.body["imageGenerationConfig"]["seed"] == 11
    sent = decoded(params["image"])
    assert max(sent.size) <= 1408 and sent.size == (1408, 1056), "4:3 photo keeps its aspect ratio"

    assert len(slack.uploads) == 2
    assert all(upload["thread_ts"] == photo_ts for upload in slack.uploads)
    assert Image.open(io.BytesIO(slack.uploads[0]["content"])).size == (1408, 1056)
    text = reply_text(slack, photo_ts)
    assert "<@U1>" in text and "kept: car" in text and "seed 11" in text and "precise" in text


def test_replace_bg_keep_auto_names_the_subject_first(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    photo_ts = post_photo(slack)
    bedrock.converse_answer = "A red sports car."
    studio.slash("/replace-bg", "keep=auto london city background")
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    assert call.body["outPaintingParams"]["maskPrompt"] == "a red sports car"
    assert "found automatically" in reply_text(slack, photo_ts)


def test_nova_canvas_gets_inputs_in_multiples_of_16(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(edit_model_id="amazon.nova-canvas-v1:0")
    post_photo(slack, camera_jpeg(1000, 750))
    studio.slash("/replace-bg", "keep=car a beach")
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    width, height = decoded(call.body["outPaintingParams"]["image"]).size
    assert width % 16 == 0 and height % 16 == 0
    assert "width" not in call.body["imageGenerationConfig"]
    assert len(slack.uploads) == 1


def test_photos_of_other_people_and_old_photos_are_not_used(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_photo(slack, user="U2")
    slack.post_user_message("C1", "U1", "old photo", files=[slack.add_file(small_jpeg())],
                            ts=f"{time.time() - 3600:.6f}")
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    assert "could not find a photo you posted" in private_notes(slack)
    assert bedrock.calls == []


def test_thread_replies_count_as_recent_photos(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    parent = slack.post_user_message("C1", "U2", "the shoot is in this thread")
    post_photo(slack, thread_ts=parent, name="reply.jpg")
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    assert len(bedrock.invocations("OUTPAINTING")) == 1
    assert slack.uploads[0]["thread_ts"] == parent


# --- /describe ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected_in_prompt"),
    [("", "caption"), ("alt", "alt text"), ("social", "hashtags"), ("detail", "in detail"),
     ("objects", "objects"), ("classify", "Classify"), ("subject", "main subject"), ("story", "story"),
     ("text", "Transcribe"), ("translate=german", "translate it into german"),
     ("what colour is the car?", "what colour is the car?")],
)
def test_describe_presets_and_questions(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                        text: str, expected_in_prompt: str) -> None:
    photo_ts = post_photo(slack, camera_jpeg(4000, 3000))
    bedrock.converse_answer = "A red car parked by the sea."
    studio.slash("/describe", text)
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.operation == "Converse"]
    prompt = call.body["messages"][0]["content"][-1]["text"]
    assert expected_in_prompt.lower() in prompt.lower()
    assert "A red car parked by the sea." in reply_text(slack, photo_ts)
    [image] = converse_images(bedrock)
    assert image.format == "JPEG" and max(image.size) <= 1568
    assert image.width * image.height <= 1_200_000, "a 12 MP photo is sent as at most 1.2 MP"


def test_describe_several_photos_one_answer_or_one_per_photo(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    files = [slack.add_file(small_jpeg(), name=f"p{i}.jpg") for i in range(3)]
    message_ts = slack.post_user_message("C1", "U1", "three shots", files=files)
    studio.slash("/describe", "")
    studio.wait_idle()
    assert len([c for c in bedrock.calls if c.operation == "Converse"]) == 1
    assert len(converse_images(bedrock)) == 3

    bedrock.reset()
    studio.slash("/describe", "alt")
    studio.wait_idle()
    assert len([c for c in bedrock.calls if c.operation == "Converse"]) == 3
    text = reply_text(slack, message_ts)
    assert "Image 1 · p0.jpg" in text and "Image 3 · p2.jpg" in text


# --- mentions and shortcuts -----------------------------------------------------------------

def test_mention_with_photo_uses_that_message(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_photo(slack, name="newer-but-not-this.jpg")
    ts = post_photo(slack, name="this.jpg", text="<@UBOT> replace-bg keep=car beach")
    assert studio.event(slack.message_event("C1", ts, event_type="app_mention")) == 200
    studio.wait_idle()
    assert len(bedrock.invocations("OUTPAINTING")) == 1
    assert slack.uploads[0]["thread_ts"] == ts


def test_mention_in_thread_uses_newest_image_in_thread(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    parent = post_photo(slack, name="first.jpg")
    post_photo(slack, camera_jpeg(300, 600), name="second.jpg", user="U2", thread_ts=parent)
    ask = slack.post_user_message("C1", "U1", "<@UBOT> describe alt", thread_ts=parent)
    studio.event(slack.message_event("C1", ask, event_type="app_mention"))
    studio.wait_idle()
    [image] = converse_images(bedrock)
    assert image.height > image.width, "the portrait reply, not the landscape parent"
    assert bot_replies(slack, parent)


def test_mention_without_command_word_gets_help(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = slack.post_user_message("C1", "U1", "<@UBOT> hello there")
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    assert "Start with a command" in private_notes(slack)
    assert bedrock.calls == []


def test_mention_retries_from_slack_make_one_job(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, text="<@UBOT> describe")
    event = slack.message_event("C1", ts, event_type="app_mention")
    studio.event(event, event_id="Ev9")
    studio.event(event, event_id="Ev9", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    studio.wait_idle()
    assert len([c for c in bedrock.calls if c.operation == "Converse"]) == 1


def submit_modal(studio: Studio, slack: FakeSlack, values: dict[str, str]) -> dict:
    [opened] = slack.calls_to("views.open")
    view = json.loads(opened["view"]) if isinstance(opened["view"], str) else opened["view"]
    state = {}
    for block in view["blocks"]:
        value = values.get(block["block_id"], "")
        if block["element"]["type"] == "static_select":
            state[block["block_id"]] = {"value": {"type": "static_select", "selected_option": {"value": value or block["element"]["initial_option"]["value"]}}}
        else:
            state[block["block_id"]] = {"value": {"type": "plain_text_input", "value": value or None}}
    payload = {
        "type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U3"}, "api_app_id": "A1",
        "view": {**view, "id": "V1", "state": {"values": state}},
    }
    return studio.interact(payload)


def test_replace_background_shortcut_asks_in_a_modal(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, user="U2")
    studio.interact(slack.message_shortcut_payload("C1", ts, "replace_background", user="U3"))
    assert submit_modal(studio, slack, {"background": "", "keep": "car"})["response_action"] == "errors"
    assert bedrock.calls == []
    submit_modal(studio, slack, {"background": "snowy mountain road", "keep": "red car", "mode": "precise"})
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    assert call.body["outPaintingParams"]["maskPrompt"] == "red car"
    assert call.body["outPaintingParams"]["outPaintingMode"] == "PRECISE"
    assert slack.uploads[0]["thread_ts"] == ts
    assert "<@U3>" in reply_text(slack, ts), "credits who used the shortcut"


def test_describe_shortcut_with_preset(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack)
    studio.interact(slack.message_shortcut_payload("C1", ts, "describe_image"))
    submit_modal(studio, slack, {"preset": "social"})
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.operation == "Converse"]
    assert "hashtags" in call.body["messages"][0]["content"][-1]["text"]
    assert bot_replies(slack, ts)


def test_modal_fields_are_values_not_command_text(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, user="U2")
    studio.interact(slack.message_shortcut_payload("C1", ts, "replace_background", user="U3"))
    ack = submit_modal(studio, slack, {"background": 'backdrop n=5 --ar 9:16 "studio', "keep": "car mode=fast"})
    assert ack == {}, "accepted: no option errors from free text"
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    assert call.body["imageGenerationConfig"]["numberOfImages"] == 1, "n=5 in the form is words, not five images"
    assert call.body["outPaintingParams"]["text"] == 'backdrop n=5 --ar 9:16 "studio'
    assert call.body["outPaintingParams"]["maskPrompt"] == "car mode=fast"


def test_describe_modal_question_is_taken_as_written(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack)
    studio.interact(slack.message_shortcut_payload("C1", ts, "describe_image"))
    assert submit_modal(studio, slack, {"question": "is the sign's text=STOP?"}) == {}
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.operation == "Converse"]
    assert "is the sign's text=STOP?" in call.body["messages"][0]["content"][-1]["text"]


def test_shortcut_on_message_without_photo(studio: Studio, slack: FakeSlack) -> None:
    ts = slack.post_user_message("C1", "U1", "just words")
    studio.interact(slack.message_shortcut_payload("C1", ts, "describe_image"))
    assert slack.calls_to("views.open") == []
    assert "has no photo" in private_notes(slack)


# --- bad files ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_get_a_clear_message(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock, case: str) -> None:
    content, mimetype, expected = BAD_FILES[case]
    ts = post_photo(slack, content, mimetype=mimetype, name="upload.jpg")
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    assert expected in reply_text(slack, ts) + private_notes(slack)
    assert bedrock.invocations("OUTPAINTING") == []


@pytest.mark.parametrize("case", list(GOOD_ODD_FILES))
def test_unusual_but_valid_images_are_normalised(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock, case: str) -> None:
    content, mimetype, (width, height) = GOOD_ODD_FILES[case]
    post_photo(slack, content, mimetype=mimetype, name="upload")
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    sent = decoded(call.body["outPaintingParams"]["image"])
    assert sent.mode == "RGB" and sent.format == "JPEG"
    assert sent.size == (width, height), "upright, same shape"
    assert len(slack.uploads) == 1


def test_non_image_file_is_named(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    doc = slack.add_file(b"%PDF-1.4 report", name="brief.pdf", mimetype="application/pdf")
    slack.post_user_message("C1", "U1", "", files=[doc])
    studio.slash("/describe", "")
    studio.wait_idle()
    assert "`brief.pdf` is not an image" in private_notes(slack)
    assert bedrock.calls == []


def test_file_over_size_limit_is_refused_before_download(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    big = slack.add_file(small_jpeg(), name="huge.jpg")
    slack.file(big["id"])  # exists
    ts = slack.post_user_message("C1", "U1", "", files=[big])
    slack._files[big["id"]].content = small_jpeg() + b"\0" * (31 * 1024 * 1024)  # noqa: SLF001 - simulate a 31 MB upload
    studio.slash("/describe", "")
    studio.wait_idle()
    assert "Studio accepts photos up to 30 MB" in reply_text(slack, ts)
    assert bedrock.calls == []


def test_deleted_photo(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    photo = slack.add_file(small_jpeg())
    ts = slack.post_user_message("C1", "U1", "<@UBOT> describe", files=[photo])
    event = slack.message_event("C1", ts, event_type="app_mention")
    slack.delete_file(photo["id"])
    studio.event(event)
    studio.wait_idle()
    assert "deleted" in private_notes(slack)


def test_photo_command_where_the_bot_is_not_a_member(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    slack.add_channel("C9", "secret", bot_member=False)
    studio.slash("/describe", "", channel="C9")
    studio.wait_idle()
    assert "/invite @Studio" in private_notes(slack)
    assert bedrock.calls == []
