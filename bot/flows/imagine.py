"""What /imagine does in Slack around its handler call."""

from __future__ import annotations

import time
from typing import Any

from bot import messages
from bot.commands.table import model_for
from bot.context import WorkerContext
from bot.errors import AlreadyReported, StudioError
from bot.flows.results import Result, save_result
from bot.flows.retry import with_model_retries
from bot.jobs import Job
from bot.slack.blocks import result_blocks, text_blocks
from bot.slack.io import Upload
from handlers.errors import ModelError
from handlers.images import image_size
from handlers.imagine import imagine
from handlers.model_table import Role
from handlers.models import image_model_spec
from handlers.requests import ImagineRequest


def run_imagine(job: Job, ctx: WorkerContext) -> None:
    """Post a heading, generate, upload the images into its thread, then say how they were made.

    From a slash command the heading is a new channel message; from a mention
    it goes into the mention's thread.
    """
    request = ImagineRequest(**job.request)
    model_id = model_for(ctx.settings, Role.GENERATE_PREMIUM if request.quality == "premium" else Role.GENERATE)
    started = time.monotonic()
    # Reserve first, so a request over the quota is refused privately, before anything is posted.
    with ctx.quota.reserve(job.team_id, job.user_id, request.count) as reservation:
        heading = messages.imagine_started(job.user_id, request.prompt, request.count)
        heading_ts = ctx.slack.post(job.channel_id, heading, text_blocks(heading, "Generating…"),
                                    thread_ts=job.thread_ts)

        def show(context: str) -> None:
            ctx.slack.update(job.channel_id, heading_ts, heading, text_blocks(heading, context), best_effort=True)

        def finish(blocks: list[dict[str, Any]]) -> None:
            ctx.slack.finish(job.channel_id, heading_ts, heading, blocks, thread_ts=job.thread_ts or heading_ts)

        try:
            result = with_model_retries(
                lambda: imagine(ctx.bedrock, model_id, request), ctx,
                lambda attempt, delay: show(messages.retrying(attempt, delay)),
            )
            seeds = list(result.seeds or [result.seed] * len(result.images))
            thread_ts = job.thread_ts or heading_ts
            file_ids = ctx.slack.upload(job.channel_id, thread_ts, [
                Upload(
                    content=png,
                    filename=f"studio-{seeds[index - 1]}-{index}.png",
                    title=f"{request.prompt[:60]} ({index}/{len(result.images)})",
                    alt_text=messages.alt_text(request.prompt, index, len(result.images)),
                )
                for index, png in enumerate(result.images, start=1)
            ])
            reservation.use(len(result.images))  # charged once delivered, not when generated
        except (ModelError, StudioError) as error:
            # The heading is where the person is looking; say there what happened.
            finish(text_blocks(heading, messages.error_message(error, ctx.settings)))
            raise AlreadyReported(error) from error
    ctx.telemetry.images_generated(model_id, len(result.images))
    # The size the model actually made (Stability picks it from the aspect ratio).
    width, height = image_size(result.images[0])
    summary = messages.generation_summary(
        image_model_spec(model_id).label, seeds, width, height,
        time.monotonic() - started, request.count, result.blocked, request.asked_ratio, result.aspect_ratio,
    )
    ref = save_result(ctx.store, Result(job, tuple(file_ids), thread_ts))
    finish(result_blocks(heading, summary, ref, len(file_ids), True))
