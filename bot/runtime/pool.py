"""The local runtime's in-process worker pool."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from bot.jobs import Job

log = logging.getLogger(__name__)


class PoolClosed(RuntimeError):
    """The pool is shutting down and takes no new jobs."""


class WorkerPool:
    """Runs jobs on up to ``concurrency`` threads, starting each as soon as ``lookahead`` allows.

    A job is *ahead* of the model from its start until its first Bedrock call
    gets a slot (``reached_model``) or it ends. At most ``lookahead`` jobs are
    ahead at once (None: no bound): they download and decode their photos while
    the others wait on Bedrock, and starting more would only share the CPU and
    delay every one's first call. The next job starts the moment one leaves,
    not when a whole round of jobs has finished.

    ``before_job`` runs on a job's thread before the job (the local runtime lets acks go first).

    On shutdown, running jobs get a grace period to finish; jobs not started
    are handed to ``on_dropped`` (all at once) so the people hear that their
    requests did not run.
    """

    def __init__(self, run: Callable[[Job], object], concurrency: int,
                 on_dropped: Callable[[list[Job]], None], lookahead: int | None = None,
                 before_job: Callable[[], None] = lambda: None) -> None:
        self._run = run
        self._before_job = before_job
        self._on_dropped = on_dropped
        self._lookahead = lookahead
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="studio-worker")
        self._queued: deque[Job] = deque()
        self._ahead = 0
        self._pending: dict[Future[object], Job] = {}
        # Reentrant: a future that is already done runs its callback (which locks) inside ``_start``.
        self._lock = threading.RLock()
        self._closed = False
        self._thread = threading.local()

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises ``PoolClosed`` after shutdown began."""
        with self._lock:
            if self._closed:
                raise PoolClosed("worker pool is shutting down")
            self._queued.append(job)
            self._start()

    def reached_model(self) -> None:
        """The calling thread's job has its first Bedrock slot: let the next job start."""
        if getattr(self._thread, "ahead", False):
            self._thread.ahead = False
            with self._lock:
                self._ahead -= 1
                self._start()

    def shutdown(self, grace_seconds: float | None = None) -> list[Job]:
        """Stop taking jobs, report the queued ones, and give running ones ``grace_seconds`` (None: all
        the time they need) to finish; returns the jobs still running then."""
        deadline = None if grace_seconds is None else time.monotonic() + grace_seconds
        with self._lock:
            self._closed = True
            never_started = list(self._queued)
            self._queued.clear()
            waiting = list(self._pending.items())
        self._executor.shutdown(wait=False, cancel_futures=True)
        dropped = [job for future, job in waiting if future.cancelled()] + never_started
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
            return not self._pending and not self._queued

    def _start(self) -> None:
        """Hand queued jobs to the threads while the lookahead allows (called with the lock held)."""
        while self._queued and not self._closed and (self._lookahead is None or self._ahead < self._lookahead):
            job = self._queued.popleft()
            self._ahead += 1
            future = self._executor.submit(self._run_ahead, job)
            self._pending[future] = job
            future.add_done_callback(self._forget)

    def _run_ahead(self, job: Job) -> object:
        self._thread.ahead = True
        try:
            self._before_job()
            return self._run(job)
        finally:
            self.reached_model()  # a job that never called Bedrock leaves the lookahead when it ends

    def _forget(self, future: Future[object]) -> None:
        with self._lock:
            self._pending.pop(future, None)
