"""What /upscale (and the Upscale button) does: a larger copy of the photo in its thread."""

from __future__ import annotations

from bot.context import WorkerContext
from bot.flows.edit import PhotoEdit, run_photo_edit, single_photo
from bot.jobs import Job
from handlers.model_table import UPSCALE_ROLES
from handlers.requests import UpscaleRequest
from handlers.upscale import upscale


def run_upscale(job: Job, ctx: WorkerContext) -> None:
    """Upscale with the model of the asked mode (fast, conservative or creative)."""
    request = UpscaleRequest(**job.request)
    run_photo_edit(job, ctx, PhotoEdit(
        request, UPSCALE_ROLES[request.mode], "upscaled", single_photo,
        lambda client, model, request, inputs: upscale(client, model, request, inputs[0]),
        rerollable=False,
    ))
