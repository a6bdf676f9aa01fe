"""What /imagine does in Slack around its handler call."""

from __future__ import annotations

import time

from bot import messages
from bot.context import WorkerContext
from bot.errors import KnownError
from bot.flows.progress import start_progress
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.io import Upload
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
        progress = start_progress(job, ctx, messages.imagine_started(job.user_id, request.prompt, request.count),
                                  status="Generating…")
        try:
            result = progress.call_model(lambda: imagine(ctx.bedrock, model_id, request))
            seeds = list(result.seeds or [result.seed] * len(result.images))
            file_ids = ctx.slack.upload(job.channel_id, progress.thread_ts, [
                Upload(
                    content=png,
                    filename=f"studio-{seeds[index - 1]}-{index}.png",
                    title=f"{request.prompt[:60]} ({index}/{len(result.images)})",
                    alt_text=messages.alt_text(request.prompt, index, len(result.images)),
                )
                for index, png in enumerate(result.images, start=1)
            ])
            reservation.use(len(result.images))  # charged once delivered, not when generated
        except KnownError as error:
            # The heading is where the person is looking; say there what happened.
            progress.fail(error)
    ctx.telemetry.images_generated(model_id, len(result.images))
    # The size the model actually made (Stability picks it from the aspect ratio).
    width, height = image_size(result.images[0])
    summary = messages.generation_summary(
        image_model_spec(model_id).label, seeds, width, height,
        time.monotonic() - started, request.count, result.blocked, request.asked_ratio, result.aspect_ratio,
    )
    # The images show in the parent message too (alt text from the prompt), so the channel sees them.
    alts = [messages.alt_text(request.prompt, index, len(file_ids)) for index in range(1, len(file_ids) + 1)]
    progress.show_result(summary, file_ids, rerollable=True, alt_texts=alts)
