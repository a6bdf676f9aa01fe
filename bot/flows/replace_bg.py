"""What /replace-bg does in Slack: the photo's subject on a new background, in the photo's thread."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from bot import messages
from bot.catalogue.state_machine_step import PhotoOutcome as ZipPhotoOutcome
from bot.context import WorkerContext
from bot.errors import KnownError, SubjectMismatch
from bot.flows.batch import PhotoOutcome, run_batch_photo, start_batch
from bot.flows.catalogue import ZipBatch, numbered_outputs, run_zip_batch_if_any
from bot.flows.photo_io import locate_photos, result_uploads
from bot.flows.progress import start_progress
from bot.flows.retry import ModelCaller
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.photo_refs import Photo
from bot.slack.photos import PhotoFinder
from handlers.describe import check_subject, name_subject
from handlers.edit_tasks import remove_background
from handlers.image_tasks import GeneratedImages, require_task
from handlers.images import PreparedImage, cutout_preview, decode_for_model, model_input, vision_input
from handlers.model_table import Role
from handlers.models import Task, image_model_spec
from handlers.replace_bg import paint_background, replace_background
from handlers.requests import AUTO_SUBJECT, ReplaceBackgroundRequest
from handlers.stability import is_stability

# The inpaint that runs beside each Stability photo's vision check. Threads are kept for the
# process and started only as needed (one per photo in flight at most): starting and joining a
# thread per photo cost more CPU than the rest of the photo's own work besides the model calls.
# More photos in flight than this only queue their inpaints: nothing here waits on another task.
_BESIDE = ThreadPoolExecutor(max_workers=64, thread_name_prefix="studio-beside")


def run_replace_background(job: Job, ctx: WorkerContext) -> None:
    """/replace-bg: one photo here; several become a batch of one job per photo."""
    request = ReplaceBackgroundRequest(**job.request)
    finder = ctx.slack.photos()
    if job.batch is not None:
        run_batch_photo(job, ctx, request, finder, lambda photo, data, call_model: replace_one(
            ctx, job, str(job.thread_ts), request, data, photo, call_model))
        return
    photos = locate_photos(job, finder, archives=True)
    if run_zip_batch_if_any(job, ctx, photos, zip_batch):
        return
    if len(photos) > 1:
        start_batch(job, ctx, request, photos)
    else:
        _replace_single(job, ctx, request, finder, photos[0])


def _replace_single(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, finder: PhotoFinder,
                    photo: Photo) -> None:
    started = time.monotonic()
    with ctx.quota.reserve(job.team_id, job.user_id, request.count) as reservation:
        progress = start_progress(job, ctx, messages.replace_started(job.user_id, request), [photo])
        try:
            outcome = replace_one(ctx, job, progress.thread_ts, request, finder.download(photo), photo,
                                  progress.call_model)
        except KnownError as error:
            progress.fail(error)
        reservation.use(outcome.images)
    label = image_model_spec(model_for(ctx.settings, Role.REPLACE_BG)).label
    progress.show_result(messages.replace_summary([outcome.subject], request, label, time.monotonic() - started,
                                                  list(outcome.seeds)),
                         outcome.file_ids, rerollable=True)


def replace_one(ctx: WorkerContext, job: Job, thread_ts: str, request: ReplaceBackgroundRequest,
                data: bytes, photo: Photo, call_model: ModelCaller) -> PhotoOutcome:
    """Put the subject of ``photo`` (its bytes: ``data``) on the new background and upload the result
    into ``thread_ts``."""
    subject, result = replace_photo(ctx, request, data, call_model)
    file_ids = ctx.slack.upload(job.channel_id, thread_ts, result_uploads(
        result.images, photo.name.rsplit(".", 1)[0], "new-background",
        f"{photo.name}: {request.prompt[:60]}", messages.replaced_alt_text(subject, request.prompt),
    ))
    return PhotoOutcome(subject, file_ids, len(result.images), result.seeds,
                        preview=result.images[0] if result.images else None)


def replace_photo(ctx: WorkerContext, request: ReplaceBackgroundRequest, data: bytes,
                  call_model: ModelCaller) -> tuple[str, GeneratedImages]:
    """The per-photo pipeline (a single photo, a batch's or a ZIP's): the kept subject and the new images."""
    model_id = model_for(ctx.settings, Role.REPLACE_BG)
    spec = require_task(model_id, Task.BACKGROUND_REPLACEMENT)  # before any call is made
    image = decode_for_model(data, spec)
    prepared = model_input(image, spec)
    if is_stability(model_id):
        subject, result = _replace_by_cutout(ctx, model_id, request, prepared, call_model)
    else:
        subject = request.keep
        if subject == AUTO_SUBJECT:
            seen = vision_input(image)
            subject = call_model(lambda: name_subject(ctx.bedrock, model_for(ctx.settings, Role.VISION), seen))
        result = call_model(lambda: replace_background(ctx.bedrock, model_id, request, prepared, subject))
    ctx.telemetry.images_generated(model_id, len(result.images))
    return subject, result


def zip_batch(request: dict[str, Any]) -> ZipBatch:
    """/replace-bg on each photo of a ZIP: the same pipeline, the results as files instead of uploads."""
    parsed = ReplaceBackgroundRequest(**request)

    def work(ctx: WorkerContext, name: str, data: bytes, call_model: ModelCaller) -> ZipPhotoOutcome:
        subject, result = replace_photo(ctx, parsed, data, call_model)
        return ZipPhotoOutcome(numbered_outputs(name, "new-background", result.images), subject)

    return ZipBatch("replace-bg", parsed.count, work,
                    lambda user, zip_name, photos: messages.zip_replace_started(user, parsed, zip_name, photos))


def _replace_by_cutout(ctx: WorkerContext, model_id: str, request: ReplaceBackgroundRequest,
                       prepared: PreparedImage, call_model: ModelCaller) -> tuple[str, GeneratedImages]:
    """Stability: cut the subject out, then paint around it while checking it is what ``keep=`` named.

    The check runs beside the inpaint call, so its round trip adds nothing to
    the wait. When the cut-out is the wrong subject the painting is dropped:
    one inpaint call spent on a rare mismatch buys a vision round trip on every photo.
    """
    remover = model_for(ctx.settings, Role.REMOVE_BG)
    cutout = call_model(lambda: remove_background(ctx.bedrock, remover, prepared)).images[0]
    painting = _BESIDE.submit(call_model, lambda: paint_background(ctx.bedrock, model_id, request, cutout, prepared))
    try:
        subject = _kept_subject(ctx, request, cutout, call_model)
    finally:
        wait((painting,))  # a photo is over when all its calls are, even when the check failed
    return subject, painting.result()


def _kept_subject(ctx: WorkerContext, request: ReplaceBackgroundRequest, cutout: bytes,
                  call_model: ModelCaller) -> str:
    """What the cut-out shows: named by the vision model (``keep=auto``) or checked against ``keep=``."""
    vision_model = model_for(ctx.settings, Role.VISION)
    # The vision model sees the cut-out on white: what will be kept, not the whole photo.
    kept = cutout_preview(cutout)
    if request.keep == AUTO_SUBJECT:
        return call_model(lambda: name_subject(ctx.bedrock, vision_model, kept))
    check = call_model(lambda: check_subject(ctx.bedrock, vision_model, kept, request.keep))
    if not check.matches:
        raise SubjectMismatch(request.keep, check.subject)
    return request.keep
