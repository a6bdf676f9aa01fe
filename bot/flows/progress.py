"""The one message each job keeps up to date while it works, and ends with its outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NoReturn, TypeVar

from bot import messages
from bot.context import WorkerContext
from bot.errors import AlreadyReported
from bot.flows.results import Result, save_result
from bot.flows.retry import with_model_retries
from bot.jobs import Job
from bot.slack.blocks import InlineImage, result_blocks, text_blocks
from bot.slack.photo_refs import Photo

T = TypeVar("T")


@dataclass
class Progress:
    """A posted heading plus a context line that says how the work goes; the result ends up in it."""

    ctx: WorkerContext
    job: Job
    heading: str
    ts: str
    # Where the result files go: the photo's thread, or the heading's own.
    thread_ts: str
    # The photos the job works on (none for /imagine).
    photos: list[Photo] = field(default_factory=list)
    # The words on show (text, context line), when known: the same update is not sent twice.
    shown: tuple[str, str] | None = None

    def show(self, context: str, body: str | None = None, final: bool = False,
             images: Sequence[InlineImage] = ()) -> None:
        """Replace the message: ``body`` (or the heading) plus a context line; ``final`` for the outcome,
        which may show ``images`` inline (or not, when Slack refuses them)."""
        text = body if body is not None else self.heading
        if not final and self.shown == (text, context):
            return
        self.shown = (text, context)
        if final:
            self.ctx.slack.finish(self.job.channel_id, self.ts, text, text_blocks(text, context, images),
                                  self.thread_ts, text_blocks(text, context) if images else None)
        else:
            self.ctx.slack.update(self.job.channel_id, self.ts, text, text_blocks(text, context), best_effort=True)

    def show_result(self, context: str, file_ids: Sequence[str], rerollable: bool, enhanceable: bool = False,
                    alt_texts: Sequence[str] = ()) -> None:
        """The final message: how the result was made, with buttons for the next step.

        ``enhanceable`` adds the Enhance prompt button (an /imagine whose prompt Studio has not rewritten yet).
        Given their ``alt_texts``, the first files are shown in the message itself
        (the parent of /imagine, /formats): visible in the channel, not only in the thread.
        """
        if not file_ids:
            self.show(context, final=True)
            return
        source = self.job
        if self.photos:
            # Remember the photos actually used, so a Re-roll works on them, not on whatever is newest then.
            source = replace(self.job, image_source="files", file_ids=tuple(p.file_id for p in self.photos),
                             thread_ts=self.thread_ts)
        ref = save_result(self.ctx.store, Result(source, tuple(file_ids), self.thread_ts))
        images = list(zip(file_ids, alt_texts, strict=False))
        blocks = result_blocks(self.heading, context, ref, len(file_ids), rerollable, enhanceable, images)
        plain = result_blocks(self.heading, context, ref, len(file_ids), rerollable, enhanceable) if images else None
        self.ctx.slack.finish(self.job.channel_id, self.ts, self.heading, blocks, self.thread_ts, plain)

    def fail(self, error: BaseException) -> NoReturn:
        """Say where the person is looking what went wrong, then stop the job."""
        self.show(messages.error_message(error, self.ctx.settings), final=True)
        raise AlreadyReported(error) from error

    def call_model(self, call: Callable[[], T]) -> T:
        """Run a model call with visible retries."""
        return with_model_retries(call, self.ctx, lambda attempt, delay: self.show(messages.retrying(attempt, delay)))


def start_progress(job: Job, ctx: WorkerContext, heading: str, photos: Sequence[Photo] = (),
                   status: str = "Working…") -> Progress:
    """Post ``heading`` with ``status``: in the job's or the photos' thread, else as a new channel message."""
    thread_ts = job.thread_ts or (photos[0].thread_ts if photos else None)
    ts = ctx.slack.post(job.channel_id, heading, text_blocks(heading, status), thread_ts=thread_ts)
    return Progress(ctx, job, heading, ts, thread_ts or ts, list(photos), shown=(heading, status))
