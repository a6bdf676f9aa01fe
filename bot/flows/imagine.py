"""What /imagine does in Slack around its handler call: the prompt help, the channel's brand kit, the upload."""

from __future__ import annotations

import time
from dataclasses import asdict, replace

from bot import messages
from bot.brand import BrandKit, load_kit
from bot.context import WorkerContext
from bot.errors import BrandRefused, KnownError, NoImageFound
from bot.flows.progress import Progress, start_progress
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.io import Upload
from handlers.enhance import MAX_ENHANCED_CHARS, enhance_prompt
from handlers.image_tasks import GeneratedImages
from handlers.images import image_size
from handlers.imagine import imagine
from handlers.logo import place_logo, prepare_logo
from handlers.model_table import Role
from handlers.models import image_model_spec
from handlers.requests import ImagineRequest
from handlers.style_guide import imagine_in_style, prepare_style_reference


def run_imagine(job: Job, ctx: WorkerContext) -> None:
    """Post a heading, generate, upload the images into its thread, then say how they were made.

    From a slash command the heading is a new channel message; from a mention
    it goes into the mention's thread. A channel whose brand kit has a style
    generates with Style Guide and that reference; its logo goes on when asked
    (``logo=on``) or when the kit says always.
    """
    request = ImagineRequest(**job.request)
    kit = load_kit(ctx.store, job.team_id, job.channel_id)
    in_style = request.brand and bool(kit.style_file)
    with_logo = request.logo == "on" or (request.brand and request.logo != "off" and kit.logo_always)
    if with_logo and not kit.logo_file:
        raise BrandRefused("no_logo")
    role = Role.STYLE if in_style else Role.GENERATE_PREMIUM if request.quality == "premium" else Role.GENERATE
    model_id = model_for(ctx.settings, role)
    started = time.monotonic()
    # Reserve first, so a request over the quota is refused privately, before anything is posted.
    with ctx.quota.reserve(job.team_id, job.user_id, request.count) as reservation:
        progress = start_progress(job, ctx, messages.imagine_started(job.user_id, request.prompt, request.count),
                                  status="Generating…")
        try:
            if request.enhance and not request.enhanced:
                request = _enhanced(ctx, progress, request, model_id)
                progress.job = replace(job, request=asdict(request))  # a Re-roll reuses the enhanced prompt
            result = _generate(ctx, progress, kit, request, model_id, in_style, with_logo)
            images = result.images
            seeds = list(result.seeds or [result.seed] * len(images))
            file_ids = ctx.slack.upload(job.channel_id, progress.thread_ts, [
                Upload(
                    content=png,
                    filename=f"studio-{seeds[index - 1]}-{index}.png",
                    title=f"{request.prompt[:60]} ({index}/{len(images)})",
                    alt_text=messages.alt_text(request.final_prompt, index, len(images)),
                )
                for index, png in enumerate(images, start=1)
            ])
            reservation.use(len(images))  # charged once delivered, not when generated
        except KnownError as error:
            # The heading is where the person is looking; say there what happened.
            progress.fail(error)
    ctx.telemetry.images_generated(model_id, len(images))
    # The size the model actually made (Stability picks it from the aspect ratio).
    width, height = image_size(images[0])
    summary = messages.generation_summary(
        image_model_spec(model_id).label, seeds, width, height,
        time.monotonic() - started, request.count, result.blocked, request.asked_ratio, result.aspect_ratio,
    ) + messages.imagine_extras(request.enhanced, in_style, with_logo)
    # The images show in the parent message too (alt text from the prompt), so the channel sees them.
    alts = [messages.alt_text(request.prompt, index, len(file_ids)) for index in range(1, len(file_ids) + 1)]
    progress.show_result(summary, file_ids, rerollable=True, enhanceable=not request.enhanced, alt_texts=alts)


def _enhanced(ctx: WorkerContext, progress: Progress, request: ImagineRequest, model_id: str) -> ImagineRequest:
    """``request`` with the text model's richer prompt, no longer than the image model reads."""
    progress.show(messages.enhancing())
    limit = min(MAX_ENHANCED_CHARS, image_model_spec(model_id).max_prompt_chars)
    vision = model_for(ctx.settings, Role.VISION)
    text = progress.call_model(lambda: enhance_prompt(ctx.bedrock, vision, request.prompt, max_chars=limit))
    progress.show("Generating…")
    return replace(request, enhanced=text)


def _generate(ctx: WorkerContext, progress: Progress, kit: BrandKit, request: ImagineRequest, model_id: str,
              in_style: bool, with_logo: bool) -> GeneratedImages:
    """The handler's result, with the kit's style reference sent along and its logo placed when asked."""
    asked = replace(request, prompt=request.final_prompt)
    if in_style:
        reference = prepare_style_reference(_kit_file(ctx, kit.style_file, "style_gone"), model_id)
        result = progress.call_model(lambda: imagine_in_style(ctx.bedrock, model_id, asked, reference))
    else:
        result = progress.call_model(lambda: imagine(ctx.bedrock, model_id, asked))
    if not with_logo:
        return result
    logo = prepare_logo(_kit_file(ctx, kit.logo_file, "logo_gone"))
    return replace(result, images=tuple(place_logo(png, logo) for png in result.images))


def _kit_file(ctx: WorkerContext, file_id: str, gone: str) -> bytes:
    """The bytes of a kit's Slack file; ``BrandRefused(gone)`` once someone deleted it."""
    finder = ctx.slack.photos()
    try:
        [photo] = finder.by_ids([file_id], "")
        return finder.download(photo)
    except NoImageFound:
        raise BrandRefused(gone) from None
