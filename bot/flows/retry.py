"""Job-level retry for a busy model, visible to the person waiting."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Protocol, TypeVar

from bot.context import WorkerContext
from handlers.errors import ModelBusy

T = TypeVar("T")
log = logging.getLogger(__name__)


class ModelCaller(Protocol):
    """Runs one model call, retrying while Bedrock is busy."""

    def __call__(self, call: Callable[[], T]) -> T: ...


def with_model_retries(
    call: Callable[[], T], ctx: WorkerContext, on_retry: Callable[[int, float], None]
) -> T:
    """Run ``call``; on ``ModelBusy`` wait with exponential backoff and try again.

    botocore has already retried quick blips by the time ``ModelBusy`` arrives,
    so these waits are longer (base 2 s, doubling, with jitter so that many
    waiting jobs do not return in lockstep).
    """
    attempts = ctx.settings.job_retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ModelBusy as error:
            if attempt == attempts:
                raise
            delay = ctx.settings.retry_base_seconds * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
            log.warning("model busy (%s); job retry %d of %d in %.1fs", error, attempt, attempts - 1, delay)
            on_retry(attempt + 1, delay)
            ctx.sleep(delay)
    raise AssertionError("unreachable")


def quiet_retries(ctx: WorkerContext) -> ModelCaller:
    """A model caller for one photo of a batch: it retries like any other, but says nothing.

    A batch's progress line counts photos; one photo's retry is not worth a line of its own.
    """
    def call_model(call: Callable[[], T]) -> T:
        return with_model_retries(call, ctx, lambda attempt, delay: None)

    return call_model
