"""The local runtime's in-process worker pool."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from bot.jobs import Job

log = logging.getLogger(__name__)


class PoolClosed(RuntimeError):
    """The pool is shutting down and takes no new jobs."""


class WorkerPool:
    """Runs jobs on a fixed number of threads.

    On shutdown, running jobs finish; jobs still waiting are handed to
    ``on_dropped`` so the person hears that their request did not run.
    """

    def __init__(self, run: Callable[[Job], object], concurrency: int,
                 on_dropped: Callable[[Job], None]) -> None:
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

    def shutdown(self) -> None:
        """Stop taking jobs, finish running ones and report the dropped ones."""
        with self._lock:
            self._closed = True
            waiting = list(self._pending.items())
        self._executor.shutdown(wait=False, cancel_futures=True)
        dropped = [job for future, job in waiting if future.cancelled()]
        for job in dropped:
            self._on_dropped(job)
        running = len(waiting) - len(dropped)
        if running:
            log.info("waiting for %d running job(s) to finish", running)
        self._executor.shutdown(wait=True)

    def idle(self) -> bool:
        """True when no job is queued or running."""
        with self._lock:
            return not self._pending

    def _forget(self, future: Future[object]) -> None:
        with self._lock:
            self._pending.pop(future, None)
