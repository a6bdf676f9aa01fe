"""What a running job needs, built once per process (``bot.bootstrap``) and passed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.jobs import Job
from bot.quota import Quota
from bot.settings import Settings
from bot.store import Store
from bot.telemetry import LogTelemetry, Telemetry

if TYPE_CHECKING:
    # Only the worker on AWS has one; the ingress must not import S3 code (and Pillow) to start.
    from bot.catalogue.aws import CatalogueAws

    # Only jobs use Slack I/O; the ingress must not load it.
    from bot.slack.io import SlackIO


@dataclass(frozen=True)
class WorkerContext:
    """Settings and clients for running jobs."""

    settings: Settings
    slack: SlackIO
    bedrock: Any
    quota: Quota
    # Durable state: claims, result records for buttons and the quota counters.
    store: Store
    telemetry: Telemetry = field(default_factory=LogTelemetry)
    # Queues more jobs (a batch fans out one per photo); None where nothing may be queued.
    enqueue: Callable[[Job], None] | None = None
    sleep: Callable[[float], None] = field(default=time.sleep)
    # Where ZIP batches run on AWS (S3 + Step Functions); None runs them here, on this process's threads.
    catalogue: CatalogueAws | None = None

