"""Running one job: dispatch to its flow, and make sure every failure is told."""

from __future__ import annotations

import logging
import time
from enum import Enum

from bot import messages
from bot.commands import COMMANDS
from bot.context import WorkerContext
from bot.errors import (
    AlreadyReported,
    BotNotInChannel,
    HelpRequested,
    NoImageFound,
    SlackRejected,
    SlackUnavailable,
    StudioError,
    UsageError,
)
from bot.jobs import Job
from handlers.errors import (
    InvalidImage,
    ModelAccessDenied,
    ModelBlocked,
    ModelBusy,
    ModelError,
    ModelUnsupported,
)

log = logging.getLogger(__name__)


class Outcome(Enum):
    SUCCEEDED = "succeeded"
    # Failed and the person was told; running it again would not help.
    FAILED = "failed"
    # Slack could not be reached, so nobody was told: the queue should retry it.
    UNDELIVERED = "undelivered"


_REASONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (ModelBlocked, "blocked"),
    (ModelBusy, "busy"),
    (ModelAccessDenied, "access_denied"),
    (ModelUnsupported, "unsupported"),
    (InvalidImage, "bad_image"),
    (NoImageFound, "no_image"),
    ((UsageError, HelpRequested), "usage"),
    (BotNotInChannel, "not_in_channel"),
    ((SlackUnavailable, SlackRejected), "slack"),
    (ModelError, "model_error"),
)


def failure_reason(error: BaseException) -> str:
    """A short, low-cardinality name for why a job failed (a metric dimension)."""
    if isinstance(error, AlreadyReported):
        error = error.cause
    for kinds, reason in _REASONS:
        if isinstance(error, kinds):
            return reason
    return "crash"


def run_job(job: Job, ctx: WorkerContext) -> Outcome:
    """Run ``job`` to the end; never raises, and leaves the person informed when Slack allows."""
    started = time.monotonic()
    log.info("job started", extra={"job_id": job.id, "command": job.command})
    ctx.telemetry.job_started(job.command)
    outcome, reason = _run(job, ctx)
    seconds = time.monotonic() - started
    log.info("job %s", outcome.value, extra={"job_id": job.id, "command": job.command, "outcome": outcome.value,
                                             "reason": reason, "seconds": round(seconds, 3)})
    ctx.telemetry.job_finished(job.command, outcome.value, reason, seconds)
    return outcome


def _run(job: Job, ctx: WorkerContext) -> tuple[Outcome, str | None]:
    try:
        COMMANDS[job.command].run(job, ctx)
    except AlreadyReported as error:
        return Outcome.FAILED, failure_reason(error)
    except SlackUnavailable as error:
        # Nothing reached the channel yet (later Slack failures are reported there),
        # so the queue may run the job again; on the local runtime the log says so.
        log.error("Slack unreachable, job not delivered: %s", error, extra={"job_id": job.id})
        return Outcome.UNDELIVERED, "slack"
    except (StudioError, ModelError) as error:
        ctx.slack.tell(job, messages.error_message(error))
        return Outcome.FAILED, failure_reason(error)
    except Exception as error:
        log.exception("job crashed", extra={"job_id": job.id})
        ctx.slack.tell(job, messages.error_message(error))
        return Outcome.FAILED, "crash"
    return Outcome.SUCCEEDED, None
