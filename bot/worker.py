"""Running one job: dispatch to its flow, and make sure every failure is told."""

from __future__ import annotations

import logging
from enum import Enum

from bot import messages
from bot.commands import COMMANDS
from bot.context import WorkerContext
from bot.errors import AlreadyReported, StudioError
from bot.jobs import Job
from handlers.errors import ModelError

log = logging.getLogger(__name__)


class Outcome(Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def run_job(job: Job, ctx: WorkerContext) -> Outcome:
    """Run ``job`` to the end; never raises, always leaves the person informed."""
    log.info("job started", extra={"job_id": job.id, "command": job.command, "channel": job.channel_id})
    try:
        COMMANDS[job.command].run(job, ctx)
    except AlreadyReported as error:
        log.info("job failed (reported in channel): %s", type(error.cause).__name__, extra={"job_id": job.id})
        return Outcome.FAILED
    except (StudioError, ModelError) as error:
        log.info("job failed: %s", type(error).__name__, extra={"job_id": job.id})
        ctx.slack.tell(job, messages.error_message(error))
        return Outcome.FAILED
    except Exception as error:  # noqa: BLE001 - the last line of defence for a worker thread
        log.exception("job crashed", extra={"job_id": job.id})
        ctx.slack.tell(job, messages.error_message(error))
        return Outcome.FAILED
    log.info("job succeeded", extra={"job_id": job.id})
    return Outcome.SUCCEEDED
