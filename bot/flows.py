"""What each command does in Slack around its handler call."""

from __future__ import annotations

import time

from bot import messages
from bot.blocks import text_blocks
from bot.context import WorkerContext
from bot.errors import AlreadyReported, StudioError
from bot.jobs import Job
from bot.retry import with_model_retries
from bot.slack_io import Upload
from handlers.errors import ModelError
from handlers.imagine import ImagineRequest, imagine
from handlers.models import image_model_spec


def run_imagine(job: Job, ctx: WorkerContext) -> None:
    """Post a parent message, generate, upload the images into its thread, update the parent."""
    request = ImagineRequest(**job.request)
    model_id = ctx.settings.image_model_id
    started = time.monotonic()
    heading = messages.imagine_started(job.user_id, request.prompt, request.count)
    parent_ts = ctx.slack.post(job.channel_id, heading, text_blocks(heading, "Generating…"))

    def show_retry(attempt: int, delay: float) -> None:
        ctx.slack.update(job.channel_id, parent_ts, heading, text_blocks(heading, messages.retrying(attempt, delay)))

    try:
        result = with_model_retries(lambda: imagine(ctx.bedrock, model_id, request), ctx, show_retry)
        uploads = [
            Upload(
                content=png,
                filename=f"studio-{result.seed}-{index}.png",
                title=f"{request.prompt[:60]} ({index}/{len(result.images)})",
                alt_text=messages.alt_text(request.prompt, index, len(result.images)),
            )
            for index, png in enumerate(result.images, start=1)
        ]
        ctx.slack.upload(job.channel_id, parent_ts, uploads)
    except (ModelError, StudioError) as error:
        # The parent is where the person is looking; say there what happened.
        ctx.slack.update(job.channel_id, parent_ts, heading, text_blocks(heading, messages.error_message(error)))
        raise AlreadyReported(error) from error
    summary = messages.generation_summary(
        image_model_spec(model_id).label, result.seed, result.width, result.height,
        time.monotonic() - started, request.count, result.blocked,
    )
    done = messages.imagine_done(job.user_id, request.prompt, summary)
    ctx.slack.update(job.channel_id, parent_ts, done, text_blocks(heading, summary))
