"""What the photo commands (/describe, /replace-bg) do in Slack around their handlers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from bot import messages
from bot.blocks import text_blocks
from bot.context import WorkerContext
from bot.errors import AlreadyReported, StudioError
from bot.jobs import Job
from bot.photo_refs import Photo
from bot.photos import PhotoFinder
from bot.retry import with_model_retries
from bot.slack_io import Upload
from handlers.describe import describe, name_subject
from handlers.errors import ModelError
from handlers.images import decode_for_model, model_input, prepare_for_vision, vision_input
from handlers.models import image_model_spec
from handlers.replace_bg import replace_background
from handlers.requests import AUTO_SUBJECT, DescribeRequest, ReplaceBackgroundRequest

T = TypeVar("T")


@dataclass
class PhotoReply:
    """The message Studio keeps up to date in the photo's thread while it works."""

    ctx: WorkerContext
    job: Job
    finder: PhotoFinder
    photos: list[Photo]
    thread_ts: str
    ts: str
    heading: str

    def show(self, context: str, body: str | None = None) -> None:
        """Replace the message: ``body`` (or the heading) plus a context line."""
        text = body if body is not None else self.heading
        self.ctx.slack.update(self.job.channel_id, self.ts, text, text_blocks(text, context))

    def retrying(self) -> Callable[[int, float], None]:
        """A retry callback for ``with_model_retries`` that shows the wait."""
        return lambda attempt, delay: self.show(messages.retrying(attempt, delay))

    def fail(self, error: BaseException) -> NoReturn:
        """Say in the thread what went wrong, then stop the job."""
        self.show(messages.error_message(error))
        raise AlreadyReported(error) from error

    def call_model(self, call: Callable[[], T]) -> T:
        """Run a model call with visible retries."""
        return with_model_retries(call, self.ctx, self.retrying())


def post_reply(job: Job, ctx: WorkerContext, finder: PhotoFinder, photos: list[Photo], heading: str) -> PhotoReply:
    """Post the progress message in the photos' thread."""
    thread_ts = job.thread_ts or photos[0].thread_ts
    ts = ctx.slack.post(job.channel_id, heading, text_blocks(heading, "Working…"), thread_ts=thread_ts)
    return PhotoReply(ctx, job, finder, photos, thread_ts, ts, heading)


def locate_photos(job: Job, finder: PhotoFinder) -> list[Photo]:
    """The photos the job is about, from wherever its ``image_source`` says."""
    if job.image_source == "files":
        return finder.by_ids(job.file_ids, job.thread_ts or "")
    if job.image_source == "thread" and job.thread_ts:
        return finder.newest_in_thread(job.channel_id, job.thread_ts)
    return finder.newest_from_user(job.channel_id, job.user_id)


def run_describe(job: Job, ctx: WorkerContext) -> None:
    """Answer a /describe request in the photo's thread."""
    request = DescribeRequest(**job.request)
    finder = PhotoFinder(ctx.slack.client)
    photos = locate_photos(job, finder)
    reply = post_reply(job, ctx, finder, photos, messages.describe_started(job.user_id, request))
    try:
        images = [prepare_for_vision(reply.finder.download(photo)) for photo in reply.photos]
        answers = reply.call_model(lambda: describe(ctx.bedrock, ctx.settings.vision_model_id, request, images))
    except (ModelError, StudioError) as error:
        reply.fail(error)
    names = [photo.name for photo in reply.photos]
    reply.show(reply.heading, body=messages.describe_answer(answers, names))


def run_replace_background(job: Job, ctx: WorkerContext) -> None:
    """Put each photo's subject on the new background; results go to the photo's thread."""
    request = ReplaceBackgroundRequest(**job.request)
    model_id = ctx.settings.edit_model_id
    spec = image_model_spec(model_id)
    started = time.monotonic()
    finder = PhotoFinder(ctx.slack.client)
    photos = locate_photos(job, finder)
    with ctx.quota.reserve(job.team_id, job.user_id, request.count * len(photos)) as reservation:
        reply = post_reply(job, ctx, finder, photos, messages.replace_started(job.user_id, request))
        subjects: list[str] = []
        failures: list[tuple[str, BaseException]] = []
        for photo in photos:
            try:
                image = decode_for_model(finder.download(photo), spec)
                prepared = model_input(image, spec)
                subject = request.keep
                if subject == AUTO_SUBJECT:
                    seen = vision_input(image)
                    subject = reply.call_model(lambda: name_subject(ctx.bedrock, ctx.settings.vision_model_id, seen))
                result = reply.call_model(lambda: replace_background(ctx.bedrock, model_id, request, prepared, subject))
                reservation.use(len(result.images))
                ctx.slack.upload(job.channel_id, reply.thread_ts, [
                    Upload(
                        content=png,
                        filename=f"{photo.name.rsplit('.', 1)[0]}-new-background-{index}.png",
                        title=f"{photo.name}: {request.prompt[:60]}",
                        alt_text=messages.replaced_alt_text(subject, request.prompt),
                    )
                    for index, png in enumerate(result.images, start=1)
                ])
                ctx.telemetry.images_generated(model_id, len(result.images))
                subjects.append(subject)
            except (ModelError, StudioError) as error:
                if len(photos) == 1:
                    reply.fail(error)
                failures.append((photo.name, error))
    if not subjects:
        reply.fail(failures[0][1])
    reply.show(messages.replace_summary(
        subjects, request, spec.label, time.monotonic() - started, failures,
    ))
