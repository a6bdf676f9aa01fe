"""What /describe does in Slack: the vision model's answer in the photo's thread."""

from __future__ import annotations

from bot import messages
from bot.context import WorkerContext
from bot.errors import KnownError
from bot.flows.photo_io import locate_photos
from bot.flows.progress import start_progress
from bot.flows.retry import ModelCaller
from bot.jobs import Job
from bot.settings import model_for
from handlers.describe import describe
from handlers.images import prepare_for_vision
from handlers.model_table import Role
from handlers.requests import DescribeRequest


def run_describe(job: Job, ctx: WorkerContext) -> None:
    """Answer a /describe request in the photo's thread."""
    request = DescribeRequest(**job.request)
    finder = ctx.slack.photos()
    photos = locate_photos(job, finder)
    progress = start_progress(job, ctx, messages.describe_started(job.user_id, request), photos)
    try:
        images = [prepare_for_vision(finder.download(photo)) for photo in photos]
        vision_model = model_for(ctx.settings, Role.VISION)
        answers = progress.call_model(lambda: describe(ctx.bedrock, vision_model, request, images))
    except KnownError as error:
        progress.fail(error)
    progress.show(progress.heading, body=messages.describe_answer(answers, [photo.name for photo in photos]),
                  final=True)


def caption(ctx: WorkerContext, photo: bytes, call_model: ModelCaller) -> str:
    """A one-line description of ``photo``, to guide a model that needs words."""
    vision_model = model_for(ctx.settings, Role.VISION)
    image = prepare_for_vision(photo)
    return call_model(lambda: describe(ctx.bedrock, vision_model, DescribeRequest(), [image]))[0]
