"""Photo edits: one photo in, new images in its thread (/edit, /extend, Variations).

Each command's flow says how it prepares its inputs and calls its handler;
``run_photo_edit`` does the rest the same way for all of them (and /remove-bg,
/upscale), and ``edit_zip_batch`` runs the same per-photo pipeline (``edit_photo``)
on each photo of a ZIP for the commands that take one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot import messages
from bot.catalogue.state_machine_step import PhotoOutcome as ZipPhotoOutcome
from bot.context import WorkerContext
from bot.errors import KnownError, UsageError
from bot.flows.catalogue import ZipBatch, ZipBatchFor, numbered_outputs, run_zip_batch_if_any
from bot.flows.describe import caption
from bot.flows.photo_io import locate_photos, result_uploads
from bot.flows.progress import start_progress
from bot.flows.retry import ModelCaller
from bot.jobs import Job
from bot.settings import model_for
from handlers.edit_tasks import extend, inpaint, variations
from handlers.image_tasks import GeneratedImages
from handlers.images import PreparedImage, decode_for_model, extend_canvas, image_size, model_input, prepare_mask
from handlers.model_table import Role
from handlers.models import ImageModelSpec, image_model_spec
from handlers.requests import EditRequest, ExtendRequest, VariationsRequest
from handlers.stability import is_stability

Inputs = tuple[PreparedImage, ...]


@dataclass(frozen=True)
class PhotoEdit:
    """How one photo-editing command prepares its inputs and calls its handler."""

    request: Any
    role: Role
    # Names the result files ("car-edited-1.png").
    suffix: str
    # Inputs are prepared once, outside the retry loop: photo bytes in, model inputs out.
    prepare: Callable[[ImageModelSpec, list[bytes]], Inputs]
    # The handler call: client, model id, request (captioned, for Variations) and inputs.
    call: Callable[[Any, str, Any, Inputs], GeneratedImages]
    rerollable: bool = True
    # /edit may take a second image as its mask; the others use the first photo only.
    photos_used: int = 1
    # Stability's image-to-image needs words: without a prompt, the vision model captions the photo.
    needs_prompt: bool = False


def run_edit(job: Job, ctx: WorkerContext) -> None:
    """/edit: repaint what ``mask=`` names (or what a second image masks)."""
    request = EditRequest(**job.request)
    run_photo_edit(job, ctx, PhotoEdit(
        request, Role.EDIT if request.mask else Role.EDIT_MASK, "edited",
        lambda spec, photos: _edit_inputs(request, spec, photos),
        lambda client, model, request, inputs: inpaint(client, model, request, inputs[0], (inputs[1:] or [None])[0]),
        photos_used=2,
    ))


def run_extend(job: Job, ctx: WorkerContext) -> None:
    """/extend: the photo on a larger canvas of the asked format, the new edges painted."""
    request = ExtendRequest(**job.request)
    run_photo_edit(job, ctx, PhotoEdit(
        request, Role.EXTEND, "extended",
        lambda spec, photos: extend_canvas(decode_for_model(photos[0], spec), request.ratio_w, request.ratio_h, spec),
        lambda client, model, request, inputs: extend(client, model, request, *inputs),
    ))


def run_variations(job: Job, ctx: WorkerContext) -> None:
    """Variations (a result button): new images like the photo."""
    run_photo_edit(job, ctx, PhotoEdit(
        VariationsRequest(**job.request), Role.VARIATIONS, "variation", single_photo,
        lambda client, model, request, inputs: variations(client, model, request, inputs[0]),
        needs_prompt=True,
    ))


def single_photo(spec: ImageModelSpec, photos: list[bytes]) -> Inputs:
    """The first photo, as the model takes it."""
    return (model_input(decode_for_model(photos[0], spec), spec),)


def _edit_inputs(request: EditRequest, spec: ImageModelSpec, photos: list[bytes]) -> Inputs:
    photo = model_input(decode_for_model(photos[0], spec), spec)
    if request.mask:
        return (photo,)
    if len(photos) < 2:
        raise UsageError("edit", "edit_needs_mask")
    return photo, prepare_mask(photos[1], photo.width, photo.height)


def run_photo_edit(job: Job, ctx: WorkerContext, edit: PhotoEdit, zip_batch: ZipBatchFor | None = None) -> None:
    """One photo in, new images in its thread, with a summary and buttons.

    With ``zip_batch`` (a command that takes a ZIP), a ZIP among the job's files makes it a batch.
    """
    request = edit.request
    spec = image_model_spec(model_for(ctx.settings, edit.role))
    started = time.monotonic()
    finder = ctx.slack.photos()
    photos = locate_photos(job, finder, archives=zip_batch is not None)
    if zip_batch is not None and run_zip_batch_if_any(job, ctx, photos, zip_batch):
        return
    with ctx.quota.reserve(job.team_id, job.user_id, getattr(request, "count", 1)) as reservation:
        progress = start_progress(job, ctx, messages.edit_started(job.user_id, job.command, request), photos)
        try:
            downloads = [finder.download(photo) for photo in photos[:edit.photos_used]]
            request, result = edit_photo(ctx, edit, downloads, progress.call_model)
            file_ids = ctx.slack.upload(job.channel_id, progress.thread_ts, result_uploads(
                result.images, photos[0].name.rsplit(".", 1)[0], edit.suffix,
                f"{photos[0].name} ({edit.suffix})", messages.edit_alt_text(job.command, request),
            ))
            reservation.use(len(result.images))  # charged once delivered, not when generated
        except KnownError as error:
            progress.fail(error)
    progress.show_result(
        messages.edit_summary(job.command, request, spec.label, list(result.seeds or [result.seed]), result.blocked,
                              time.monotonic() - started, image_size(result.images[0])),
        file_ids, rerollable=edit.rerollable,
    )


def edit_photo(ctx: WorkerContext, edit: PhotoEdit, photos: list[bytes],
               call_model: ModelCaller) -> tuple[Any, GeneratedImages]:
    """The per-photo pipeline (a single photo, or each of a ZIP's): the request as sent, and the new images."""
    model_id = model_for(ctx.settings, edit.role)
    inputs = edit.prepare(image_model_spec(model_id), photos)
    request = edit.request
    if edit.needs_prompt and not request.prompt and is_stability(model_id):
        request = replace(request, prompt=caption(ctx, photos[0], call_model))
    result = call_model(lambda: edit.call(ctx.bedrock, model_id, request, inputs))
    ctx.telemetry.images_generated(model_id, len(result.images))
    return request, result


def edit_zip_batch(command: str, edit: PhotoEdit) -> ZipBatch:
    """``edit`` on each photo of a ZIP: the same pipeline, the images as files named like its uploads."""
    def work(ctx: WorkerContext, name: str, data: bytes, call_model: ModelCaller) -> ZipPhotoOutcome:
        _, result = edit_photo(ctx, edit, [data], call_model)
        return ZipPhotoOutcome(numbered_outputs(name, edit.suffix, result.images))

    return ZipBatch(command, getattr(edit.request, "count", 1), work,
                    lambda user, zip_name, photos: messages.zip_edit_started(user, command, edit.request, zip_name,
                                                                             photos))
