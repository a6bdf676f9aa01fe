"""What /formats (and the All formats button) does: every social format of one photo, in its thread."""

from __future__ import annotations

import time

from bot import messages
from bot.context import WorkerContext
from bot.errors import KnownError
from bot.flows.photo_io import locate_photos
from bot.flows.progress import start_progress
from bot.jobs import Job
from bot.settings import model_for
from bot.slack.io import Upload
from handlers.format_maker import make_formats
from handlers.formats import check_photo_size, format_file_name, parse_format_setting
from handlers.images import upright_size
from handlers.model_table import Role
from handlers.models import image_model_spec
from handlers.requests import FormatsRequest


def run_formats(job: Job, ctx: WorkerContext) -> None:
    """Make each asked format of the newest photo at its exact size; one message lists them all.

    A photo too small for a format is refused privately before anything is
    posted or counted; the quota counts one image per format delivered.
    """
    request = FormatsRequest(**job.request)
    targets = parse_format_setting(",".join(request.formats))
    outpaint_model = model_for(ctx.settings, Role.EXTEND)
    remove_bg_model = model_for(ctx.settings, Role.REMOVE_BG)
    started = time.monotonic()
    finder = ctx.slack.photos()
    photo = locate_photos(job, finder)[0]
    data = finder.download(photo)
    check_photo_size(upright_size(data), targets)
    with ctx.quota.reserve(job.team_id, job.user_id, len(targets)) as reservation:
        progress = start_progress(job, ctx, messages.formats_started(job.user_id, photo.name, targets), [photo])
        try:
            results = progress.call_model(lambda: make_formats(
                ctx.bedrock, data, targets, remove_bg_model=remove_bg_model, outpaint_model=outpaint_model,
                seed=request.seed))
            made = [result for result in results if result.png is not None]
            file_ids = ctx.slack.upload(job.channel_id, progress.thread_ts, [
                Upload(content=result.png, filename=format_file_name(photo.name, result.target),
                       title=result.target.label, alt_text=messages.format_alt_text(photo.name, result.target))
                for result in made if result.png is not None
            ]) if made else []
            reservation.use(len(file_ids))  # charged once delivered
        except KnownError as error:
            progress.fail(error)
    ctx.telemetry.images_generated(outpaint_model, sum(1 for result in made if result.outpainted))
    summary = messages.formats_summary([(r.target, r.outpainted, r.blocked) for r in results],
                                       image_model_spec(outpaint_model).label, request.seed,
                                       time.monotonic() - started)
    alts = [messages.format_alt_text(photo.name, result.target) for result in made]
    progress.show_result(summary, file_ids, rerollable=False, alt_texts=alts)
