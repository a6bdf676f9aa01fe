"""What a running job needs, built once per process and passed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.clients import bedrock_runtime, slack_web_client
from bot.jobs import Job
from bot.quota import Quota, UsageStore
from bot.runtime.state import StateStore
from bot.settings import Settings
from bot.slack.io import SlackIO
from bot.telemetry import LogTelemetry, Telemetry


@dataclass(frozen=True)
class WorkerContext:
    """Settings and clients for running jobs."""

    settings: Settings
    slack: SlackIO
    bedrock: Any
    quota: Quota
    # Durable state: result records for buttons (and the quota counters).
    store: StateStore
    telemetry: Telemetry = field(default_factory=LogTelemetry)
    # Queues more jobs (a batch fans out one per photo); None where nothing may be queued.
    enqueue: Callable[[Job], None] | None = None
    sleep: Callable[[float], None] = field(default=time.sleep)


class Store(StateStore, UsageStore, Protocol):
    """Everything a worker keeps durably: claims, result records and usage counters."""


def quota_from(settings: Settings, store: UsageStore) -> Quota:
    """The daily quotas the settings ask for, counted in ``store``."""
    return Quota(store=store, per_user=settings.user_daily_images, per_team=settings.team_daily_images,
                 admins=settings.admins)


def build_worker_context(settings: Settings, store: Store, bedrock: Any = None,
                         telemetry: Telemetry | None = None,
                         enqueue: Callable[[Job], None] | None = None) -> WorkerContext:
    """A worker context with clients built from ``settings`` (``bedrock`` may be a wrapped client)."""
    return WorkerContext(
        settings=settings,
        slack=SlackIO(slack_web_client(settings), backoff_seconds=settings.retry_base_seconds / 4),
        bedrock=bedrock if bedrock is not None else bedrock_runtime(settings),
        quota=quota_from(settings, store),
        store=store,
        telemetry=telemetry or LogTelemetry(),
        enqueue=enqueue,
    )
