"""What /formats (and the All formats button) does: every social format of one photo, in its thread."""

from __future__ import annotations

import time
from typing import Any

from bot import messages
from bot.catalogue.state_machine_step import PhotoOutcome as ZipPhotoOutcome
from bot.catalogue.state_machine_step import PhotoOutput
from bot.context import WorkerContext
from bot.errors import KnownError
from bot.flows.catalogue import ZipBatch, photo_stem, run_zip_batch_if_any
from bot.flows.photo_io import locate_photos
from bot.flows.progress import start_progress
from bot.flows.retry import ModelCaller
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.io import Upload
from handlers.errors import ModelBlocked
from handlers.format_maker import FormatResult, make_formats
from handlers.formats import FormatTarget, check_photo_size, format_file_name, parse_format_setting
from handlers.images import upright_size
from handlers.model_table import Role
from handlers.models import image_model_spec
from handlers.requests import FormatsRequest


def run_formats(job: Job, ctx: WorkerContext) -> None:
    """Make each asked format of the newest photo at its exact size; one message lists them all.

    A photo too small for a format is refused privately before anything is
    posted or counted; the quota counts one image per format delivered. A ZIP
    makes it a batch: every format of each photo (``zip_batch``).
    """
    request = FormatsRequest(**job.request)
    targets = parse_format_setting(",".join(request.formats))
    outpaint_model = model_for(ctx.settings, Role.EXTEND)
    started = time.monotonic()
    finder = ctx.slack.photos()
    photos = locate_photos(job, finder, archives=True)
    if run_zip_batch_if_any(job, ctx, photos, zip_batch):
        return
    photo = photos[0]
    data = finder.download(photo)
    check_photo_size(upright_size(data), targets)
    with ctx.quota.reserve(job.team_id, job.user_id, len(targets)) as reservation:
        progress = start_progress(job, ctx, messages.formats_started(job.user_id, photo.name, targets), [photo])
        try:
            results = make_photo_formats(ctx, request, targets, data, progress.call_model)
            made = [result for result in results if result.png is not None]
            file_ids = ctx.slack.upload(job.channel_id, progress.thread_ts, [
                Upload(content=result.png, filename=format_file_name(photo.name, result.target),
                       title=result.target.label, alt_text=messages.format_alt_text(photo.name, result.target))
                for result in made if result.png is not None
            ]) if made else []
            reservation.use(len(file_ids))  # charged once delivered
        except KnownError as error:
            progress.fail(error)
    summary = messages.formats_summary([(r.target, r.outpainted, r.blocked) for r in results],
                                       image_model_spec(outpaint_model).label, request.seed,
                                       time.monotonic() - started)
    alts = [messages.format_alt_text(photo.name, result.target) for result in made]
    progress.show_result(summary, file_ids, rerollable=False, alt_texts=alts)


def make_photo_formats(ctx: WorkerContext, request: FormatsRequest, targets: tuple[FormatTarget, ...], data: bytes,
                       call_model: ModelCaller) -> list[FormatResult]:
    """The per-photo pipeline (a single photo, or each of a ZIP's): every target made from ``data``."""
    outpaint_model = model_for(ctx.settings, Role.EXTEND)
    results = call_model(lambda: make_formats(
        ctx.bedrock, data, targets, remove_bg_model=model_for(ctx.settings, Role.REMOVE_BG),
        outpaint_model=outpaint_model, seed=request.seed))
    ctx.telemetry.images_generated(outpaint_model, sum(1 for result in results if result.outpainted))
    return results


def zip_batch(request: dict[str, Any]) -> ZipBatch:
    """/formats on each photo of a ZIP: its formats in a folder named after it (``shot-01/shot-01-story-…png``)."""
    parsed = FormatsRequest(**request)
    targets = parse_format_setting(",".join(parsed.formats))

    def work(ctx: WorkerContext, name: str, data: bytes, call_model: ModelCaller) -> ZipPhotoOutcome:
        check_photo_size(upright_size(data), targets)  # a photo too small is its own failed row
        results = make_photo_formats(ctx, parsed, targets, data, call_model)
        outputs = tuple(PhotoOutput(f"{photo_stem(name)}/{format_file_name(name, result.target)}", result.png)
                        for result in results if result.png is not None)
        if not outputs:  # every format withheld by the filter: a failed photo, not a done one with no files
            raise ModelBlocked(results[0].blocked)
        return ZipPhotoOutcome(outputs)

    return ZipBatch("formats", len(targets), work,
                    lambda user, zip_name, photos: messages.zip_formats_started(user, targets, zip_name, photos))
