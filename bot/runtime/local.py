"""The local runtime: Socket Mode or an HTTP server, plus an in-process worker pool."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass, field

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.bootstrap import check_models, load_model_stack, slack_app, worker_context
from bot.clients import PREPARING_JOBS, jobs_in_flight
from bot.jobs import Job
from bot.runtime.ack_first import AcksFirst
from bot.runtime.pool import WorkerPool
from bot.runtime.recovery import recover_unfinished
from bot.runtime.sqlite_state import SqliteState
from bot.runtime.worker import run_job
from bot.settings import Settings
from bot.slack.http_server import SlackHttpServer

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# Threads answering Slack's HTTP requests. An ack is under a millisecond of CPU and the GIL
# serialises them, so more threads than that do not ack sooner: every runnable one only adds GIL
# hand-offs (a burst of 200 commands took 270-360 ms of CPU with 32 threads, 220-240 ms with 8).
# Eight still leave room for a few clients that stall (each holds a thread up to READ_TIMEOUT_SECONDS).
REQUEST_THREADS = 8


@dataclass
class LocalRuntime:
    """A running local Studio: the Bolt app, its worker pool and (in HTTP mode) its server."""

    app: App
    pool: WorkerPool
    state: SqliteState
    server: SlackHttpServer | None = None
    grace_seconds: float = 25.0
    # Set once the server loop runs: shutting down a server that never served would wait forever.
    serving: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The HTTP events URL (HTTP mode only)."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}{EVENTS_PATH}"

    def serve_in_background(self) -> LocalRuntime:
        """Serve HTTP on a daemon thread (tests and benchmarks)."""
        threading.Thread(target=self.serve_forever, daemon=True, name="studio-http").start()
        return self

    def serve_forever(self) -> None:
        """Serve HTTP until ``close``."""
        assert self.server is not None
        self.serving.set()
        self.server.serve_forever()

    def close(self) -> list[Job]:
        """Stop taking work, report queued jobs, and let running ones finish within the grace period.

        Returns the jobs still running after it: they stay in the journal, so the
        next start cleans up after them and tells their people.
        """
        if self.server is not None:
            if self.serving.is_set():
                self.server.shutdown()
            self.server.server_close()
        unfinished = self.pool.shutdown(self.grace_seconds)
        if unfinished:
            log.warning("%d job(s) still running after %.0f s; the next start will report them",
                        len(unfinished), self.grace_seconds)
        return unfinished


def build_runtime(settings: Settings, host: str = "0.0.0.0", http: bool = True) -> LocalRuntime:
    """Build state, clients, the worker pool, the app and (if ``http``) the HTTP server."""
    state = SqliteState(settings.state_path)
    load_model_stack()

    def submit(job: Job) -> None:
        # Journal first: if the process is killed, the next start tells the person.
        state.journal_add(job)
        try:
            pool.submit(job)
        except Exception:
            state.journal_remove(job.id)
            raise

    def run(job: Job) -> None:
        with state.running(job.id):
            try:
                run_job(job, ctx)
            finally:
                state.journal_remove(job.id)

    def dropped(jobs: list[Job]) -> None:
        recover_unfinished(state, ctx, [job.id for job in jobs])

    # Bedrock calls are bounded per model (the quotas are); the threads only need to be enough for a
    # photo job waiting on each of its models in turn, plus the next photos being prepared.
    acks_first = AcksFirst()
    pool = WorkerPool(run=run, concurrency=jobs_in_flight(settings.worker_concurrency),
                      on_dropped=dropped, lookahead=PREPARING_JOBS,
                      before_job=acks_first.wait_for_acks if http else lambda: None)
    ctx = worker_context(settings, state, enqueue=submit, model_calls=settings.worker_concurrency,
                         on_model_slot=pool.reached_model)
    # Clean up after an earlier run's crash or kill, then journal what jobs post as they go.
    recover_unfinished(state, ctx)
    ctx.slack.on_post = state.journal_line

    app = slack_app(settings, submit, state, socket_mode=not http)
    server = None
    if http:
        server = SlackHttpServer((host, settings.port), app, settings.slack_signing_secret, path=EVENTS_PATH,
                                 threads=REQUEST_THREADS, answering=acks_first)
    return LocalRuntime(app=app, pool=pool, state=state, server=server, grace_seconds=settings.shutdown_grace_seconds)


class Stop(Exception):
    """SIGTERM arrived (systemd, Docker, Kubernetes): stop as for Ctrl-C."""


def _stop(signum: int, frame: object) -> None:
    raise Stop()


def _quit_now(signum: int, frame: object) -> None:
    # A second signal while waiting for jobs: leave now; the journal has the rest.
    log.warning("stopping now; unfinished jobs will be reported on the next start")
    logging.shutdown()
    os._exit(1)


def serve(settings: Settings) -> None:
    """Run until Ctrl-C or SIGTERM: Socket Mode when an app token is set, else HTTP on ``PORT``."""
    socket_mode = bool(settings.slack_app_token)
    runtime = build_runtime(settings, http=not socket_mode)
    threading.Thread(target=check_models, args=(settings, runtime.app.client, runtime.state), daemon=True,
                     name="studio-model-check").start()
    signal.signal(signal.SIGTERM, _stop)
    socket_handler = None
    try:
        if socket_mode:
            log.info("Studio is running in Socket Mode; press Ctrl-C to stop")
            socket_handler = SocketModeHandler(runtime.app, settings.slack_app_token, web_client=runtime.app.client)
            socket_handler.start()  # type: ignore[no-untyped-call]  # slack_bolt's Socket Mode adapter is untyped
        else:
            log.info("Studio is listening on %s; press Ctrl-C to stop", runtime.url)
            runtime.serve_forever()
    except (KeyboardInterrupt, Stop):
        log.info("stopping: no new requests; finishing running jobs (up to %.0f s)", settings.shutdown_grace_seconds)
    finally:
        signal.signal(signal.SIGTERM, _quit_now)
        signal.signal(signal.SIGINT, _quit_now)
        if socket_handler is not None:
            socket_handler.close()  # type: ignore[no-untyped-call]
        unfinished = runtime.close()
    if unfinished:
        # Their threads cannot be stopped, and the interpreter would wait for them at exit.
        logging.shutdown()
        os._exit(0)
