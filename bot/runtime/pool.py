"""The local runtime's in-process worker pool."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from bot.jobs import Job

log = logging.getLogger(__name__)


class PoolClosed(RuntimeError):
    """The pool is shutting down and takes no new jobs."""


class WorkerPool:
    """Runs jobs on a fixed number of threads.

    On shutdown, running jobs get a grace period to finish; jobs still waiting
    are handed to ``on_dropped`` (all at once) so the people hear that their
    requests did not run.
    """

    def __init__(self, run: Callable[[Job], object], concurrency: int,
                 on_dropped: Callable[[list[Job]], None]) -> None:
        self._run = run
        self._on_dropped = on_dropped
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="studio-worker")
        self._pending: dict[Future[object], Job] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises ``PoolClosed`` after shutdown began."""
        with self._lock:
            if self._closed:
                raise PoolClosed("worker pool is shutting down")
            future = self._executor.submit(self._run, job)
            self._pending[future] = job
        future.add_done_callback(self._forget)

    def shutdown(self, grace_seconds: float | None = None) -> list[Job]:
        """Stop taking jobs, report the queued ones, and give running ones ``grace_seconds`` (None: all
        the time they need) to finish; returns the jobs still running then."""
        deadline = None if grace_seconds is None else time.monotonic() + grace_seconds
        with self._lock:
            self._closed = True
            waiting = list(self._pending.items())
        self._executor.shutdown(wait=False, cancel_futures=True)
        dropped = [job for future, job in waiting if future.cancelled()]
        if dropped:
            self._on_dropped(dropped)
        running = {future: job for future, job in waiting if not future.cancelled()}
        if running:
            log.info("waiting for %d running job(s) to finish", len(running))
        _, unfinished = wait(running, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        return [running[future] for future in unfinished]

    def idle(self) -> bool:
        """True when no job is queued or running."""
        with self._lock:
            return not self._pending

    def _forget(self, future: Future[object]) -> None:
        with self._lock:
            self._pending.pop(future, None)
