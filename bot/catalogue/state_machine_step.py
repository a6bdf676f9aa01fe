"""What the catalogue state machine runs: one step per photo, a failure recorder, and the report.

The state machine invokes a Lambda with ``{"catalogue_step": "photo" | "photo_failed" | "report", ...}``
(see ``infra/template.yaml``, ``CatalogueStateMachine``). ``handle_step`` does the work
with what it is given (``StepDeps``), so the processing of one photo stays behind
the small ``PhotoProcessor`` interface and the Slack side behind ``ReportPoster``.

Throttling (``ModelBusy``) is raised, not recorded: Step Functions retries it with
backoff inside the child, and records the photo as failed only when retries run out.
"""

from __future__ import annotations

import json
import logging
import posixpath
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from bot.catalogue.archive import folder_skip_reason, skip_reason_for_name
from bot.catalogue.counters import BatchCounters, BatchCounts
from bot.catalogue.results import ReportRow, ResultsZip, csv_bytes, results_zip_name
from bot.catalogue.s3_batch import BatchLayout, BatchSpec, S3MultipartWriter, put_json
from bot.catalogue.sheet import SheetPicks, Thumbs
from bot.errors import KnownError
from handlers.errors import InvalidImage, ModelBusy
from handlers.images import MAX_FILE_BYTES, open_image

logger = logging.getLogger(__name__)
STEP_KEY = "catalogue_step"


@dataclass(frozen=True)
class PhotoOutput:
    """One result file of a photo (``name`` is relative, e.g. ``shoe.png``)."""

    name: str
    data: bytes
    content_type: str = "image/png"


@dataclass(frozen=True)
class PhotoOutcome:
    """What processing one photo produced."""

    outputs: tuple[PhotoOutput, ...]
    subject: str = ""  # e.g. what keep=auto kept, or the alt text for /describe alt

    @property
    def preview(self) -> bytes | None:
        """The first result image, for the contact sheet (None when the results are not images)."""
        return next((output.data for output in self.outputs if output.content_type.startswith("image/")), None)


class PhotoProcessor(Protocol):
    """Runs one photo through the command's pipeline (the lead plugs in the per-photo flow).

    Raise ``ModelBusy`` to have Step Functions retry; any other ``ModelError``
    (``InvalidImage`` included) or ``StudioError`` makes the photo a failed row.
    """

    def __call__(self, name: str, data: bytes, batch: BatchSpec) -> PhotoOutcome: ...


@dataclass(frozen=True)
class BatchReport:
    """A finished batch, for the Slack side to post (progress line, ZIP or link, CSV)."""

    batch: BatchSpec
    counts: BatchCounts
    bucket: str
    csv_key: str
    zip_key: str
    zip_name: str
    zip_bytes: int
    results: int  # files in the ZIP, report.csv excluded
    listing_error: str | None = None  # the map could not list the prefix at all
    sheet_key: str | None = None  # the contact sheet of the first photos (None when no photo ran)
    sheet_alt: str = ""
    sheet_note: str = ""  # said with the files when the sheet shows only the first photos


class ReportPoster(Protocol):
    def __call__(self, report: BatchReport) -> None: ...


def log_report(report: BatchReport) -> None:
    """A ``ReportPoster`` that only logs, until the Slack one is plugged in."""
    logger.info("catalogue batch %s finished: %s", report.batch.id, asdict(report.counts))


@dataclass
class StepDeps:
    """What the steps need: S3, the counters, the processor and the poster (plus a clock for tests)."""

    s3: Any
    counters: BatchCounters
    processor: PhotoProcessor
    poster: ReportPoster = log_report
    clock: Callable[[], float] = time.monotonic
    max_photo_bytes: int = MAX_FILE_BYTES
    # The report's second column for a batch (see ``bot.catalogue.results.write_csv``).
    subject_column: Callable[[BatchSpec], str] = lambda batch: "subject"


def is_step_event(event: Any) -> bool:
    """True for an event the catalogue state machine sent (for a Lambda handler that serves several kinds)."""
    return isinstance(event, dict) and event.get(STEP_KEY) in {"photo", "photo_failed", "report"}


def handle_step(event: dict[str, Any], deps: StepDeps) -> dict[str, Any]:
    """Run the step ``event`` names; returns a small result (the map discards it)."""
    batch = BatchSpec.from_dict(event["batch"])
    step = event[STEP_KEY]
    if step == "photo":
        return process_photo(batch, event["source"], event["item"], deps)
    if step == "photo_failed":
        error = event.get("error") or {}
        return _finish(batch, event["item"]["Key"], deps, ReportRow(
            _photo_name(event["source"], event["item"]["Key"]), "", "failed",
            str(error.get("Error") or "error"), 0.0), ())
    if step == "report":
        return asdict_report(report_batch(batch, deps, listing_error=_listing_error(event)))
    raise ValueError(f"unknown catalogue step {step!r}")


def process_photo(batch: BatchSpec, source: dict[str, str], item: dict[str, Any], deps: StepDeps) -> dict[str, Any]:
    """Read one photo from S3, process it, write its results and row, count it."""
    key = str(item["Key"])
    name = _photo_name(source, key)
    started = deps.clock()

    def row(outcome: str, reason: str = "", subject: str = "") -> ReportRow:
        return ReportRow(name, subject, outcome, reason, round(deps.clock() - started, 2))

    skip = folder_skip_reason(name) if source.get("folder") else skip_reason_for_name(name)
    if skip is not None:
        # Folder markers, Finder files and (in a person's folder) other files are not photos: not counted
        # here; a folder's batch listed the ones worth telling as skipped before it started.
        return {"photo": name, "outcome": "ignored", "reason": skip}
    if int(item.get("Size", 0)) > deps.max_photo_bytes:
        return _finish(batch, key, deps, row("skipped", "too_large"), ())
    data = deps.s3.get_object(Bucket=source["bucket"], Key=key)["Body"].read(deps.max_photo_bytes + 1)
    try:
        if len(data) > deps.max_photo_bytes:
            raise InvalidImage("file_too_large")
        open_image(data).close()
    except InvalidImage as error:
        return _finish(batch, key, deps, row("skipped", error.code), ())
    try:
        outcome = deps.processor(name, data, batch)
    except ModelBusy:
        raise  # Step Functions retries it with backoff
    except InvalidImage as error:
        return _finish(batch, key, deps, row("failed", error.code), (), Thumbs.of(data, None))
    except KnownError as error:
        return _finish(batch, key, deps, row("failed", _reason(error)), (), Thumbs.of(data, None))
    return _finish(batch, key, deps, row("done", subject=outcome.subject), outcome.outputs,
                   Thumbs.of(data, outcome.preview))


def _finish(batch: BatchSpec, key: str, deps: StepDeps, row: ReportRow,
            outputs: tuple[PhotoOutput, ...], thumbs: Thumbs | None = None) -> dict[str, Any]:
    """Write the photo's results and its row (with its thumbnails, a few KB, for the report's contact sheet)."""
    layout = BatchLayout(batch.id)
    keys = []
    for output in outputs:
        result_key = layout.result_key(row.photo, output.name)
        deps.s3.put_object(Bucket=batch.results_bucket, Key=result_key, Body=output.data,
                           ContentType=output.content_type)
        keys.append(result_key)
    put_json(deps.s3, batch.results_bucket, layout.row_key(key),
             {**asdict(row), "outputs": keys, "thumbs": thumbs.to_json() if thumbs else {}})
    counts, counted = deps.counters.record(batch.id, key, failed=row.outcome != "done")
    return {"photo": row.photo, "outcome": row.outcome, "reason": row.reason, "counted": counted,
            "done": counts.done, "failed": counts.failed, "total": counts.total}


def report_batch(batch: BatchSpec, deps: StepDeps, listing_error: str | None = None) -> BatchReport:
    """Write ``report.csv``, the contact sheet and ``<name>-results.zip`` (streamed to S3 in parts),
    then post the report."""
    layout = BatchLayout(batch.id)
    bucket = batch.results_bucket
    sheet = SheetPicks(batch.command)  # only the first photos' thumbnails stay in memory, however many rows there are
    rows = []
    for row, outputs, thumbs in _rows(deps.s3, bucket, layout):
        sheet.offer(row, thumbs)
        rows.append((row, outputs))
    rows.sort(key=lambda r: r[0].photo)
    report_csv = csv_bytes((row for row, _ in rows), deps.subject_column(batch))
    deps.s3.put_object(Bucket=bucket, Key=layout.report_key, Body=report_csv, ContentType="text/csv")
    png = sheet.png()
    if png is not None:
        deps.s3.put_object(Bucket=bucket, Key=layout.sheet_key, Body=png, ContentType="image/png")
    zip_name = results_zip_name(batch.name)
    writer = S3MultipartWriter(deps.s3, bucket, layout.zip_key(zip_name))
    with writer, ResultsZip(writer) as results:
        for row, outputs in rows:
            # An output's name may have folders of its own (/formats: ``<photo stem>/<format>.png``).
            photo_results = layout.result_key(row.photo, "")
            for result_key in outputs:
                data = deps.s3.get_object(Bucket=bucket, Key=result_key)["Body"].read()
                results.add(posixpath.join(posixpath.dirname(row.photo), result_key.removeprefix(photo_results)),
                            data)
        count = results.count
        results.add("report.csv", report_csv)
    zip_bytes = writer.tell()
    report = BatchReport(batch, deps.counters.counts(batch.id), bucket, layout.report_key,
                         layout.zip_key(zip_name), zip_name, zip_bytes, count, listing_error,
                         layout.sheet_key if png is not None else None, sheet.alt_text(), sheet.note())
    deps.poster(report)
    return report


def asdict_report(report: BatchReport) -> dict[str, Any]:
    """The report step's output: small, without the batch's request."""
    return {"batch": report.batch.id, "counts": asdict(report.counts), "csv_key": report.csv_key,
            "zip_key": report.zip_key, "zip_bytes": report.zip_bytes, "results": report.results,
            "listing_error": report.listing_error, "sheet_key": report.sheet_key}


def _rows(s3: Any, bucket: str, layout: BatchLayout) -> Iterator[tuple[ReportRow, list[str], Thumbs]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=layout.rows_prefix):
        for entry in page.get("Contents", []):
            data = json.loads(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            outputs = data.pop("outputs", [])
            thumbs = Thumbs.from_json(data.pop("thumbs", None))
            yield ReportRow(**data), outputs, thumbs


def _photo_name(source: dict[str, str], key: str) -> str:
    prefix = source.get("prefix", "")
    return key[len(prefix):] if prefix and key.startswith(prefix) else key


def _listing_error(event: dict[str, Any]) -> str | None:
    error = event.get("map_error")
    return str(error.get("Error")) if isinstance(error, dict) else None


def _reason(error: Exception) -> str:
    code = getattr(error, "code", None) or getattr(error, "reason", None)
    return str(code) if code else type(error).__name__
