"""What /upscale (and the Upscale button) does: a larger copy of the photo in its thread, or of each in a ZIP."""

from __future__ import annotations

from typing import Any

from bot.context import WorkerContext
from bot.flows.catalogue import ZipBatch
from bot.flows.edit import PhotoEdit, edit_zip_batch, run_photo_edit, single_photo
from bot.jobs import Job
from handlers.model_table import UPSCALE_ROLES
from handlers.requests import UpscaleRequest
from handlers.upscale import upscale


def run_upscale(job: Job, ctx: WorkerContext) -> None:
    """Upscale with the model of the asked mode (fast, conservative or creative)."""
    run_photo_edit(job, ctx, upscaling(UpscaleRequest(**job.request)), zip_batch)


def zip_batch(request: dict[str, Any]) -> ZipBatch:
    """/upscale on each photo of a ZIP: an ``<photo>-upscaled-1.png`` per photo."""
    return edit_zip_batch("upscale", upscaling(UpscaleRequest(**request)))


def upscaling(request: UpscaleRequest) -> PhotoEdit:
    """How /upscale calls the model of its mode on one photo."""
    return PhotoEdit(request, UPSCALE_ROLES[request.mode], "upscaled", single_photo,
                     lambda client, model, request, inputs: upscale(client, model, request, inputs[0]),
                     rerollable=False)
