"""The catalogue state machine's steps in the worker Lambda: each photo through its command's flow, then Slack.

``step_deps`` plugs the per-photo flow (``ZipBatch.work``, the same pipeline a
single photo runs, without posting to Slack) and the report poster into
``bot.catalogue.state_machine_step``. Throttling is not retried here: ``ModelBusy``
goes back to Step Functions, which retries the child with backoff.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from bot import messages
from bot.catalogue.s3_batch import BatchSpec, start_execution
from bot.catalogue.state_machine_step import (
    STEP_KEY,
    BatchReport,
    PhotoOutcome,
    PhotoProcessor,
    ReportPoster,
    StepDeps,
    handle_step,
)
from bot.context import WorkerContext
from bot.errors import StudioError
from bot.flows import describe, formats, remove_bg, replace_bg, upscale
from bot.flows.catalogue import ZipBatchFor, report_upload, sheet_upload
from bot.slack.blocks import text_blocks
from bot.slack.io import Upload

T = TypeVar("T")
# The commands a ZIP batch may run, by name, with how each handles one photo.
ZIP_BATCHES: dict[str, ZipBatchFor] = {
    "replace-bg": replace_bg.zip_batch,
    "remove-bg": remove_bg.zip_batch,
    "upscale": upscale.zip_batch,
    "formats": formats.zip_batch,
    "describe": describe.zip_batch,  # /describe alt: the alt texts are the report
}
# The Lambda reads the results ZIP into memory to upload it to Slack; past this it posts a link.
LAMBDA_UPLOAD_BYTES = 256 * 1024 * 1024
REPORT_CLAIM_SECONDS = 14 * 86400
# What Step Functions sends EventBridge when an execution's status changes.
STOPPED_DETAIL_TYPE = "Step Functions Execution Status Change"


def step_deps(ctx: WorkerContext) -> StepDeps:
    """What the steps run with: the stack's bucket and counters, this command's flow, the Slack poster."""
    if ctx.catalogue is None:
        raise StudioError("catalogue batches are not configured (STUDIO_CATALOGUE_BUCKET)")
    return StepDeps(ctx.catalogue.s3, ctx.catalogue.counters, photo_processor(ctx), report_poster(ctx),
                    subject_column=lambda batch: ZIP_BATCHES[batch.command](batch.request).subject_column)


def run_step(event: dict[str, Any], ctx: WorkerContext, deps: StepDeps) -> dict[str, Any]:
    """Run one step; after a photo, move the progress line on (at most once per interval across Lambdas).

    The report step ends the batch however it goes (posted, or failed posting): the person's turn
    passes on either way, so a report Slack refused cannot hold their next batch back.
    """
    if event[STEP_KEY] == "report":
        try:
            return handle_step(event, deps)
        finally:
            pass_turn_on(ctx, BatchSpec.from_dict(event["batch"]))
    result = handle_step(event, deps)
    if event[STEP_KEY] in ("photo", "photo_failed") and result.get("counted"):
        show_progress(ctx, BatchSpec.from_dict(event["batch"]), int(result["done"]), int(result["failed"]))
    return result


def photo_processor(ctx: WorkerContext) -> PhotoProcessor:
    """One photo through its command's pipeline, counted against the person's quota like any other."""
    def process(name: str, data: bytes, batch: BatchSpec) -> PhotoOutcome:
        work = ZIP_BATCHES[batch.command](batch.request)
        with ctx.quota.reserve(batch.team_id, batch.user_id, work.images_per_photo) as reservation:
            outcome = work.work(ctx, name, data, _once)
            reservation.use(len(outcome.outputs))
        return outcome

    return process


def _once(call: Callable[[], T]) -> T:
    # ModelBusy propagates: the state machine's Retry backs off inside the child.
    return call()


def show_progress(ctx: WorkerContext, batch: BatchSpec, done: int, failed: int) -> None:
    """Edit the batch's progress line from the counters, once per interval whichever Lambda gets there first."""
    if batch.progress_ts is None or done >= batch.total:
        return  # the report step writes the final line
    window = int(time.time() // max(1.0, ctx.settings.catalogue_progress_seconds))
    if not ctx.store.claim(f"catalogue-progress:{batch.id}:{window}", 3600):
        return
    started = float(batch.extra.get("started") or time.time())
    elapsed = time.time() - started
    left = elapsed / done * (batch.total - done) if done and elapsed > 0 else None
    heading = str(batch.extra.get("heading") or "")
    ctx.slack.update(batch.channel_id, batch.progress_ts, heading,
                     text_blocks(heading, messages.progress_text(done, batch.total, failed, left)), best_effort=True)


def pass_turn_on(ctx: WorkerContext, batch: BatchSpec) -> None:
    """End ``batch``'s turn: start the same person's next waiting batch, if any, and say it has started."""
    aws = ctx.catalogue
    assert aws is not None
    following = aws.turns.pass_on(batch.team_id, batch.user_id, batch.id)
    if following is None:
        return
    start_execution(aws.sfn, aws.state_machine_arn, following.execution)
    spec = BatchSpec.from_dict(following.execution["batch"])
    if spec.progress_ts is not None and not following.again:
        heading = str(spec.extra.get("heading") or "")
        ctx.slack.update(spec.channel_id, spec.progress_ts, heading,
                         text_blocks(heading, messages.progress_text(0, spec.total)), best_effort=True)


def is_batch_stopped_event(event: Any) -> bool:
    """An EventBridge event: a catalogue execution failed, was stopped or timed out (see the template)."""
    return isinstance(event, dict) and event.get("detail-type") == STOPPED_DETAIL_TYPE


def batch_stopped(event: dict[str, Any], ctx: WorkerContext) -> None:
    """A batch's execution ended without its report step: say so on its line, and pass the turn on."""
    detail = event.get("detail") or {}
    execution = json.loads(detail.get("input") or "{}")
    if not isinstance(execution, dict) or "batch" not in execution or STEP_KEY in execution:
        return  # not a batch's own execution (a map child's input names its step)
    batch = BatchSpec.from_dict(execution["batch"])
    if batch.progress_ts is not None:
        heading = str(batch.extra.get("heading") or "")
        ctx.slack.finish(batch.channel_id, batch.progress_ts, heading,
                         text_blocks(heading, messages.batch_stopped(str(detail.get("status") or "FAILED"))),
                         batch.thread_ts)
    pass_turn_on(ctx, batch)


def report_poster(ctx: WorkerContext) -> ReportPoster:
    """Post the finished batch once: the CSV, the contact sheet, the results ZIP (or a presigned link),
    and the final count."""
    def post(report: BatchReport) -> None:
        aws = ctx.catalogue
        assert aws is not None
        batch = report.batch
        claim = f"catalogue-report:{batch.id}"
        if not ctx.store.claim(claim, REPORT_CLAIM_SECONDS):
            return  # the report step ran again (a Lambda retry): it was posted already
        try:
            report_csv = aws.s3.get_object(Bucket=report.bucket, Key=report.csv_key)["Body"].read()
            uploads = [report_upload(report.zip_name, report_csv)]
            if report.results == 0:
                where = ZIP_BATCHES[batch.command](batch.request).results_note or messages.zip_nothing_made()
            elif report.zip_bytes <= min(ctx.settings.catalogue_upload_bytes, LAMBDA_UPLOAD_BYTES):
                data = aws.s3.get_object(Bucket=report.bucket, Key=report.zip_key)["Body"].read()
                uploads.insert(0, Upload(data, report.zip_name, "Batch results"))
                where = messages.zip_results_attached(report.zip_name)
            else:
                where = messages.zip_results_link(*aws.link(report.zip_key, ctx.store))
            if report.sheet_key is not None:
                sheet = aws.s3.get_object(Bucket=report.bucket, Key=report.sheet_key)["Body"].read()
                uploads.append(sheet_upload(report.zip_name, sheet, report.sheet_alt))
                where = f"{where} {report.sheet_note}".rstrip()
            counts = report.counts
            ctx.slack.upload(batch.channel_id, batch.thread_ts, uploads, comment=messages.zip_done(
                batch.user_id, counts.done - counts.failed, counts.failed, int(batch.extra.get("skipped") or 0),
                where))
        except BaseException:
            ctx.store.release(claim)  # the step's retry posts it
            raise
        if batch.progress_ts is not None:
            heading = str(batch.extra.get("heading") or "")
            ctx.slack.finish(batch.channel_id, batch.progress_ts, heading,
                             text_blocks(heading, messages.progress_text(counts.done, counts.total, counts.failed)),
                             batch.thread_ts)

    return post
