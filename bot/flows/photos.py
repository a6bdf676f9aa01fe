"""What the photo commands do in Slack around their handlers.

Each finds its photo(s), reserves quota, keeps one progress message up to date
in the photo's thread, and ends with the result (and its buttons) there.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, NoReturn, Protocol, TypeVar

from bot import messages
from bot.commands.table import model_for
from bot.context import WorkerContext
from bot.errors import (
    AlreadyReported,
    BatchTooLarge,
    PhotoInterrupted,
    QueueUnavailable,
    StudioError,
    SubjectMismatch,
    UsageError,
)
from bot.flows.results import Result, save_result
from bot.flows.retry import with_model_retries
from bot.jobs import Job
from bot.slack.blocks import result_blocks, text_blocks
from bot.slack.io import Upload
from bot.slack.photo_refs import MAX_PHOTOS, Photo
from bot.slack.photos import PhotoFinder
from handlers.describe import check_subject, describe, name_subject
from handlers.edit_tasks import extend, inpaint, remove_background, variations
from handlers.errors import ModelError
from handlers.image_tasks import GeneratedImages, require_task
from handlers.images import (
    PreparedImage,
    cutout_preview,
    decode_for_model,
    extend_canvas,
    image_size,
    model_input,
    prepare_for_vision,
    prepare_mask,
    vision_input,
)
from handlers.model_table import UPSCALE_ROLES, Role
from handlers.models import ImageModelSpec, Task, image_model_spec
from handlers.replace_bg import paint_background, replace_background
from handlers.requests import (
    AUTO_SUBJECT,
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    RemoveBackgroundRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
    VariationsRequest,
)
from handlers.stability import is_stability
from handlers.upscale import upscale

T = TypeVar("T")


class ModelCaller(Protocol):
    """Runs one model call, retrying while Bedrock is busy."""

    def __call__(self, call: Callable[[], T]) -> T: ...

log = logging.getLogger(__name__)


@dataclass
class PhotoReply:
    """The message Studio keeps up to date in the photo's thread while it works."""

    ctx: WorkerContext
    job: Job
    photos: list[Photo]
    thread_ts: str
    ts: str
    heading: str

    def show(self, context: str, body: str | None = None, final: bool = False) -> None:
        """Replace the message: ``body`` (or the heading) plus a context line; ``final`` for the outcome."""
        text = body if body is not None else self.heading
        if final:
            self.ctx.slack.finish(self.job.channel_id, self.ts, text, text_blocks(text, context), self.thread_ts)
        else:
            self.ctx.slack.update(self.job.channel_id, self.ts, text, text_blocks(text, context), best_effort=True)

    def show_result(self, context: str, file_ids: Sequence[str], rerollable: bool) -> None:
        """The final message: how the result was made, with buttons for the next step."""
        if not file_ids:
            self.show(context, final=True)
            return
        # Remember the photos actually used, so a Re-roll works on them, not on whatever is newest then.
        source = replace(self.job, image_source="files", file_ids=tuple(p.file_id for p in self.photos),
                         thread_ts=self.thread_ts)
        ref = save_result(self.ctx.store, Result(source, tuple(file_ids), self.thread_ts))
        blocks = result_blocks(self.heading, context, ref, len(file_ids), rerollable)
        self.ctx.slack.finish(self.job.channel_id, self.ts, self.heading, blocks, self.thread_ts)

    def fail(self, error: BaseException) -> NoReturn:
        """Say in the thread what went wrong, then stop the job."""
        self.show(messages.error_message(error, self.ctx.settings), final=True)
        raise AlreadyReported(error) from error

    def call_model(self, call: Callable[[], T]) -> T:
        """Run a model call with visible retries."""
        return with_model_retries(call, self.ctx, lambda attempt, delay: self.show(messages.retrying(attempt, delay)))


def post_reply(job: Job, ctx: WorkerContext, photos: list[Photo], heading: str) -> PhotoReply:
    """Post the progress message in the photos' thread."""
    thread_ts = job.thread_ts or photos[0].thread_ts
    ts = ctx.slack.post(job.channel_id, heading, text_blocks(heading, "Working…"), thread_ts=thread_ts)
    return PhotoReply(ctx, job, photos, thread_ts, ts, heading)


def locate_photos(job: Job, finder: PhotoFinder) -> list[Photo]:
    """The photos the job is about, from wherever its ``image_source`` says."""
    if job.image_source == "files":
        return finder.by_ids(job.file_ids, job.thread_ts or "")
    if job.image_source == "thread" and job.thread_ts:
        return finder.newest_in_thread(job.channel_id, job.thread_ts)
    if job.image_source == "thread_all" and job.thread_ts:
        return finder.all_in_thread(job.channel_id, job.thread_ts)
    return finder.newest_from_user(job.channel_id, job.user_id)


def result_uploads(images: Sequence[bytes], stem: str, suffix: str, title: str, alt: str) -> list[Upload]:
    """Uploads for a result's PNGs, named after the photo they came from."""
    return [
        Upload(content=png, filename=f"{stem}-{suffix}-{index}.png", title=title, alt_text=alt)
        for index, png in enumerate(images, start=1)
    ]


def run_describe(job: Job, ctx: WorkerContext) -> None:
    """Answer a /describe request in the photo's thread."""
    request = DescribeRequest(**job.request)
    finder = PhotoFinder(ctx.slack.client)
    photos = locate_photos(job, finder)
    reply = post_reply(job, ctx, photos, messages.describe_started(job.user_id, request))
    try:
        images = [prepare_for_vision(finder.download(photo)) for photo in photos]
        vision_model = model_for(ctx.settings, Role.VISION)
        answers = reply.call_model(lambda: describe(ctx.bedrock, vision_model, request, images))
    except (ModelError, StudioError) as error:
        reply.fail(error)
    reply.show(reply.heading, body=messages.describe_answer(answers, [photo.name for photo in photos]), final=True)


@dataclass(frozen=True)
class PhotoOutcome:
    """What replacing one photo's background produced."""

    subject: str
    file_ids: list[str]
    images: int
    seeds: tuple[int, ...] = ()


def replace_one(ctx: WorkerContext, job: Job, thread_ts: str, request: ReplaceBackgroundRequest,
                finder: PhotoFinder, photo: Photo, call_model: ModelCaller) -> PhotoOutcome:
    """Put one photo's subject on the new background and upload the result into ``thread_ts``."""
    model_id = model_for(ctx.settings, Role.REPLACE_BG)
    spec = require_task(model_id, Task.BACKGROUND_REPLACEMENT)  # before any call is made
    image = decode_for_model(finder.download(photo), spec)
    prepared = model_input(image, spec)
    if is_stability(model_id):
        subject, result = _replace_by_cutout(ctx, model_id, request, prepared, call_model)
    else:
        subject = request.keep
        if subject == AUTO_SUBJECT:
            seen = vision_input(image)
            subject = call_model(lambda: name_subject(ctx.bedrock, model_for(ctx.settings, Role.VISION), seen))
        result = call_model(lambda: replace_background(ctx.bedrock, model_id, request, prepared, subject))
    file_ids = ctx.slack.upload(job.channel_id, thread_ts, result_uploads(
        result.images, photo.name.rsplit(".", 1)[0], "new-background",
        f"{photo.name}: {request.prompt[:60]}", messages.replaced_alt_text(subject, request.prompt),
    ))
    ctx.telemetry.images_generated(model_id, len(result.images))
    return PhotoOutcome(subject, file_ids, len(result.images), result.seeds)


def _replace_by_cutout(ctx: WorkerContext, model_id: str, request: ReplaceBackgroundRequest,
                       prepared: PreparedImage, call_model: ModelCaller) -> tuple[str, GeneratedImages]:
    """Stability: cut the subject out, then paint around it while checking it is what ``keep=`` named.

    The check runs beside the inpaint call, so its round trip adds nothing to
    the wait. When the cut-out is the wrong subject the painting is dropped:
    one inpaint call spent on a rare mismatch buys a vision round trip on every photo.
    """
    remover = model_for(ctx.settings, Role.REMOVE_BG)
    cutout = call_model(lambda: remove_background(ctx.bedrock, remover, prepared)).images[0]
    with ThreadPoolExecutor(max_workers=1) as pool:
        painting = pool.submit(call_model, lambda: paint_background(ctx.bedrock, model_id, request, cutout, prepared))
        subject = _kept_subject(ctx, request, cutout, call_model)
        return subject, painting.result()


def _kept_subject(ctx: WorkerContext, request: ReplaceBackgroundRequest, cutout: bytes,
                  call_model: ModelCaller) -> str:
    """What the cut-out shows: named by the vision model (``keep=auto``) or checked against ``keep=``."""
    vision_model = model_for(ctx.settings, Role.VISION)
    # The vision model sees the cut-out on white: what will be kept, not the whole photo.
    kept = cutout_preview(cutout)
    if request.keep == AUTO_SUBJECT:
        return call_model(lambda: name_subject(ctx.bedrock, vision_model, kept))
    check = call_model(lambda: check_subject(ctx.bedrock, vision_model, kept, request.keep))
    if not check.matches:
        raise SubjectMismatch(request.keep, check.subject)
    return request.keep


def run_replace_background(job: Job, ctx: WorkerContext) -> None:
    """/replace-bg: one photo here; several become a batch of one job per photo."""
    request = ReplaceBackgroundRequest(**job.request)
    finder = PhotoFinder(ctx.slack.client)
    if job.batch is not None:
        run_batch_photo(job, ctx, request, finder)
        return
    photos = locate_photos(job, finder)
    if len(photos) > 1:
        start_batch(job, ctx, request, photos)
    else:
        replace_single(job, ctx, request, finder, photos[0])


def replace_single(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, finder: PhotoFinder,
                   photo: Photo) -> None:
    started = time.monotonic()
    with ctx.quota.reserve(job.team_id, job.user_id, request.count) as reservation:
        reply = post_reply(job, ctx, [photo], messages.replace_started(job.user_id, request))
        try:
            outcome = replace_one(ctx, job, reply.thread_ts, request, finder, photo, reply.call_model)
        except (ModelError, StudioError) as error:
            reply.fail(error)
        reservation.use(outcome.images)
    label = image_model_spec(model_for(ctx.settings, Role.REPLACE_BG)).label
    reply.show_result(messages.replace_summary([outcome.subject], request, label, time.monotonic() - started,
                                               list(outcome.seeds)),
                      outcome.file_ids, rerollable=True)


def start_batch(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, photos: list[Photo]) -> None:
    """Refuse up front if over the batch limit or quota; otherwise fan out one job per photo."""
    if len(photos) > MAX_PHOTOS:
        raise BatchTooLarge(len(photos), MAX_PHOTOS)
    if ctx.enqueue is None:
        raise QueueUnavailable("no queue for a batch")
    # All images are counted now, so the batch is refused whole rather than stopping halfway;
    # each photo gives back what it did not make.
    day = ctx.quota.take(job.team_id, job.user_id, request.count * len(photos))
    thread_ts = job.thread_ts or photos[0].thread_ts
    heading = messages.batch_started(job.user_id, request, len(photos))
    try:
        progress_ts = ctx.slack.post(job.channel_id, heading, text_blocks(
            heading, messages.batch_progress(0, 0, len(photos))), thread_ts=thread_ts)
    except StudioError:
        ctx.quota.give_back(job.team_id, job.user_id, request.count * len(photos), day)
        raise
    for index, photo in enumerate(photos):
        child = replace(job, id=f"{job.id}-{index}", image_source="files", file_ids=(photo.file_id,),
                        thread_ts=thread_ts, batch={"id": job.id, "index": index, "total": len(photos),
                                                    "progress_ts": progress_ts, "day": day})
        try:
            ctx.enqueue(child)
        except Exception as error:
            log.exception("could not queue batch photo", extra={"job_id": child.id})
            record_batch_photo(child, ctx, request, photo.name, None, QueueUnavailable(str(error)))


def run_batch_photo(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, finder: PhotoFinder) -> None:
    """One photo of a batch: process it and record the outcome, whatever happens.

    Every path ends in ``record_batch_photo``, so one bad photo (deleted, not an
    image, refused, or a crash) never keeps the batch from completing.
    """
    def call_model(call: Callable[[], T]) -> T:
        return with_model_retries(call, ctx, lambda attempt, delay: None)

    name = job.file_ids[0] if job.file_ids else "?"
    batch = job.batch or {}
    if not ctx.store.claim(f"batch-photo:{batch['id']}:{batch['index']}", 7 * 86400):
        # Delivered again (SQS), or retried after a failure: the photo was processed, or cut
        # off part-way; either way it is not processed twice. Only the bookkeeping remains.
        record_batch_photo(job, ctx, request, name, None, PhotoInterrupted())
        return
    outcome: PhotoOutcome | None = None
    error: BaseException | None = None
    try:
        photo = locate_photos(job, finder)[0]
        name = photo.name
        outcome = replace_one(ctx, job, str(job.thread_ts), request, finder, photo, call_model)
    except (ModelError, StudioError) as failure:
        error = failure
    except Exception as failure:
        log.exception("batch photo crashed", extra={"job_id": job.id})
        error = failure
    record_batch_photo(job, ctx, request, name, outcome, error)


def skip_batch_photo(job: Job, ctx: WorkerContext, name: str) -> None:
    """Count a batch photo that Studio was stopped before finishing as interrupted, so the batch completes."""
    batch = job.batch or {}
    ctx.store.claim(f"batch-photo:{batch['id']}:{batch['index']}", 7 * 86400)  # a redelivery does not redo it
    record_batch_photo(job, ctx, ReplaceBackgroundRequest(**job.request), name, None, PhotoInterrupted())


def record_batch_photo(job: Job, ctx: WorkerContext, request: ReplaceBackgroundRequest, name: str,
                       outcome: PhotoOutcome | None, error: BaseException | None) -> None:
    """Count the photo's outcome once, give back unused quota, update progress, report if last."""
    batch = job.batch or {}
    row = {"photo": name, "file_id": job.file_ids[0] if job.file_ids else "",
           "subject": outcome.subject if outcome else "",
           "outcome": "done" if outcome else "interrupted" if isinstance(error, PhotoInterrupted) else "failed",
           "reason": messages.plain_reason(error) if error else "", "images": outcome.images if outcome else 0}
    progress = ctx.store.batch_record(batch["id"], batch["index"], json.dumps(row), batch["total"])
    if not progress.duplicate:  # a redelivered photo job was counted (and its quota settled) before
        ctx.quota.give_back(job.team_id, job.user_id, request.count - (outcome.images if outcome else 0),
                            batch["day"])
        heading = messages.batch_started(job.user_id, request, progress.total)
        status = messages.batch_progress(progress.done, progress.failed, progress.total)
        if progress.rows is None:
            ctx.slack.update(job.channel_id, batch["progress_ts"], heading, text_blocks(heading, status),
                             best_effort=True)
        else:
            ctx.slack.finish(job.channel_id, batch["progress_ts"], heading, text_blocks(heading, status), job.thread_ts)
    # Exactly one job posts the report. If that upload fails, the claim is released so
    # the queue's retry of that job (or another photo's redelivery) can post it.
    report_key = f"batch-report:{batch['id']}"
    if progress.rows is not None and ctx.store.claim(report_key, 7 * 86400):
        rows = [json.loads(item) for item in progress.rows]
        try:
            ctx.slack.upload(job.channel_id, job.thread_ts, [Upload(
                content=batch_report_csv(rows), filename="replace-bg-report.csv",
                title="Background replacement report",
            )], comment=messages.batch_done(job.user_id, rows, request))
        except StudioError:
            ctx.store.release(report_key)
            raise


def batch_report_csv(rows: list[dict[str, Any]]) -> bytes:
    """The batch report: one line per photo with its subject, outcome and the reason for any failure."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["photo", "file_id", "subject", "outcome", "reason", "images"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class EditTask:
    """How one photo-editing command prepares its inputs and calls its handler."""

    request_type: type
    suffix: str
    # Which model does it, for this request (/edit: by words or with a mask image).
    role: Callable[[Any], Role]
    # Inputs are prepared once, outside the retry loop: photo bytes in, model inputs out.
    prepare: Callable[[Any, ImageModelSpec, list[bytes]], tuple[PreparedImage, ...]]
    call: Callable[[Any, str, Any, tuple[PreparedImage, ...]], GeneratedImages]
    rerollable: bool = True
    # /edit may take a second image as its mask; the others use the first photo only.
    photos_used: int = 1
    # Stability's image-to-image needs words: without a prompt, the vision model captions the photo.
    needs_prompt: bool = False


def _prepare_edit(request: EditRequest, spec: ImageModelSpec, photos: list[bytes]) -> tuple[PreparedImage, ...]:
    photo = model_input(decode_for_model(photos[0], spec), spec)
    if request.mask:
        return (photo,)
    if len(photos) < 2:
        raise UsageError("edit", "edit_needs_mask")
    return photo, prepare_mask(photos[1], photo.width, photo.height)


def _single_photo(request: Any, spec: ImageModelSpec, photos: list[bytes]) -> tuple[PreparedImage, ...]:
    return (model_input(decode_for_model(photos[0], spec), spec),)


EDIT_TASKS: dict[str, EditTask] = {
    "edit": EditTask(
        EditRequest, "edited", lambda request: Role.EDIT if request.mask else Role.EDIT_MASK, _prepare_edit,
        lambda client, model, request, inputs: inpaint(client, model, request, inputs[0], (inputs[1:] or [None])[0]),
        photos_used=2,
    ),
    "extend": EditTask(
        ExtendRequest, "extended", lambda request: Role.EXTEND,
        lambda request, spec, photos: extend_canvas(decode_for_model(photos[0], spec),
                                                    request.ratio_w, request.ratio_h, spec),
        lambda client, model, request, inputs: extend(client, model, request, *inputs),
    ),
    "remove-bg": EditTask(
        RemoveBackgroundRequest, "cutout", lambda request: Role.REMOVE_BG, _single_photo,
        lambda client, model, request, inputs: remove_background(client, model, inputs[0]),
        rerollable=False,
    ),
    "variations": EditTask(
        VariationsRequest, "variation", lambda request: Role.VARIATIONS, _single_photo,
        lambda client, model, request, inputs: variations(client, model, request, inputs[0]),
        needs_prompt=True,
    ),
    "upscale": EditTask(
        UpscaleRequest, "upscaled", lambda request: UPSCALE_ROLES[request.mode], _single_photo,
        lambda client, model, request, inputs: upscale(client, model, request, inputs[0]),
        rerollable=False,
    ),
}


def run_photo_edit(job: Job, ctx: WorkerContext) -> None:
    """/edit, /extend, /remove-bg, /upscale and Variations: one photo in, new images in its thread."""
    task = EDIT_TASKS[job.command]
    request = task.request_type(**job.request)
    model_id = model_for(ctx.settings, task.role(request))
    spec = image_model_spec(model_id)
    started = time.monotonic()
    finder = PhotoFinder(ctx.slack.client)
    photos = locate_photos(job, finder)
    with ctx.quota.reserve(job.team_id, job.user_id, getattr(request, "count", 1)) as reservation:
        reply = post_reply(job, ctx, photos, messages.edit_started(job.user_id, job.command, request))
        try:
            downloads = [finder.download(photo) for photo in photos[:task.photos_used]]
            inputs = task.prepare(request, spec, downloads)
            if task.needs_prompt and not request.prompt and is_stability(model_id):
                request = replace(request, prompt=_caption(ctx, downloads[0], reply.call_model))
            result = reply.call_model(lambda: task.call(ctx.bedrock, model_id, request, inputs))
            file_ids = ctx.slack.upload(job.channel_id, reply.thread_ts, result_uploads(
                result.images, photos[0].name.rsplit(".", 1)[0], task.suffix,
                f"{photos[0].name} ({task.suffix})", messages.edit_alt_text(job.command, request),
            ))
            reservation.use(len(result.images))  # charged once delivered, not when generated
        except (ModelError, StudioError) as error:
            reply.fail(error)
    ctx.telemetry.images_generated(model_id, len(result.images))
    reply.show_result(
        messages.edit_summary(job.command, request, spec.label, list(result.seeds or [result.seed]), result.blocked,
                              time.monotonic() - started, image_size(result.images[0])),
        file_ids, rerollable=task.rerollable,
    )


def _caption(ctx: WorkerContext, photo: bytes, call_model: ModelCaller) -> str:
    """A one-line description of ``photo``, to guide a model that needs words."""
    vision_model = model_for(ctx.settings, Role.VISION)
    image = prepare_for_vision(photo)
    return call_model(lambda: describe(ctx.bedrock, vision_model, DescribeRequest(), [image]))[0]
