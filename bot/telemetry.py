"""What Studio reports about its work: job outcomes, images made, model latency.

Locally this goes to the log; on AWS ``bot.runtime.aws.PowertoolsTelemetry`` turns it
into CloudWatch metrics (EMF).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Telemetry(Protocol):
    def job_started(self, command: str) -> None: ...
    def job_finished(self, command: str, outcome: str, reason: str | None, seconds: float) -> None: ...
    def images_generated(self, model_id: str, count: int) -> None: ...
    def model_called(self, model_id: str, seconds: float) -> None: ...


class LogTelemetry:
    """Telemetry as log lines (local runtime)."""

    def job_started(self, command: str) -> None:
        log.debug("job started: %s", command)

    def job_finished(self, command: str, outcome: str, reason: str | None, seconds: float) -> None:
        log.debug("job %s: %s%s in %.1fs", command, outcome, f" ({reason})" if reason else "", seconds)

    def images_generated(self, model_id: str, count: int) -> None:
        log.debug("%d image(s) from %s", count, model_id)

    def model_called(self, model_id: str, seconds: float) -> None:
        log.debug("%s answered in %.2fs", model_id, seconds)


class MeasuredBedrock:
    """A bedrock-runtime client wrapper that reports how long each model call took.

    Handlers call ``invoke_model`` and ``converse``; the response body is read
    inside the timing so that streaming the answer counts as model time.
    """

    def __init__(self, client: Any, on_call: Callable[[str, float], None]) -> None:
        self._client = client
        self._on_call = on_call
        self.meta = client.meta

    def invoke_model(self, **kwargs: Any) -> Any:
        return self._measure(self._client.invoke_model, **kwargs)

    def converse(self, **kwargs: Any) -> Any:
        return self._measure(self._client.converse, **kwargs)

    def _measure(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = call(**kwargs)
            if hasattr(response.get("body"), "read"):
                response["body"] = _ReadBody(response["body"].read())
            return response
        finally:
            self._on_call(str(kwargs.get("modelId", "")), time.perf_counter() - started)


class _ReadBody:
    """An already-read response body that still offers ``read()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data
