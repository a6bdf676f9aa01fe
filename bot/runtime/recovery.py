"""Cleaning up after jobs that did not finish: a crash, a kill, or what a shutdown left.

The local runtime journals every accepted job with the images it reserved and
the lines it posted (``bot.runtime.sqlite_state``). For each job left there, this gives the
images back, marks its lines interrupted, counts a batch photo as interrupted
(so the batch's progress and report complete), and tells each person once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot import messages
from bot.context import WorkerContext
from bot.errors import StudioError
from bot.flows.batch import skip_batch_photo
from bot.jobs import Job
from bot.runtime.sqlite_state import JournalEntry, SqliteState
from bot.slack.blocks import text_blocks

log = logging.getLogger(__name__)

TOLD_TTL_SECONDS = 7 * 86400


def recover_unfinished(state: SqliteState, ctx: WorkerContext, job_ids: Iterable[str] | None = None) -> None:
    """Clean up the journaled jobs (all, or ``job_ids``) and tell their people; then forget them."""
    entries = state.journal_entries(None if job_ids is None else list(job_ids))
    lost: dict[tuple[str, str], list[tuple[Job, str]]] = {}
    batches: dict[str, tuple[Job, list[str]]] = {}
    for entry in entries:
        job = entry.job
        log.warning("job %s did not finish; cleaning up", job.id, extra={"job_id": job.id})
        names = _photo_names(job, ctx)
        try:
            _clean_up(entry, state, ctx, names)
        except Exception:  # noqa: BLE001 - one job's cleanup must not stop the others, nor the start
            log.exception("cleanup of an unfinished job failed", extra={"job_id": job.id})
        if job.batch is not None:
            # One line per batch in the notice, naming every photo that did not finish.
            first, photos = batches.setdefault(job.batch["id"], (job, []))
            photos.extend(names)
            continue
        lost.setdefault((job.team_id, job.user_id), []).append((job, _label(job, names)))
    for first, photos in batches.values():
        lost.setdefault((first.team_id, first.user_id), []).append((first, _label(first, photos)))
    for jobs in lost.values():
        _tell_once(jobs, state, ctx)
    for entry in entries:
        state.journal_remove(entry.job.id)


def _clean_up(entry: JournalEntry, state: SqliteState, ctx: WorkerContext, names: list[str]) -> None:
    job = entry.job
    released = state.release_held(job.id)
    if released:
        log.info("gave back %d reserved image(s)", released, extra={"job_id": job.id})
    for line in entry.lines:
        context = messages.interrupted_line(_label(job, names))
        ctx.slack.finish(line.channel, line.ts, line.text, text_blocks(line.text, context), line.thread_ts or line.ts)
    if job.batch is not None:
        skip_batch_photo(job, ctx, names[0] if names else (job.file_ids or ("?",))[0])


def _tell_once(jobs: list[tuple[Job, str]], state: SqliteState, ctx: WorkerContext) -> None:
    """One private note per person, listing what did not finish (never twice for a job)."""
    untold = [(job, label) for job, label in jobs if state.claim(f"interrupted-told:{job.id}", TOLD_TTL_SECONDS)]
    if untold:
        ctx.slack.tell(untold[0][0], messages.interrupted([label for _, label in untold]))


def _label(job: Job, names: list[str]) -> str:
    return messages.job_label(job.command, job.request, names)


def _photo_names(job: Job, ctx: WorkerContext) -> list[str]:
    """The names of the photos a job carries, best effort (the job may not know them yet)."""
    if not job.file_ids:
        return []
    try:
        return [photo.name for photo in ctx.slack.photos().by_ids(job.file_ids, job.thread_ts or "")]
    except StudioError as error:
        log.info("could not name the photos of job %s: %s", job.id, error)
        return []
