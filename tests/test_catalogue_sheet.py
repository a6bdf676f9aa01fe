"""A ZIP batch's contact sheet: drawn from the first photos' thumbnails, locally and by the AWS report step."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from PIL import Image

from bot import messages
from bot.catalogue.counters import BatchCounters
from bot.catalogue.results import ReportRow
from bot.catalogue.sheet import SheetPicks, Thumbs
from bot.catalogue.state_machine_step import BatchReport, PhotoOutcome, PhotoOutput, StepDeps, handle_step
from handlers.contact_sheet import BACKGROUND, GAP, PLACEHOLDER, cell_origin
from handlers.errors import ModelBlocked
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.lambda_events import LambdaContext, sqs_event
from tests.photos import encode, small_jpeg
from tests.test_catalogue_aws import BUCKET, photo_event, spec, staged
from tests.test_catalogue_aws import aws as aws_s3
from tests.test_catalogue_lambda import catalogue, map_items, started_execution, zip_job
from tests.test_catalogue_zip import catalogue as catalogue_zip
from tests.test_catalogue_zip import post_zip, uploads_in, zip_of
from tests.test_lambda import Aws, aws, fresh

__all__ = ["aws", "aws_s3", "catalogue"]  # fixtures
TRUNCATED = small_jpeg(640, 480)[:3000]


def tiles(sheet: Image.Image, count: int) -> list[tuple[bool, bool]]:
    """For each of ``count`` cells: whether its before and its after thumbnail show a picture."""
    shown = []
    for index in range(count):
        x, y, thumb = cell_origin(index, count)
        before = sheet.getpixel((x + thumb // 2, y + thumb // 2))
        after = sheet.getpixel((x + thumb + GAP + thumb // 2, y + thumb // 2))
        shown.append((before not in (PLACEHOLDER, BACKGROUND), after not in (PLACEHOLDER, BACKGROUND)))
    return shown


def decoded(upload: dict[str, Any]) -> Image.Image:
    image = Image.open(io.BytesIO(upload["content"]))
    assert image.format == "PNG"
    return image.convert("RGB")


def test_a_zip_batch_posts_its_contact_sheet_with_the_report_and_the_results(
        studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "sneaker"
    ts = post_zip(slack, zip_of({"a.jpg": small_jpeg(), "b.jpg": small_jpeg(), "c-broken.jpg": TRUNCATED,
                                 "notes.pdf": b"%PDF-1.7\n%%EOF\n"}))
    studio.slash("/replace-bg", "keep=auto studio backdrop")
    studio.wait_idle(timeout=60)

    [sheet_upload] = uploads_in(slack, ts, "-contact-sheet.png")
    assert sheet_upload["filename"] == "spring-contact-sheet.png"
    assert sheet_upload["alt_txt"] == "Contact sheet: 3 photos before and after, 2 done, 1 failed"
    # One message shares the results, the report and the sheet, with the batch's comment.
    [shared] = [m for m in slack.thread_messages("C1", ts) if m.get("files")]
    assert [f["name"] for f in shared["files"]] == ["spring-results.zip", "spring-report.csv",
                                                    "spring-contact-sheet.png"]
    assert "shows the first" not in shared["text"]
    # One tile per photo that ran (the PDF is only in the report), in the report's order;
    # the failed photo has placeholders.
    assert tiles(decoded(sheet_upload), 3) == [(True, True), (True, True), (False, False)]


def test_the_sheet_grows_with_the_photos_and_shows_the_first_100(make_studio: Any, slack: FakeSlack,
                                                                 bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=500)
    bedrock.converse_answer = "sneaker"
    sizes = []
    for count, name in ((2, "two.zip"), (5, "five.zip"), (101, "many.zip")):
        ts = post_zip(slack, catalogue_zip(count), name=name)
        studio.slash("/replace-bg", "keep=auto studio backdrop", response_key=name)
        studio.wait_idle(timeout=120)
        [sheet_upload] = uploads_in(slack, ts, "-contact-sheet.png")
        sheet = decoded(sheet_upload)
        sizes.append(sheet.size)
        shown = min(count, 100)
        assert tiles(sheet, shown) == [(True, True)] * shown

    (w2, h2), (w5, h5), (w101, h101) = sizes
    assert w2 < w5 and h2 < h5 and h5 < h101
    # The 101st photo has no tile: its cell, in the last row beside the 100th, is blank.
    x, y, thumb = cell_origin(100, 101)
    assert y + thumb < h101 and sheet.getpixel((x + thumb // 2, y + thumb // 2)) == BACKGROUND
    assert sheet_upload["alt_txt"] == "Contact sheet: the first 100 of 101 photos before and after, 100 done, 0 failed"
    [shared] = [m for m in slack.thread_messages("C1", ts) if m.get("files")]
    assert "The contact sheet shows the first 100 of the 101 photos" in shared["text"]


def test_a_sheet_that_cannot_be_drawn_never_costs_the_results(studio: Studio, slack: FakeSlack,
                                                              bedrock: FakeBedrock,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise MemoryError("no room for the sheet")

    monkeypatch.setattr("bot.catalogue.sheet.contact_sheet", broken)
    bedrock.converse_answer = "sneaker"
    ts = post_zip(slack, catalogue_zip(2))
    studio.slash("/replace-bg", "keep=auto studio backdrop")
    studio.wait_idle(timeout=60)
    [shared] = [m for m in slack.thread_messages("C1", ts) if m.get("files")]
    assert [f["name"] for f in shared["files"]] == ["spring-results.zip", "spring-report.csv"]


def row(name: str, outcome: str = "done") -> ReportRow:
    return ReportRow(name, "", outcome, "" if outcome == "done" else "why", 1.0)


def test_the_picks_keep_only_the_first_photos_by_name_whatever_order_they_finish_in() -> None:
    names = [f"shot-{index:03d}.jpg" for index in range(40)]
    random.Random(7).shuffle(names)
    picks = SheetPicks("replace-bg", limit=5)
    thumb = Thumbs(before=b"before", after=None)
    for name in names:
        picks.offer(row(name), thumb if picks.wants(name) else None)
        assert picks.shown <= 5  # never more than the limit held, however many photos
    picks.offer(row("aaa.pdf", "skipped"), None)  # not a photo that ran: not on the sheet, not counted

    assert picks.photos == 40 and picks.shown == 5
    # Once full, a photo is worth its thumbnails only if it would come before the last one kept.
    assert picks.wants("shot-003.jpg") and not picks.wants("shot-004.jpg") and not picks.wants("shot-039.jpg")
    assert picks.alt_text() == "Contact sheet: the first 5 of 40 photos before and after, 5 done, 0 failed"
    assert picks.note() == "The contact sheet shows the first 5 of the 40 photos, in the report's order."
    assert SheetPicks("replace-bg").note() == "" and SheetPicks("replace-bg").png() is None


def test_a_sheet_line_says_kept_only_for_the_commands_that_keep_a_subject() -> None:
    done = {"outcome": "done", "subject": "a red shoe", "reason": ""}
    assert messages.sheet_outcome(done, "replace-bg") == "done · kept: a red shoe"
    assert messages.sheet_outcome(done, "describe") == "done · a red shoe"  # e.g. an alt text
    assert messages.sheet_outcome({**done, "outcome": "failed", "reason": "blocked"}, "describe") == "failed: blocked"


def test_thumbnails_travel_in_a_row_as_json() -> None:
    thumbs = Thumbs.of(small_jpeg(), encode(Image.new("RGB", (900, 700), (10, 200, 10)), "PNG"))
    assert thumbs.before and thumbs.after and len(thumbs.before) < 10_000 and len(thumbs.after) < 10_000
    assert Thumbs.from_json(json.loads(json.dumps(thumbs.to_json()))) == thumbs
    assert Thumbs.of(TRUNCATED, None) == Thumbs() == Thumbs.from_json(None)


class PngProcessor:
    """The per-photo flow's stand-in: a green PNG per photo; ``blocked`` names fail."""

    def __call__(self, name: str, data: bytes, batch: Any) -> PhotoOutcome:
        if "blocked" in name:
            raise ModelBlocked("filter")
        return PhotoOutcome((PhotoOutput("result.png", encode(Image.new("RGB", (640, 480), (20, 180, 60)), "PNG")),),
                            subject="sneaker")


def test_the_report_step_draws_the_sheet_from_the_thumbnails_in_the_rows(aws_s3: dict[str, Any]) -> None:
    batch = spec(total=3)
    items = staged(aws_s3, batch, {"a.jpg": small_jpeg(), "b-blocked.jpg": small_jpeg(), "c.jpg": small_jpeg(),
                                   "notes.pdf": b"%PDF-1.7\n%%EOF\n"})
    counters: BatchCounters = aws_s3["counters"]
    counters.start(batch.id, 3)
    posted: list[BatchReport] = []
    deps = StepDeps(aws_s3["s3"], counters, PngProcessor(), poster=posted.append)
    for item in items:
        handle_step(photo_event(batch, item["Key"], item["Size"]), deps)
    # Each photo's row carries its thumbnails (a few KB), so the report step never re-reads photos or results.
    s3 = aws_s3["s3"]
    rows = [s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="batches/B1/rows/")["Contents"]]
    assert all(len(body) < 30_000 for body in rows)
    assert sorted(sorted(json.loads(body)["thumbs"]) for body in rows) == [["after", "before"], ["after", "before"],
                                                                          ["before"]]

    handle_step({"catalogue_step": "report", "batch": photo_event(batch, "", 0)["batch"]}, deps)
    [report] = posted
    assert report.sheet_key == "batches/B1/contact-sheet.png"
    assert report.sheet_alt == "Contact sheet: 3 photos before and after, 2 done, 1 failed" and report.sheet_note == ""
    sheet = Image.open(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=report.sheet_key)["Body"].read())).convert("RGB")
    assert tiles(sheet, 3) == [(True, True), (True, False), (True, True)]
    x, y, thumb = cell_origin(0, 3)
    after = sheet.getpixel((x + thumb + GAP + thumb // 2, y + thumb // 2))
    assert max(abs(a - b) for a, b in zip(after, (20, 180, 60), strict=True)) <= 3, "the result's thumbnail"


def test_on_aws_the_sheet_is_posted_with_the_report(aws: Aws, catalogue: dict[str, Any], slack: FakeSlack,
                                                    bedrock: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> None:
    bedrock.converse_answer = "sneaker"
    monkeypatch.setenv("STUDIO_CATALOGUE_UPLOAD_BYTES", "1")  # the results as a link: the sheet still comes
    worker = fresh("bot.runtime.lambda_worker")
    job, ts = zip_job(slack, {"a.jpg": small_jpeg(), "b/c.jpg": small_jpeg(), "spec.pdf": b"%PDF-1.7\n%%EOF\n"})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    execution = started_execution(catalogue)
    for item in map_items(catalogue["s3"], execution["source"]["prefix"]):
        worker.handler({"catalogue_step": "photo", **execution, "item": item}, LambdaContext())
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())

    [shared] = [m for m in slack.thread_messages("C1", ts) if m.get("files")]
    assert [f["name"] for f in shared["files"]] == ["spring-report.csv", "spring-contact-sheet.png"]
    [sheet_upload] = [u for u in slack.uploads if u["filename"] == "spring-contact-sheet.png"]
    assert sheet_upload["alt_txt"] == "Contact sheet: 2 photos before and after, 2 done, 0 failed"
    assert tiles(decoded(sheet_upload), 2) == [(True, True), (True, True)]
