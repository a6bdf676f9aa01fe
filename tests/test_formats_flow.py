"""/formats end to end: the slash command, the mention, the All formats button, and what goes wrong."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from bot.settings import Settings
from handlers.formats import parse_format_setting
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import camera_jpeg, small_jpeg

OUTPAINT = "us.stability.stable-outpaint-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
ALL_SIZES = {"square": (1080, 1080), "portrait": (1080, 1350), "story": (1080, 1920), "landscape": (1920, 1080),
             "banner": (1584, 396)}


def post_photo(slack: FakeSlack, content: bytes, text: str = "", name: str = "shoe shot.jpg") -> str:
    return slack.post_user_message("C1", "U1", text, files=[slack.add_file(content, name=name, user="U1")])


def uploaded_sizes(slack: FakeSlack) -> dict[str, tuple[int, int]]:
    return {u["filename"]: Image.open(io.BytesIO(u["content"])).size for u in slack.uploads}


def model_calls(bedrock: FakeBedrock) -> list[str]:
    return [c.model_id for c in bedrock.calls if c.operation == "InvokeModel"]


def private_text(slack: FakeSlack, ack: dict[str, Any] | None = None) -> str:
    return (ack or {}).get("text", "") + json.dumps(slack.responses.get("r1", []), ensure_ascii=False)


def result_message(slack: FakeSlack, thread_ts: str) -> dict[str, Any]:
    found = [m for m in slack.thread_messages("C1", thread_ts)
             if any(b.get("type") == "actions" for b in m.get("blocks", []))]
    assert found, json.dumps(slack.thread_messages("C1", thread_ts))[:800]
    return found[-1]


def usage(studio: Studio) -> str:
    return studio.slash("/imagine", "usage", response_key="usage")["text"]


def test_formats_makes_every_format_of_a_camera_photo_at_its_exact_size(make_studio: Any, slack: FakeSlack,
                                                                        bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    ts = post_photo(slack, camera_jpeg(4000, 3000))
    studio.slash("/formats", "")
    studio.wait_idle(timeout=90)
    assert uploaded_sizes(slack) == {f"shoe-shot-{name}-{w}x{h}.png": (w, h) for name, (w, h) in ALL_SIZES.items()}
    assert {u["thread_ts"] for u in slack.uploads} == {ts}
    assert len({u["file_id"] for u in slack.uploads}) == 5
    # One message carries all five files; one Remove Background call finds the subject for all of them.
    shared = [m for m in slack.thread_messages("C1", ts) if m.get("files") and m.get("bot_id")]
    assert [len(m["files"]) for m in shared] == [5]
    calls = model_calls(bedrock)
    assert calls.count(REMOVE_BG) == 1 and set(calls) <= {REMOVE_BG, OUTPAINT}
    assert calls.count(OUTPAINT) >= 1, "the banner and the story grow round a subject two thirds of the photo high"
    listed = json.dumps(result_message(slack, ts)["blocks"], ensure_ascii=False)
    for name, (w, h) in ALL_SIZES.items():
        assert f"*{name}* {w}×{h}" in listed, listed
    assert "you: *5 of 10*" in usage(studio)


def test_formats_picks_the_named_formats_and_counts_only_those(make_studio: Any, slack: FakeSlack,
                                                               bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    post_photo(slack, small_jpeg(1600, 1200))
    studio.slash("/formats", "story,square")
    studio.wait_idle(timeout=60)
    assert sorted(uploaded_sizes(slack).values()) == [(1080, 1080), (1080, 1920)]
    assert [u["filename"] for u in slack.uploads] == ["shoe-shot-story-1080x1920.png", "shoe-shot-square-1080x1080.png"]
    assert "you: *2 of 10*" in usage(studio)


def test_an_unknown_format_name_is_a_private_message_with_an_example(studio: Studio, slack: FakeSlack,
                                                                     bedrock: FakeBedrock) -> None:
    post_photo(slack, small_jpeg(1600, 1200))
    ack = studio.slash("/formats", "story,sqare")
    studio.wait_idle()
    text = private_text(slack, ack)
    assert "no format called `sqare`" in text and "`/formats story,square`" in text, text
    assert "`banner`" in text, "the known names are listed"
    assert bedrock.calls == [] and slack.uploads == []
    assert [m for m in slack.bot_messages("C1")] == []


def test_a_photo_too_small_is_refused_privately_before_anything_is_posted_or_counted(
        make_studio: Any, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    post_photo(slack, small_jpeg(400, 300))
    studio.slash("/formats", "")
    studio.wait_idle()
    text = private_text(slack)
    assert "400x300" in text and "too small" in text and "`/formats square`" in text, text
    assert bedrock.calls == [] and slack.uploads == [] and slack.bot_messages("C1") == []
    assert "you: *0 of 10*" in usage(studio)


def test_the_amazon_stack_says_formats_need_the_stability_stack(make_studio: Any, slack: FakeSlack,
                                                                bedrock: FakeBedrock) -> None:
    studio = make_studio(model_stack="amazon")
    post_photo(slack, small_jpeg(1600, 1200))
    ack = studio.slash("/formats", "")
    studio.wait_idle()
    assert "needs the Stability stack" in private_text(slack, ack) and "STUDIO_MODELS=stability" in ack["text"]
    assert bedrock.calls == [] and slack.bot_messages("C1") == []


def test_mention_formats_on_a_photo_answers_in_its_thread(studio: Studio, slack: FakeSlack,
                                                          bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, small_jpeg(1600, 1200), text="<@UBOT> formats banner")
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle(timeout=60)
    assert [(u["filename"], u["thread_ts"]) for u in slack.uploads] == [("shoe-shot-banner-1584x396.png", ts)]
    assert uploaded_sizes(slack) == {"shoe-shot-banner-1584x396.png": (1584, 396)}


def test_the_all_formats_button_makes_every_format_of_that_result(make_studio: Any, slack: FakeSlack,
                                                                  bedrock: FakeBedrock) -> None:
    studio = make_studio(formats=parse_format_setting("square=1080x1080, thumb=256x144"))
    studio.slash("/imagine", "sneaker on a neon street")
    studio.wait_idle()
    parent = slack.channel_messages("C1")[-1]
    generated = slack.uploads[0]
    studio.interact(slack.block_actions_payload("C1", parent["ts"], "studio_formats", user="U2"))
    studio.wait_idle(timeout=60)
    made = slack.uploads[1:]
    stem = generated["filename"].rsplit(".", 1)[0]
    assert [u["filename"] for u in made] == [f"{stem}-square-1080x1080.png", f"{stem}-thumb-256x144.png"]
    assert {u["thread_ts"] for u in made} == {parent["ts"]}
    # The button works on the result image itself, not on whatever was posted last.
    [cut] = [c for c in bedrock.calls if c.model_id == REMOVE_BG]
    assert cut.ok


def test_the_all_formats_button_on_the_amazon_stack_tells_the_clicker(make_studio: Any, slack: FakeSlack,
                                                                      bedrock: FakeBedrock) -> None:
    studio = make_studio(model_stack="amazon")
    studio.slash("/imagine", "sneaker")
    studio.wait_idle()
    parent = slack.channel_messages("C1")[-1]
    studio.interact(slack.block_actions_payload("C1", parent["ts"], "studio_formats", user="U2"))
    studio.wait_idle()
    assert "needs the Stability stack" in json.dumps(slack.ephemerals), json.dumps(slack.ephemerals)[:500]
    assert len(slack.uploads) == 1


def test_the_format_set_is_a_setting() -> None:
    settings = Settings.from_env({"STUDIO_FORMATS": "square=1080x1080, pin=1000x1500"})
    assert [(t.name, t.width, t.height) for t in settings.formats] == [("square", 1080, 1080), ("pin", 1000, 1500)]
    assert [t.name for t in Settings.from_env({}).formats] == list(ALL_SIZES)
    with pytest.raises(ValueError, match="STUDIO_FORMATS"):
        Settings.from_env({"STUDIO_FORMATS": "story"})
