"""Several photos in one /replace-bg: one job per photo, one progress line, one report.

The parent job refuses the whole batch up front (size, quota) or fans out a
job per photo. Each photo job records its outcome exactly once, whatever
happens to it, and the last one posts the CSV report and a contact sheet. The
sheet is drawn from thumbnails each photo job keeps in the state store (a few
KB each), so no job holds more than its own photo, whatever the batch's size.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot import messages
from bot.catalogue.sheet import Thumbs
from bot.context import WorkerContext
from bot.errors import BatchTooLarge, KnownError, PhotoInterrupted, QueueUnavailable, StudioError
from bot.flows.photo_io import locate_photos
from bot.flows.progress import Progress, start_progress
from bot.flows.retry import ModelCaller, quiet_retries
from bot.jobs import Job
from bot.slack.blocks import InlineImage
from bot.slack.io import Upload
from bot.slack.photo_refs import MAX_PHOTOS, Photo
from bot.slack.photos import PhotoFinder
from bot.store import BatchProgress
from handlers.contact_sheet import SheetEntry, contact_sheet
from handlers.requests import ReplaceBackgroundRequest

log = logging.getLogger(__name__)
# Claims and rows outlive every redelivery of a photo job.
BATCH_TTL_SECONDS = 7 * 86400
# Longer than any one progress update takes; a lock left by a job that died expires after it.
PROGRESS_LOCK_SECONDS = 60


@dataclass(frozen=True)
class PhotoOutcome:
    """What replacing one photo's background produced."""

    subject: str
    file_ids: list[str]
    images: int
    seeds: tuple[int, ...] = ()
    # The first result image, for the contact sheet's thumbnail (kept only while its photo's job runs).
    preview: bytes | None = None


# Processes one photo of the batch (the photo, its bytes) with the given model caller.
PhotoStep = Callable[[Photo, bytes, ModelCaller], PhotoOutcome]


def start_batch(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, photos: list[Photo]) -> None:
    """Refuse up front if over the batch limit or quota; otherwise fan out one job per photo."""
    if len(photos) > MAX_PHOTOS:
        raise BatchTooLarge(len(photos), MAX_PHOTOS)
    if ctx.enqueue is None:
        raise QueueUnavailable("no queue for a batch")
    # All images are counted now, so the batch is refused whole rather than stopping halfway;
    # each photo gives back what it did not make.
    day = ctx.quota.take(job.team_id, job.user_id, request.count * len(photos))
    try:
        progress = start_progress(job, ctx, messages.batch_started(job.user_id, request, len(photos)), photos,
                                  status=messages.batch_progress(0, 0, len(photos)))
    except StudioError:
        ctx.quota.give_back(job.team_id, job.user_id, request.count * len(photos), day)
        raise
    for index, photo in enumerate(photos):
        child = replace(job, id=f"{job.id}-{index}", image_source="files", file_ids=(photo.file_id,),
                        thread_ts=progress.thread_ts, batch={"id": job.id, "index": index, "total": len(photos),
                                                             "progress_ts": progress.ts, "day": day})
        try:
            ctx.enqueue(child)
        except Exception as error:
            log.exception("could not queue batch photo", extra={"job_id": child.id})
            record_batch_photo(child, ctx, request, photo.name, None, QueueUnavailable(str(error)))


def run_batch_photo(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, finder: PhotoFinder,
                    step: PhotoStep) -> None:
    """One photo of a batch: process it with ``step`` and record the outcome, whatever happens.

    Every path ends in ``record_batch_photo``, so one bad photo (deleted, not an
    image, refused, or a crash) never keeps the batch from completing.
    """
    name = job.file_ids[0] if job.file_ids else "?"
    batch = job.batch or {}
    if not ctx.store.claim(f"batch-photo:{batch['id']}:{batch['index']}", BATCH_TTL_SECONDS):
        # Delivered again (SQS), or retried after a failure: the photo was processed, or cut
        # off part-way; either way it is not processed twice. Only the bookkeeping remains.
        record_batch_photo(job, ctx, request, name, None, PhotoInterrupted())
        return
    outcome: PhotoOutcome | None = None
    error: BaseException | None = None
    data: bytes | None = None
    try:
        photo = locate_photos(job, finder)[0]
        name = photo.name
        data = finder.download(photo)
        outcome = step(photo, data, quiet_retries(ctx))
    except KnownError as failure:
        error = failure
    except Exception as failure:
        log.exception("batch photo crashed", extra={"job_id": job.id})
        error = failure
    _keep_thumbnails(ctx, job, Thumbs.of(data, outcome.preview if outcome else None))
    record_batch_photo(job, ctx, request, name, outcome, error)


def _keep_thumbnails(ctx: WorkerContext, job: Job, thumbs: Thumbs) -> None:
    """Store the photo's before/after thumbnails for the contact sheet; a sheet without them shows placeholders."""
    batch = job.batch or {}
    try:
        ctx.store.put(f"batch-thumbs:{batch['id']}:{batch['index']}", json.dumps(thumbs.to_json()),
                      BATCH_TTL_SECONDS)
    except Exception:  # noqa: BLE001 - the sheet is a bonus; the photo's outcome must still be recorded
        log.warning("could not keep the contact-sheet thumbnails", extra={"job_id": job.id})


def skip_batch_photo(job: Job, ctx: WorkerContext, name: str) -> None:
    """Count a batch photo that Studio was stopped before finishing as interrupted, so the batch completes."""
    batch = job.batch or {}
    # A redelivery does not redo it.
    ctx.store.claim(f"batch-photo:{batch['id']}:{batch['index']}", BATCH_TTL_SECONDS)
    record_batch_photo(job, ctx, ReplaceBackgroundRequest(**job.request), name, None, PhotoInterrupted())


def record_batch_photo(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, name: str,
                       outcome: PhotoOutcome | None, error: BaseException | None) -> None:
    """Count the photo's outcome once, give back unused quota, update progress, report if last."""
    batch = job.batch or {}
    row = {"photo": name, "file_id": job.file_ids[0] if job.file_ids else "",
           "subject": outcome.subject if outcome else "",
           "outcome": "done" if outcome else "interrupted" if isinstance(error, PhotoInterrupted) else "failed",
           "reason": messages.plain_reason(error) if error else "", "images": outcome.images if outcome else 0,
           "results": outcome.file_ids if outcome else []}
    recorded = ctx.store.batch_record(batch["id"], batch["index"], json.dumps(row), batch["total"])
    rows = [json.loads(item) for item in recorded.rows] if recorded.rows is not None else None
    if not recorded.duplicate:  # a redelivered photo job was counted (and its quota settled) before
        ctx.quota.give_back(job.team_id, job.user_id, request.count - (outcome.images if outcome else 0),
                            batch["day"])
        _show_batch_progress(job, ctx, request, recorded, rows)
    # Exactly one job posts the report. If that upload fails, the claim is released so
    # the queue's retry of that job (or another photo's redelivery) can post it.
    report_key = f"batch-report:{batch['id']}"
    if rows is not None and ctx.store.claim(report_key, BATCH_TTL_SECONDS):
        try:
            ctx.slack.upload(job.channel_id, job.thread_ts, [
                Upload(content=batch_report_csv(rows), filename="replace-bg-report.csv",
                       title="Background replacement report"),
                Upload(content=batch_contact_sheet(ctx, batch["id"], rows), filename="replace-bg-contact-sheet.png",
                       title="Contact sheet", alt_text=messages.contact_sheet_alt(rows)),
            ], comment=messages.batch_done(job.user_id, rows, request))
        except StudioError:
            ctx.store.release(report_key)
            raise


def _show_batch_progress(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest,
                         recorded: BatchProgress, rows: list[dict[str, Any]] | None) -> None:
    """Bring the batch's line up to date, one photo job at a time.

    Photo jobs finish in parallel, and an update sent earlier can reach Slack
    later; so only the holder of the batch's progress lock updates the line,
    always with the latest counts, and re-reads them after letting go (a job that
    finished meanwhile found the lock taken and left its count to the holder).
    The job that completes the batch waits its turn and writes the outcome last.
    """
    batch = job.batch or {}
    lock = f"batch-progress:{batch['id']}"
    progress = Progress(ctx, job, messages.batch_started(job.user_id, request, recorded.total),
                        batch["progress_ts"], job.thread_ts or batch["progress_ts"])
    if rows is not None:
        _wait_to_claim(ctx, lock)
        try:
            progress.show(messages.batch_progress(recorded.done, recorded.failed, recorded.total), final=True,
                          images=_shown_results(rows, request))
        finally:
            ctx.store.release(lock)
        return
    shown = -1
    while ctx.store.claim(lock, PROGRESS_LOCK_SECONDS):
        try:
            now = ctx.store.batch_status(batch["id"], recorded.total)
            if now.rows is not None or now.done == shown:
                return  # nothing new, or the last photo's job is writing the outcome
            progress.show(messages.batch_progress(now.done, now.failed, now.total))
            shown = now.done
        finally:
            ctx.store.release(lock)


def _wait_to_claim(ctx: WorkerContext, key: str) -> None:
    """Claim ``key`` once its holder lets go, or once its claim has expired (its holder died)."""
    deadline = time.monotonic() + PROGRESS_LOCK_SECONDS
    while not ctx.store.claim(key, PROGRESS_LOCK_SECONDS) and time.monotonic() < deadline:
        time.sleep(0.05)


def _shown_results(rows: list[dict[str, Any]], request: ReplaceBackgroundRequest) -> list[InlineImage]:
    """The batch's first results, to show in its progress message once it is done."""
    return [(file_id, messages.replaced_alt_text(row["subject"], request.prompt))
            for row in rows for file_id in row.get("results", [])]


def batch_contact_sheet(ctx: WorkerContext, batch_id: str, rows: list[dict[str, Any]]) -> bytes:
    """Every photo's before/after thumbnails, name and outcome in one PNG (placeholders where one is missing)."""
    entries = []
    for index, row in enumerate(rows):
        raw = ctx.store.get(f"batch-thumbs:{batch_id}:{index}")
        thumbs = Thumbs.from_json(json.loads(raw)) if raw else Thumbs()
        entries.append(SheetEntry(name=row["photo"], before=thumbs.before, after=thumbs.after,
                                  outcome=messages.sheet_outcome(row), failed=row["outcome"] != "done"))
    return contact_sheet(entries)


def batch_report_csv(rows: list[dict[str, Any]]) -> bytes:
    """The batch report: one line per photo with its subject, outcome and the reason for any failure."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["photo", "file_id", "subject", "outcome", "reason", "images"],
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
