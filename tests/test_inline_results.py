"""Results visible in the channel: the parent message shows the images inline, or falls back to the thread."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import small_jpeg


def parent(slack: FakeSlack) -> dict[str, Any]:
    [message] = [m for m in slack.channel_messages("C1") if m.get("bot_id")]
    return message


def inline_images(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message.get("blocks", []) if b.get("type") == "image"]


def has_buttons(message: dict[str, Any]) -> bool:
    return any(b.get("type") == "actions" for b in message.get("blocks", []))


def test_the_imagine_parent_shows_both_images_inline(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker on a neon street n=2")
    studio.wait_idle()
    message = parent(slack)
    images = inline_images(message)
    assert [image["slack_file"] for image in images] == [{"id": u["file_id"]} for u in slack.uploads]
    assert [image["alt_text"] for image in images] == [
        "Generated image 1 of 2: sneaker on a neon street", "Generated image 2 of 2: sneaker on a neon street"]
    assert has_buttons(message), "the buttons stay"
    assert {u["thread_ts"] for u in slack.uploads} == {message["ts"]}, "the full-size files are in the thread"


def test_at_most_four_images_are_shown_inline(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker n=5")
    studio.wait_idle()
    assert len(slack.uploads) == 5
    assert [image["slack_file"]["id"] for image in inline_images(parent(slack))] == [
        u["file_id"] for u in slack.uploads[:4]]


def test_images_slack_needs_a_moment_for_are_shown_after_a_pause(make_studio: Any, slack: FakeSlack,
                                                                 bedrock: FakeBedrock) -> None:
    # Backoff 0.5 s: the second try comes 1 s after the first, when the files are processed.
    studio = make_studio(retry_base_seconds=2.0)
    slack.file_processing_seconds = 0.8
    studio.slash("/imagine", "sneaker")
    studio.wait_idle()
    assert len(inline_images(parent(slack))) == 1


def test_when_slack_refuses_the_images_the_result_falls_back_to_the_thread(studio: Studio, slack: FakeSlack,
                                                                          bedrock: FakeBedrock) -> None:
    slack.file_processing_seconds = 600
    studio.slash("/imagine", "sneaker n=2")
    studio.wait_idle()
    message = parent(slack)
    assert inline_images(message) == [] and has_buttons(message)
    assert "Generating" not in json.dumps(message) and "seeds" in json.dumps(message)
    assert len(slack.uploads) == 2 and {u["thread_ts"] for u in slack.uploads} == {message["ts"]}
    assert len(slack.bot_messages("C1")) == 2, "no second copy of the result was posted"


def test_the_formats_result_shows_its_first_four_formats_inline(studio: Studio, slack: FakeSlack,
                                                                bedrock: FakeBedrock) -> None:
    ts = slack.post_user_message("C1", "U1", "", files=[slack.add_file(small_jpeg(1600, 1200), name="shoe.jpg")])
    studio.slash("/formats", "")
    studio.wait_idle(timeout=60)
    [result] = [m for m in slack.thread_messages("C1", ts) if m.get("bot_id") and has_buttons(m)]
    images = inline_images(result)
    assert [image["slack_file"]["id"] for image in images] == [u["file_id"] for u in slack.uploads[:4]]
    assert images[0]["alt_text"] == "shoe.jpg as square, 1080×1080 pixels"
