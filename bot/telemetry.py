"""What Studio reports about its work: job outcomes, images made, model latency.

Locally this goes to the log (``LogTelemetry``); on AWS ``PowertoolsTelemetry``
turns it into CloudWatch metrics (EMF).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)
NAMESPACE = "Studio"


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


class PowertoolsTelemetry:
    """Telemetry as CloudWatch metrics in Embedded Metric Format (one log line each)."""

    def job_started(self, command: str) -> None:
        self._count("JobsStarted", command=command)

    def job_finished(self, command: str, outcome: str, reason: str | None, seconds: float) -> None:
        name = "JobsSucceeded" if outcome == "succeeded" else "JobsFailed"
        self._count(name, command=command, **({"reason": reason} if reason else {}))
        self._emit("EndToEndTime", "Milliseconds", seconds * 1000, command=command)

    def images_generated(self, model_id: str, count: int) -> None:
        self._emit("ImagesGenerated", "Count", count, model=model_id)

    def model_called(self, model_id: str, seconds: float) -> None:
        self._emit("ModelLatency", "Milliseconds", seconds * 1000, model=model_id)

    def _count(self, name: str, **dimensions: str) -> None:
        self._emit(name, "Count", 1, **dimensions)

    @staticmethod
    def _emit(name: str, unit: str, value: float, **dimensions: str) -> None:
        # Imported here: the local runtime and the ingress load this module but never emit metrics.
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
