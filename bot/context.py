"""What a running job needs, built once per process and passed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings
from bot.slack_io import SlackIO
from bot.telemetry import LogTelemetry, Telemetry


@dataclass(frozen=True)
class WorkerContext:
    """Settings and clients for running jobs."""

    settings: Settings
    slack: SlackIO
    bedrock: Any
    telemetry: Telemetry = field(default_factory=LogTelemetry)
    sleep: Callable[[float], None] = field(default=time.sleep)
