"""Batch background replacement: a product shoot in a thread."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from moto import mock_aws

from tests.aws_resources import state_store
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import BAD_FILES, small_jpeg

# These scenarios check Titan request bodies: they run on the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack

ASK = "<@UBOT> replace-bg keep=auto london city background mode=precise"
SHEET = "replace-bg-contact-sheet.png"


def shoot(slack: FakeSlack, good: int, bad: list[str] = ()) -> str:
    """A thread holding ``good`` photos plus the named bad files; returns the thread ts."""
    parent = slack.post_user_message("C1", "U1", "today's shoot")
    for index in range(good):
        photo = slack.add_file(small_jpeg(640 + index * 16, 480), name=f"shot-{index:02d}.jpg")
        slack.post_user_message("C1", "U1", "", files=[photo], thread_ts=parent)
    for name in bad:
        content, mimetype, _ = BAD_FILES[name]
        bad_file = slack.add_file(content, name=f"{name.replace(' ', '-')}.jpg", mimetype=mimetype)
        slack.post_user_message("C1", "U1", "", files=[bad_file], thread_ts=parent)
    return parent


def ask(studio: Studio, slack: FakeSlack, parent: str, text: str = ASK) -> None:
    ts = slack.post_user_message("C1", "U1", text, thread_ts=parent)
    studio.event(slack.message_event("C1", ts, event_type="app_mention"), event_id=f"Ev{ts}")


def report(slack: FakeSlack) -> list[dict[str, str]]:
    [upload] = [u for u in slack.uploads if u["filename"].endswith(".csv")]
    return list(csv.DictReader(io.StringIO(upload["content"].decode())))


def test_twelve_photos_with_two_bad_files(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "leather handbag"
    parent = shoot(slack, 10, bad=["truncated jpeg", "html login page"])
    ask(studio, slack, parent)
    studio.wait_idle(timeout=60)

    outpaints = bedrock.invocations("OUTPAINTING")
    assert len(outpaints) == 10
    assert len({c.body["imageGenerationConfig"]["seed"] for c in outpaints}) == 1, "one seed for the whole shoot"
    assert {c.body["outPaintingParams"]["maskPrompt"] for c in outpaints} == {"leather handbag"}
    assert all(c.body["outPaintingParams"]["outPaintingMode"] == "PRECISE" for c in outpaints)
    images = [u for u in slack.uploads if u["filename"].endswith("-new-background-1.png")]
    assert len(images) == 10 and {u["thread_ts"] for u in images} == {parent}

    rows = report(slack)
    assert len(rows) == 12
    outcomes = Counter(row["outcome"] for row in rows)
    assert outcomes == {"done": 10, "failed": 2}
    failed = {row["photo"]: row["reason"] for row in rows if row["outcome"] == "failed"}
    assert "damaged or incomplete" in failed["truncated-jpeg.jpg"]
    assert "files:read" in failed["html-login-page.jpg"]
    assert all(row["subject"] == "leather handbag" for row in rows if row["outcome"] == "done")

    progress = [u for u in slack.updates if "in 12 photos" in u.get("text", "")]
    assert "12/12 done, 2 failed" in json.dumps(progress[-1]["blocks"])
    assert len([u for u in slack.uploads if u["filename"].endswith(".csv")]) == 1, "reported exactly once"


def test_a_slow_progress_update_never_overwrites_the_final_line(studio: Studio, slack: FakeSlack,
                                                                bedrock: FakeBedrock) -> None:
    parent = shoot(slack, 3)
    # The first photo's "1/3" reaches Slack late, after the other photos have finished.
    slack.delay_next("chat.update", 1.5, when=lambda args: "1/3 done" in str(args.get("blocks")))
    ask(studio, slack, parent, "<@UBOT> replace-bg keep=bag a beach")
    studio.wait_idle(timeout=30)

    [line] = [m for m in slack.thread_messages("C1", parent) if "in 3 photos" in m.get("text", "")]
    assert "3/3 done" in json.dumps(line["blocks"])


@pytest.mark.parametrize("store_kind", ["sqlite", "dynamodb"])
def test_batch_status_reads_where_the_batch_stands(store_kind: str) -> None:
    with mock_aws():
        store = state_store(store_kind)
        assert (store.batch_status("B", 2).done, store.batch_status("B", 2).rows) == (0, None)
        store.batch_record("B", 1, json.dumps({"outcome": "failed"}), 2)
        now = store.batch_status("B", 2)
        assert (now.done, now.failed, now.rows) == (1, 1, None)
        store.batch_record("B", 0, json.dumps({"outcome": "done"}), 2)
        assert store.batch_status("B", 2).rows == ['{"outcome": "done"}', '{"outcome": "failed"}']


def test_batch_over_the_limit_is_refused_up_front(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    parent = shoot(slack, 51)
    ask(studio, slack, parent)
    studio.wait_idle()
    notes = json.dumps(slack.ephemerals) + json.dumps(slack.responses)
    assert "That is 51 photos" in notes and "up to 50" in notes
    assert bedrock.calls == [] and slack.uploads == []


def test_batch_over_the_quota_is_refused_up_front(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=5)
    parent = shoot(slack, 6)
    ask(studio, slack, parent, "<@UBOT> replace-bg keep=bag a beach")
    studio.wait_idle()
    assert "needs 6 image(s)" in json.dumps(slack.ephemerals)
    assert bedrock.calls == []
    assert "you: *0 of 5*" in studio.slash("/imagine", "usage")["text"]


def test_failed_photos_give_their_quota_back(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    parent = shoot(slack, 3, bad=["zero bytes"])
    ask(studio, slack, parent, "<@UBOT> replace-bg keep=bag a beach")
    studio.wait_idle(timeout=30)
    assert "you: *3 of 10*" in studio.slash("/imagine", "usage")["text"]


def test_slash_command_on_a_message_with_several_photos(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    files = [slack.add_file(small_jpeg(), name=f"p{i}.jpg") for i in range(3)]
    ts = slack.post_user_message("C1", "U1", "", files=files)
    studio.slash("/replace-bg", "keep=car a beach")
    studio.wait_idle(timeout=30)
    assert len(bedrock.invocations("OUTPAINTING")) == 3
    assert [row["outcome"] for row in report(slack)] == ["done", "done", "done"]
    assert {u["thread_ts"] for u in slack.uploads} == {ts}


def test_a_failed_report_upload_is_retried_without_processing_the_photo_again(
    settings, slack: FakeSlack, bedrock: FakeBedrock, monkeypatch
) -> None:
    from dataclasses import asdict

    from bot.bootstrap import worker_context
    from bot.errors import SlackUnavailable
    from bot.jobs import Job
    from bot.quota import today
    from bot.runtime.sqlite_state import SqliteState
    from bot.runtime.worker import Outcome, run_job
    from handlers.requests import ReplaceBackgroundRequest

    ctx = worker_context(settings, SqliteState(":memory:"))
    photo = slack.add_file(small_jpeg(), name="only.jpg")
    ts = slack.post_user_message("C1", "U1", "", files=[photo])
    progress_ts = ctx.slack.post("C1", "progress", thread_ts=ts)
    job = Job(id="b1-0", command="replace-bg", team_id="T0001", channel_id="C1", user_id="U1", thread_ts=ts,
              request=asdict(ReplaceBackgroundRequest(prompt="a beach", keep="bag", seed=1)),
              image_source="files", file_ids=(photo["id"],),
              batch={"id": "b1", "index": 0, "total": 1, "progress_ts": progress_ts, "day": today()})
    real_upload, failed = ctx.slack.upload, []

    def upload(channel, thread_ts, uploads, comment=None):
        if uploads[0].filename.endswith(".csv") and not failed:
            failed.append(True)
            raise SlackUnavailable("files.uploadV2 failed: internal_error")
        return real_upload(channel, thread_ts, uploads, comment)

    monkeypatch.setattr(ctx.slack, "upload", upload)
    assert run_job(job, ctx) is Outcome.UNDELIVERED  # the queue will deliver it again
    assert run_job(job, ctx) is Outcome.SUCCEEDED
    assert len([u for u in slack.uploads if u["filename"].endswith(".csv")]) == 1
    assert len([u for u in slack.uploads if u["filename"] == "only-new-background-1.png"]) == 1, \
        "the photo was not redone"
    assert len([u for u in slack.uploads if u["filename"] == SHEET]) == 1
    assert len(bedrock.invocations("OUTPAINTING")) == 1
    [row] = report(slack)
    assert row["outcome"] == "done"


def test_a_finished_batch_posts_a_contact_sheet_beside_the_report(studio: Studio, slack: FakeSlack,
                                                                  bedrock: FakeBedrock) -> None:
    from PIL import Image

    from handlers.contact_sheet import BACKGROUND, PLACEHOLDER, cell_origin

    bedrock.converse_answer = "leather handbag"
    parent = shoot(slack, 9, bad=["truncated jpeg"])
    ask(studio, slack, parent)
    studio.wait_idle(timeout=60)
    [csv_upload] = [u for u in slack.uploads if u["filename"].endswith(".csv")]
    [sheet_upload] = [u for u in slack.uploads if u["filename"] == SHEET]
    assert sheet_upload["thread_ts"] == csv_upload["thread_ts"] == parent
    assert "10 photos before and after, 9 done, 1 failed" in sheet_upload["alt_txt"]
    # Both files are shared in one message, with the report's comment.
    [shared] = [m for m in slack.thread_messages("C1", parent) if len(m.get("files", [])) == 2]
    assert [f["name"] for f in shared["files"]] == ["replace-bg-report.csv", SHEET]
    sheet = Image.open(io.BytesIO(sheet_upload["content"])).convert("RGB")
    rows = report(slack)
    for index, row in enumerate(rows):
        x, y, thumb = cell_origin(index, len(rows))
        middle = (thumb // 2, thumb // 2)
        before = sheet.getpixel((x + middle[0], y + middle[1]))
        after = sheet.getpixel((x + thumb + 12 + middle[0], y + middle[1]))
        if row["outcome"] == "done":
            assert before not in (PLACEHOLDER, BACKGROUND) and after not in (PLACEHOLDER, BACKGROUND), row
        else:
            assert after == PLACEHOLDER, "a failed photo has no result"


def test_a_finished_batch_shows_its_first_results_inline(studio: Studio, slack: FakeSlack,
                                                         bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "leather handbag"
    parent = shoot(slack, 6)
    ask(studio, slack, parent)
    studio.wait_idle(timeout=60)
    [progress] = [m for m in slack.thread_messages("C1", parent) if "in 6 photos" in m.get("text", "")]
    images = [b for b in progress["blocks"] if b["type"] == "image"]
    results = {u["file_id"] for u in slack.uploads if u["filename"].endswith("-new-background-1.png")}
    assert len(images) == 4 and {b["slack_file"]["id"] for b in images} <= results
    assert all(b["alt_text"].startswith("leather handbag on a new background") for b in images)
    assert "6/6 done" in json.dumps(progress["blocks"])
