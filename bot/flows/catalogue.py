"""A ZIP of photos posted in Slack as one batch (a catalogue): checked up front, run photo by photo.

The ZIP never sits whole in memory: here it is spooled to a temporary file and
read one photo at a time, photos run on a pool of threads (enough to keep each
model of the pipeline at its limit of calls, plus a few being prepared) with a
few more than that in memory, and results go straight into a results ZIP on
disk. On AWS (``ctx.catalogue``) the ZIP is copied to S3 in parts, its photos
staged under the batch's prefix, and the state machine does the rest
(``bot.flows.catalogue_aws``). Either way the whole batch is checked against
the quota before anything runs, and a person's second batch waits for the first.
"""

from __future__ import annotations

import logging
import posixpath
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from bot import messages
from bot.catalogue.archive import ArchiveLimits, ArchiveReport, Photo, Skipped, count_photos, read_photos, spool
from bot.catalogue.plan import check_batch_quota
from bot.catalogue.progress import ProgressPacer
from bot.catalogue.results import ReportRow, ResultsZip, csv_bytes, results_zip_name, skipped_row
from bot.catalogue.s3_batch import (
    BatchLayout,
    BatchSpec,
    execution_input,
    put_skipped_row,
    stage_photos,
    start_execution,
)
from bot.catalogue.sheet import SheetPicks, Thumbs
from bot.catalogue.state_machine_step import PhotoOutcome, PhotoOutput
from bot.clients import PREPARING_JOBS, jobs_in_flight
from bot.context import WorkerContext
from bot.errors import NoImageFound, StudioError
from bot.flows.progress import Progress, start_progress
from bot.flows.retry import ModelCaller, quiet_retries
from bot.jobs import Job
from bot.slack.io import Upload
from bot.slack.photo_refs import Photo as SlackFile
from bot.slack.photos import PhotoFinder
from handlers.errors import ModelError

log = logging.getLogger(__name__)
# One batch per person at a time; the claim outlives any batch Studio can run, and is released at its end.
RUNNING_TTL_SECONDS = 6 * 3600
QUEUE_POLL_SECONDS = 2.0

# What a command does to one photo of a ZIP: (ctx, photo name, photo bytes, model caller) -> its result files.
PhotoWork = Callable[[WorkerContext, str, bytes, ModelCaller], PhotoOutcome]
# One photo's part in the batch: its report row, its results (None if it failed), its contact-sheet thumbnails.
Finished = tuple[ReportRow, PhotoOutcome | None, Thumbs | None]


@dataclass(frozen=True)
class ZipBatch:
    """One command's part in a ZIP batch."""

    command: str
    images_per_photo: int  # for the quota check of the whole batch
    work: PhotoWork
    # The progress message's heading: (user id, ZIP name, photos) -> text.
    heading: Callable[[str, str, int], str]
    # The report's second column: what each photo's ``PhotoOutcome.subject`` is (an alt text for /describe alt).
    subject_column: str = "subject"
    # Said where the results would be, by a command that makes no images (its deliverable is the report).
    results_note: str = ""


# A command's ZIP batch from its parsed request (``<flow module>.zip_batch``).
ZipBatchFor = Callable[[dict[str, Any]], ZipBatch]


def run_zip_batch_if_any(job: Job, ctx: WorkerContext, photos: list[SlackFile], zip_batch: ZipBatchFor) -> bool:
    """Run the job as a ZIP batch when its files include a ZIP (the first one); False when they do not."""
    archive = next((photo for photo in photos if photo.is_archive), None)
    if archive is None:
        return False
    run_zip_batch(job, ctx, archive, zip_batch(job.request))
    return True


def numbered_outputs(name: str, suffix: str, images: Iterable[bytes]) -> tuple[PhotoOutput, ...]:
    """A photo's result PNGs as named in the results ZIP, like its uploads would be (``shot-cutout-1.png``)."""
    return tuple(PhotoOutput(f"{photo_stem(name)}-{suffix}-{index}.png", png)
                 for index, png in enumerate(images, start=1))


def photo_stem(name: str) -> str:
    """``spring/shot-01.jpg`` -> ``shot-01``: what a photo's results are named after."""
    return posixpath.splitext(posixpath.basename(name))[0]


def limits_from(ctx: WorkerContext) -> ArchiveLimits:
    return ArchiveLimits(max_photos=ctx.settings.catalogue_max_photos,
                         max_total_bytes=ctx.settings.catalogue_max_bytes)


def run_zip_batch(job: Job, ctx: WorkerContext, archive: SlackFile, batch: ZipBatch) -> None:
    """Run ``batch`` on every photo in ``archive``: here, or on Step Functions when the stack has it."""
    finder = ctx.slack.photos()
    if ctx.catalogue is not None:
        _start_on_aws(job, ctx, archive, batch, finder)
        return
    limits = limits_from(ctx)
    with spool(finder.download_chunks(archive), ctx.settings.catalogue_max_bytes) as spooled:
        zipped = cast(BinaryIO, spooled)
        total = _checked_total(job, ctx, archive, batch, zipped, limits)
        progress = start_progress(job, ctx, batch.heading(job.user_id, archive.name, total), [archive],
                                  status=messages.progress_text(0, total))
        with _one_batch_at_a_time(job, ctx, progress, total):
            _run_here(job, ctx, archive, batch, zipped, limits, progress, total)


def _checked_total(job: Job, ctx: WorkerContext, archive: SlackFile, batch: ZipBatch, zipped: BinaryIO,
                   limits: ArchiveLimits) -> int:
    """Photos the batch will run (refused now if none, or over the quota: nothing has run yet)."""
    total = min(count_photos(zipped, limits), limits.max_photos)
    if total == 0:
        raise NoImageFound("none_in_zip", archive.name)
    check_batch_quota(ctx.quota, job.team_id, job.user_id, total, batch.images_per_photo)
    return total


@contextmanager
def _one_batch_at_a_time(job: Job, ctx: WorkerContext, progress: Progress, total: int) -> Iterator[None]:
    """Wait (saying so) while the same person's earlier batch runs; a second batch is queued, not refused."""
    key = f"catalogue-running:{job.team_id}:{job.user_id}"
    if not ctx.store.claim(key, RUNNING_TTL_SECONDS):
        progress.show(messages.zip_queued())
        while not ctx.store.claim(key, RUNNING_TTL_SECONDS):
            ctx.sleep(QUEUE_POLL_SECONDS)
        progress.show(messages.progress_text(0, total))  # its turn: the line counts again
    try:
        yield
    finally:
        ctx.store.release(key)


def _run_here(job: Job, ctx: WorkerContext, archive: SlackFile, batch: ZipBatch, zipped: BinaryIO,
              limits: ArchiveLimits, progress: Progress, total: int) -> None:
    """Each photo on the pool; results into a ZIP on disk as they finish; then the files in the thread."""
    pacer = ProgressPacer(total, ctx.settings.catalogue_progress_seconds)
    report = ArchiveReport()
    rows: list[ReportRow] = []
    sheet = SheetPicks(batch.command)  # the first photos' thumbnails, for the contact sheet
    failed = 0
    # The same sizing as the local worker pool: every model's slots busy, the next photos getting ready.
    threads = jobs_in_flight(ctx.settings.worker_concurrency)
    with tempfile.TemporaryFile() as out:
        with ResultsZip(out) as results:
            def collect(finished: Future[Finished]) -> None:
                # Only this thread writes the ZIP, the rows and the sheet's picks.
                nonlocal failed
                row, outcome, thumbs = finished.result()
                rows.append(row)
                sheet.offer(row, thumbs)
                failed += row.outcome != "done"
                for output in outcome.outputs if outcome else ():
                    results.add(posixpath.join(posixpath.dirname(row.photo), output.name), output.data)
                # Photos counted by name but found unreadable leave the count (the report lists them).
                pacer.total = total - report.dropped
                line = pacer.update(len(rows), failed)
                if line is not None and len(rows) < pacer.total:
                    progress.show(line)

            with ThreadPoolExecutor(threads, thread_name_prefix="studio-catalogue") as pool:
                pending: set[Future[Finished]] = set()
                for photo in read_photos(zipped, limits, report):
                    pending.add(pool.submit(_one_photo, job, ctx, batch, photo, sheet.wants(photo.name)))
                    if len(pending) >= threads + PREPARING_JOBS:  # bounded: memory flat in the photos
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in finished:
                            collect(future)
                for future in list(pending):
                    collect(future)
            if report.dropped:
                progress.heading = batch.heading(job.user_id, archive.name, len(rows))
            skipped = [skipped_row(entry.name, entry.reason) for entry in report.to_tell]
            report_csv = csv_bytes(sorted(rows, key=lambda row: row.photo) + skipped, batch.subject_column)
            made = results.count
            results.add("report.csv", report_csv)
        size = out.tell()
        out.seek(0)
        _deliver(job, ctx, archive, progress, rows, len(skipped), report_csv,
                 out.read() if made and size <= ctx.settings.catalogue_upload_bytes else None, made, sheet,
                 note=batch.results_note)


def _one_photo(job: Job, ctx: WorkerContext, batch: ZipBatch, photo: Photo, thumbnails: bool) -> Finished:
    """One photo through the command's pipeline; any failure becomes its row, never the batch's end.

    With ``thumbnails`` (the photo may be on the contact sheet), its before/after thumbnails too.
    """
    started = time.monotonic()

    def row(outcome: str, reason: str = "", subject: str = "") -> ReportRow:
        return ReportRow(photo.name, subject, outcome, reason, round(time.monotonic() - started, 2))

    try:
        with ctx.quota.reserve(job.team_id, job.user_id, batch.images_per_photo) as reservation:
            outcome = batch.work(ctx, photo.name, photo.data, quiet_retries(ctx))
            reservation.use(len(outcome.outputs))
    except (ModelError, StudioError) as error:
        return row("failed", messages.plain_reason(error)), None, _thumbs(photo.data, None, thumbnails)
    except Exception as error:
        log.exception("catalogue photo crashed", extra={"job_id": job.id})
        return row("failed", messages.plain_reason(error)), None, _thumbs(photo.data, None, thumbnails)
    return row("done", subject=outcome.subject), outcome, _thumbs(photo.data, outcome, thumbnails)


def _thumbs(data: bytes, outcome: PhotoOutcome | None, wanted: bool) -> Thumbs | None:
    # Made here, on the photo's own thread, while its bytes are still in memory.
    return Thumbs.of(data, outcome.preview if outcome else None) if wanted else None


def _deliver(job: Job, ctx: WorkerContext, archive: SlackFile, progress: Progress, rows: list[ReportRow],
             skipped: int, report_csv: bytes, results_zip: bytes | None, made: int, sheet: SheetPicks,
             note: str = "") -> None:
    """The CSV, the contact sheet (and the results ZIP when it fits Slack's limit) in the thread;
    the progress line's final count."""
    stem = posixpath.splitext(archive.name)[0]
    zip_name = results_zip_name(stem)
    failed = sum(row.outcome != "done" for row in rows)
    uploads = [report_upload(zip_name, report_csv)]
    if results_zip is not None:
        uploads.insert(0, Upload(results_zip, zip_name, "Batch results"))
        where = messages.zip_results_attached(zip_name)
    else:
        where = messages.zip_results_too_big() if made else note or messages.zip_nothing_made()
    png = sheet.png()
    if png is not None:
        uploads.append(sheet_upload(zip_name, png, sheet.alt_text()))
        where = f"{where} {sheet.note()}".rstrip()
    ctx.slack.upload(job.channel_id, progress.thread_ts, uploads,
                     comment=messages.zip_done(job.user_id, len(rows) - failed, failed, skipped, where))
    progress.show(messages.progress_text(len(rows), len(rows), failed), final=True)


def report_upload(zip_name: str, report_csv: bytes) -> Upload:
    """A batch's report CSV as a file, named like its results ZIP (here and from the AWS report step)."""
    return Upload(report_csv, f"{zip_name.removesuffix('-results.zip')}-report.csv", "Batch report")


def sheet_upload(zip_name: str, png: bytes, alt_text: str) -> Upload:
    """A batch's contact sheet as a file, named like its results ZIP (here and from the AWS report step)."""
    return Upload(png, f"{zip_name.removesuffix('-results.zip')}-contact-sheet.png", "Contact sheet",
                  alt_text=alt_text)


def _start_on_aws(job: Job, ctx: WorkerContext, archive: SlackFile, batch: ZipBatch, finder: PhotoFinder) -> None:
    """Copy the ZIP to S3 in parts, check it, stage its photos, and start the state machine."""
    aws = ctx.catalogue
    assert aws is not None
    limits = limits_from(ctx)
    layout = BatchLayout(batch_id_of(job))
    aws.upload_zip(layout, finder.download_chunks(archive), ctx.settings.catalogue_max_bytes)
    report = ArchiveReport()
    with aws.open_zip(layout) as zipped:
        total = _checked_total(job, ctx, archive, batch, zipped, limits)
        progress = start_progress(job, ctx, batch.heading(job.user_id, archive.name, total), [archive],
                                  status=messages.zip_reading(archive.name))
        staged = stage_photos(aws.s3, aws.bucket, layout, read_photos(zipped, limits, report))
    if staged == 0:
        progress.fail(NoImageFound("none_in_zip", archive.name))
    if staged != total:  # photos counted by name but unreadable: the report lists them, the count leaves them
        progress.heading = batch.heading(job.user_id, archive.name, staged)
    launch_on_aws(job, ctx, progress, batch, layout, posixpath.splitext(archive.name)[0], staged, report.to_tell,
                  (aws.bucket, layout.photos_prefix))


def launch_on_aws(job: Job, ctx: WorkerContext, progress: Progress, batch: ZipBatch, layout: BatchLayout,
                  name: str, total: int, skipped: Sequence[Skipped], source: tuple[str, str],
                  folder: bool = False) -> None:
    """Write the skipped files' rows, create the counters, and start the batch's execution over ``source``
    (bucket, prefix), or queue it behind the same person's running batch (its line says so).

    The queue is durable (``bot.catalogue.turns``): the running batch's report step starts the next one.
    """
    aws = ctx.catalogue
    assert aws is not None
    for entry in skipped:
        put_skipped_row(aws.s3, aws.bucket, layout, entry)
    spec = BatchSpec(id=layout.batch_id, name=name, command=batch.command, request=job.request,
                     team_id=job.team_id, channel_id=job.channel_id, user_id=job.user_id,
                     thread_ts=progress.thread_ts, progress_ts=progress.ts, total=total, results_bucket=aws.bucket,
                     extra={"heading": progress.heading, "started": time.time(), "skipped": len(skipped)})
    aws.counters.start(spec.id, total)
    execution = execution_input(spec, *source, folder=folder)
    if aws.turns.admit(spec.team_id, spec.user_id, spec.id, execution):
        progress.show(messages.progress_text(0, total))
        start_execution(aws.sfn, aws.state_machine_arn, execution)
    else:
        progress.show(messages.zip_queued())


def batch_id_of(job: Job) -> str:
    # The job id is unique per request and safe in a key; a redelivered job reuses its batch.
    return job.id[:64]

