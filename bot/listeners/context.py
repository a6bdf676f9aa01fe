"""What every listener shares: the settings, the access rules, the quota and the way into the job queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot import messages
from bot.access import AccessControl
from bot.errors import QueueUnavailable
from bot.jobs import Job
from bot.quota import Quota, resets_at
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

Submit = Callable[[Job], None]

# A job id is remembered this long, which covers Slack's retries (up to ~5 minutes).
JOB_CLAIM_SECONDS = 3600


# eq=False: a service (or counter) is equal only to itself; nor is comparison code built at cold start.
@dataclass(eq=False)
class Listening:
    """The shared state of the listeners; ``enqueue`` is the only way a job leaves them."""

    settings: Settings
    submit: Submit
    state: Store
    access: AccessControl
    quota: Quota
    # Drop a job id seen before (Slack's retries repeat it). On AWS the worker's idempotency,
    # keyed on the same id, runs a job once, so the ingress spares every ack a DynamoDB call.
    claim_jobs: bool = True

    def enqueue(self, job: Job) -> None:
        """Check access, claim the job id (a redelivery is dropped) and hand the job to the queue."""
        self.access.check(job.user_id, job.channel_id)
        key = f"job:{job.id}"
        try:
            if self.claim_jobs and not self.state.claim(key, JOB_CLAIM_SECONDS):
                log.info("duplicate delivery ignored", extra={"job_id": job.id})
                return
            self.submit(job)
        except Exception as error:
            log.exception("could not queue job", extra={"job_id": job.id})
            if self.claim_jobs:
                self._release_quietly(key)  # so that Slack's retry of this event may succeed
            raise QueueUnavailable() from error

    def usage_text(self, team_id: str, user_id: str) -> str:
        """A person's image usage today (``/imagine usage`` and the App Home tab)."""
        usage = self.quota.usage(team_id, user_id)
        return messages.usage_today(usage.user, usage.team, self.quota.per_user, self.quota.per_team,
                                    self.access.is_admin(user_id), resets_at())

    def _release_quietly(self, key: str) -> None:
        try:
            self.state.release(key)
        except Exception:  # noqa: BLE001 - best effort; the claim expires anyway
            log.warning("could not release claim %s", key)
