"""What /remove-bg (the shortcut and the Remove background button) does: the subject on a transparent PNG."""

from __future__ import annotations

from typing import Any

from bot.context import WorkerContext
from bot.flows.catalogue import ZipBatch
from bot.flows.edit import PhotoEdit, edit_zip_batch, run_photo_edit, single_photo
from bot.jobs import Job
from handlers.edit_tasks import remove_background
from handlers.model_table import Role
from handlers.requests import RemoveBackgroundRequest


def run_remove_background(job: Job, ctx: WorkerContext) -> None:
    """/remove-bg on a photo (in its thread), or on each photo of a ZIP."""
    run_photo_edit(job, ctx, cutout(RemoveBackgroundRequest(**job.request)), zip_batch)


def zip_batch(request: dict[str, Any]) -> ZipBatch:
    """/remove-bg on each photo of a ZIP: a ``<photo>-cutout-1.png`` per photo."""
    return edit_zip_batch("remove-bg", cutout(RemoveBackgroundRequest(**request)))


def cutout(request: RemoveBackgroundRequest) -> PhotoEdit:
    """How /remove-bg calls its model on one photo."""
    return PhotoEdit(request, Role.REMOVE_BG, "cutout", single_photo,
                     lambda client, model, request, inputs: remove_background(client, model, inputs[0]),
                     rerollable=False)
