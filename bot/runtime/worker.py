"""Running one job: dispatch to its flow, and make sure every failure is told."""

from __future__ import annotations

import datetime as dt
import logging
import time
from enum import Enum

from slack_sdk.errors import SlackApiError

from bot import messages
from bot.commands.table import COMMANDS
from bot.context import WorkerContext
from bot.errors import AlreadyReported, KnownError, SlackUnavailable
from bot.jobs import Job
from handlers.errors import ModelUnavailable

log = logging.getLogger(__name__)


class Outcome(Enum):
    SUCCEEDED = "succeeded"
    # Failed and the person was told; running it again would not help.
    FAILED = "failed"
    # Slack could not be reached, so nobody was told: the queue should retry it.
    UNDELIVERED = "undelivered"


def run_job(job: Job, ctx: WorkerContext, will_retry: bool = False) -> Outcome:
    """Run ``job`` to the end; never raises, and leaves the person informed when Slack allows.

    ``will_retry`` says the queue runs the job again if it ends ``UNDELIVERED`` (SQS, not the last try).
    """
    started = time.monotonic()
    log.info("job started", extra={"job_id": job.id, "command": job.command})
    ctx.telemetry.job_started(job.command)
    outcome, reason = _run(job, ctx, will_retry)
    seconds = time.monotonic() - started
    log.info("job %s", outcome.value, extra={"job_id": job.id, "command": job.command, "outcome": outcome.value,
                                             "reason": reason, "seconds": round(seconds, 3)})
    ctx.telemetry.job_finished(job.command, outcome.value, reason, seconds)
    return outcome


def _run(job: Job, ctx: WorkerContext, will_retry: bool) -> tuple[Outcome, str | None]:
    try:
        COMMANDS[job.command].run(job, ctx)
    except AlreadyReported as error:
        if isinstance(error.cause, ModelUnavailable):
            warn_admins_once(error.cause, ctx)
        return Outcome.FAILED, messages.failure_reason(error)
    except SlackUnavailable as error:
        # Nothing reached the channel yet (later Slack failures are reported there),
        # so the queue may run the job again. Either way the person hears of it.
        log.error("Slack unreachable, job not delivered: %s", error, extra={"job_id": job.id})
        _tell_undelivered(job, ctx, error, will_retry)
        return Outcome.UNDELIVERED, "slack"
    except KnownError as error:
        ctx.slack.tell(job, messages.error_message(error, ctx.settings))
        if isinstance(error, ModelUnavailable):
            warn_admins_once(error, ctx)
        return Outcome.FAILED, messages.failure_reason(error)
    except Exception as error:
        log.exception("job crashed", extra={"job_id": job.id})
        ctx.slack.tell(job, messages.error_message(error, ctx.settings))
        return Outcome.FAILED, "crash"
    return Outcome.SUCCEEDED, None


def warn_admins_once(error: ModelUnavailable, ctx: WorkerContext) -> None:
    """DM each admin, once a day per model, what to change; log it either way."""
    text = messages.admin_model_unavailable(error, ctx.settings)
    log.error("model unavailable: %s (%s)", error.model_id, error.reason)
    if not ctx.store.claim(f"model-unavailable:{error.model_id}:{dt.date.today().isoformat()}", 86400):
        return
    for admin in sorted(ctx.settings.admins):
        try:
            ctx.slack.client.chat_postMessage(channel=admin, text=text)
        except SlackApiError as failure:
            log.warning("could not tell admin %s: %s", admin, failure.response.get("error"))


def _tell_undelivered(job: Job, ctx: WorkerContext, error: SlackUnavailable, will_retry: bool) -> None:
    """Tell the person privately, once per job (and once more when the queue gives up)."""
    try:
        first = ctx.store.claim(f"undelivered:{job.id}:{'retrying' if will_retry else 'final'}", 86400)
    except Exception:  # noqa: BLE001 - better told twice than never
        log.warning("could not record the undelivered notice", extra={"job_id": job.id})
        first = True
    if first:
        ctx.slack.tell(job, messages.undelivered(error, will_retry))
