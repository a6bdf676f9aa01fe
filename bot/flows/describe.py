"""What /describe does in Slack: the vision model's answer in the photo's thread (alt texts for a ZIP's photos)."""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.catalogue.state_machine_step import PhotoOutcome as ZipPhotoOutcome
from bot.context import WorkerContext
from bot.errors import KnownError
from bot.flows.catalogue import ZipBatch, run_zip_batch_if_any
from bot.flows.photo_io import locate_photos
from bot.flows.progress import start_progress
from bot.flows.retry import ModelCaller
from bot.jobs import Job
from bot.settings import model_for
from handlers.describe import describe
from handlers.images import prepare_for_vision
from handlers.model_table import Role
from handlers.requests import DescribeRequest

# The one preset a ZIP batch runs: an alt text per photo, as a CSV.
ZIP_PRESET = "alt"


def run_describe(job: Job, ctx: WorkerContext) -> None:
    """Answer a /describe request in the photo's thread; ``/describe alt`` on a ZIP is a batch."""
    request = DescribeRequest(**job.request)
    finder = ctx.slack.photos()
    photos = locate_photos(job, finder, archives=request.preset == ZIP_PRESET)
    if request.preset == ZIP_PRESET and run_zip_batch_if_any(job, ctx, photos, zip_batch):
        return
    progress = start_progress(job, ctx, messages.describe_started(job.user_id, request), photos)
    try:
        answers = describe_photos(ctx, request, [finder.download(photo) for photo in photos], progress.call_model)
    except KnownError as error:
        progress.fail(error)
    progress.show(progress.heading, body=messages.describe_answer(answers, [photo.name for photo in photos]),
                  final=True)


def describe_photos(ctx: WorkerContext, request: DescribeRequest, photos: list[bytes],
                    call_model: ModelCaller) -> list[str]:
    """The per-photo pipeline (posted photos, or each of a ZIP's): the vision model's answer for each."""
    vision_model = model_for(ctx.settings, Role.VISION)
    images = [prepare_for_vision(photo) for photo in photos]
    return call_model(lambda: describe(ctx.bedrock, vision_model, request, images))


def caption(ctx: WorkerContext, photo: bytes, call_model: ModelCaller) -> str:
    """A one-line description of ``photo``, to guide a model that needs words."""
    return describe_photos(ctx, DescribeRequest(), [photo], call_model)[0]


def zip_batch(request: dict[str, Any]) -> ZipBatch:
    """/describe alt on each photo of a ZIP: no images, so no quota; the alt texts are the report's rows."""
    parsed = DescribeRequest(**request)

    def work(ctx: WorkerContext, name: str, data: bytes, call_model: ModelCaller) -> ZipPhotoOutcome:
        [alt] = describe_photos(ctx, parsed, [data], call_model)
        return ZipPhotoOutcome((), subject=alt)

    return ZipBatch("describe", 0, work, messages.zip_alt_started, subject_column="alt text",
                    results_note=messages.zip_alt_texts_in_report())
