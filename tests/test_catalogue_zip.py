"""ZIP batches on the local runtime: a ZIP posted in Slack, then /replace-bg, a mention or the shortcut."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections import Counter
from typing import Any

from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import small_jpeg
from tests.test_photo_flows import submit_modal

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def catalogue(count: int) -> bytes:
    return zip_of({f"spring/shot-{index:02d}.jpg": small_jpeg(96 + index, 80) for index in range(count)})


def post_zip(slack: FakeSlack, content: bytes, name: str = "spring.zip", user: str = "U1") -> str:
    """A person posts a ZIP in C1, labelled as Slack labels one; returns the message ts."""
    file = slack.add_file(content, name=name, mimetype="application/zip", user=user)
    assert file["filetype"] == "zip"
    return slack.post_user_message("C1", user, "this season's shots", files=[file])


def uploads_in(slack: FakeSlack, thread: str, suffix: str) -> list[dict[str, Any]]:
    return [u for u in slack.uploads if u["filename"].endswith(suffix) and u["thread_ts"] == thread]


def csv_rows(upload: dict[str, Any]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(upload["content"].decode("utf-8-sig"))))


def progress_messages(slack: FakeSlack, thread: str) -> list[dict[str, Any]]:
    return [m for m in slack.thread_messages("C1", thread) if m.get("bot_id") and "photos of" in m.get("text", "")]


def test_a_zip_of_30_photos_and_replace_bg_gives_one_progress_message_a_results_zip_and_a_csv(
        studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "sneaker"
    ts = post_zip(slack, catalogue(30))
    studio.slash("/replace-bg", "keep=auto studio backdrop")
    studio.wait_idle(timeout=120)

    [progress] = progress_messages(slack, ts)
    assert "30/30 done" in json.dumps(progress["blocks"])
    [results] = uploads_in(slack, ts, "-results.zip")
    assert results["filename"] == "spring-results.zip"
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        images = [name for name in archive.namelist() if name.endswith(".png")]
        assert len(images) == 30 and all(name.startswith("spring/shot-") for name in images)
        assert archive.read(images[0])[:8] == b"\x89PNG\r\n\x1a\n"
    [report] = uploads_in(slack, ts, ".csv")
    rows = csv_rows(report)
    assert len(rows) == 30 and {row["outcome"] for row in rows} == {"done"}
    assert {row["subject"] for row in rows} == {"sneaker"}
    assert list(rows[0]) == ["photo", "subject", "outcome", "reason", "seconds"]
    assert uploads_in(slack, ts, "-contact-sheet.png")
    # Nothing but the batch's files reached the thread (no per-photo uploads).
    assert not [u for u in slack.uploads if u["filename"].endswith(".png") and u["title"] != "Contact sheet"]


def test_next_photos_are_cut_out_while_others_wait_on_the_vision_model(make_studio: Any, slack: FakeSlack,
                                                                      bedrock: FakeBedrock) -> None:
    """Calls are bounded per model, so with two workers more than two photos are in flight: while two
    vision checks are held, the next photos still get their cut-outs."""
    studio = make_studio(worker_concurrency=2)
    held: list[bool] = []

    def cutouts() -> int:
        return sum(call.ok and call.model_id.endswith("remove-background-v1:0") for call in bedrock.calls)

    def answer(body: dict[str, Any]) -> str:
        deadline = time.monotonic() + 5
        while cutouts() < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        held.append(cutouts() >= 5)
        return "sneaker"

    bedrock.converse_answer = answer
    ts = post_zip(slack, catalogue(8))
    studio.slash("/replace-bg", "keep=auto studio backdrop")
    studio.wait_idle(timeout=120)
    assert held[:2] == [True, True]
    [report] = uploads_in(slack, ts, ".csv")
    assert [row["outcome"] for row in csv_rows(report)] == ["done"] * 8


def test_unsafe_and_non_photo_entries_are_skipped_and_listed(studio: Studio, slack: FakeSlack,
                                                             bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "bottle"
    ts = post_zip(slack, zip_of({"bottle.jpg": small_jpeg(), "spec-sheet.pdf": PDF,
                                 "../../etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n"}), name="mixed.zip")
    mention = slack.post_user_message("C1", "U1", "<@UBOT> replace-bg keep=auto london city background",
                                      thread_ts=ts)
    studio.event(slack.message_event("C1", mention, event_type="app_mention"))
    studio.wait_idle(timeout=60)

    [report] = uploads_in(slack, ts, ".csv")
    rows = {row["photo"]: row for row in csv_rows(report)}
    assert rows["bottle.jpg"]["outcome"] == "done"
    assert rows["spec-sheet.pdf"]["outcome"] == "skipped" and rows["spec-sheet.pdf"]["reason"].startswith("not a photo")
    assert rows["../../etc/passwd"]["outcome"] == "skipped" and rows["../../etc/passwd"]["reason"].startswith("unsafe name")
    [results] = uploads_in(slack, ts, "-results.zip")
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        assert sorted(archive.namelist()) == ["bottle-new-background-1.png", "report.csv"]


def test_files_named_as_photos_that_are_not_keep_one_count_on_the_line(make_studio: Any, slack: FakeSlack,
                                                                       bedrock: FakeBedrock) -> None:
    # Counted by name before the run, found out when read: the line's count must shrink with them,
    # not say 1/4 and then 2/2.
    bedrock.converse_answer = "bottle"
    studio = make_studio(catalogue_progress_seconds=0)
    ts = post_zip(slack, zip_of({"a.jpg": small_jpeg(), "page.jpg": b"<!doctype html><html>sign in</html>",
                                 "empty.jpg": b"", "b.jpg": small_jpeg(90, 70)}), name="mixed.zip")
    studio.slash("/remove-bg", "")
    studio.wait_idle(timeout=60)

    [progress] = progress_messages(slack, ts)
    lines = [json.dumps(call["blocks"]) for call in slack.calls_to("chat.update") if call["ts"] == progress["ts"]]
    counts = [line for line in lines if " done" in line]
    assert counts and all("/2 done" in line for line in counts), counts
    assert "each of the 2 photos" in progress["text"], "the heading ends with the count that ran"
    [report] = uploads_in(slack, ts, ".csv")
    assert {row["photo"]: row["outcome"] for row in csv_rows(report)} == {
        "a.jpg": "done", "b.jpg": "done", "page.jpg": "skipped", "empty.jpg": "skipped"}


def test_the_replace_background_shortcut_on_a_zip_runs_the_batch(studio: Studio, slack: FakeSlack,
                                                                bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "lamp"
    ts = post_zip(slack, catalogue(3))
    studio.interact(slack.message_shortcut_payload("C1", ts, "replace_background"))
    submit_modal(studio, slack, {"background": "a marble table", "keep": "auto"})
    studio.wait_idle(timeout=60)

    [report] = uploads_in(slack, ts, ".csv")
    assert Counter(row["outcome"] for row in csv_rows(report)) == {"done": 3}


def test_a_batch_over_the_daily_quota_is_refused_with_what_is_left(make_studio: Any, slack: FakeSlack,
                                                                   bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=20)
    post_zip(slack, catalogue(30))
    studio.slash("/replace-bg", "keep=auto studio backdrop")
    studio.wait_idle(timeout=60)

    note = json.dumps(slack.responses)
    assert "30 photos" in note and "20 left" in note
    assert bedrock.calls == [] and slack.uploads == []


def test_a_second_batch_from_the_same_person_is_queued_then_runs(studio: Studio, slack: FakeSlack,
                                                                 bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "chair"
    bedrock.latency = 0.2
    first = post_zip(slack, catalogue(6), name="first.zip")
    studio.slash("/replace-bg", "keep=auto a loft")
    slack.wait_for(lambda: bool(progress_messages(slack, first)), timeout=20)
    second = post_zip(slack, catalogue(2), name="second.zip")
    studio.slash("/replace-bg", "keep=auto a garden", response_key="r2")
    studio.wait_idle(timeout=120)

    queued = [u for u in slack.updates if "Queued" in json.dumps(u.get("blocks"))]
    assert queued, "the second batch said it was queued"
    first_done = [u for u in slack.uploads if u["filename"] == "first-results.zip"]
    second_done = [u for u in slack.uploads if u["filename"] == "second-results.zip"]
    assert first_done and second_done
    assert slack.uploads.index(first_done[0]) < slack.uploads.index(second_done[0])
    assert second_done[0]["thread_ts"] == second
