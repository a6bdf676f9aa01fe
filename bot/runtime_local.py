"""The local runtime: Socket Mode or an HTTP server, plus an in-process worker pool."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot import messages
from bot.app import build_app
from bot.clients import BoundedBedrock, bedrock_control, bedrock_runtime, slack_listener_client
from bot.commands import load_flows
from bot.context import WorkerContext, build_worker_context
from bot.doctor import model_checks, warn_admins
from bot.http_guard import GuardedWsgiHandler
from bot.jobs import Job
from bot.pool import WorkerPool
from bot.settings import Settings
from bot.state import SqliteState
from bot.worker import run_job

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
LOOKAHEAD_JOBS = 4


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Each Slack request gets its own thread so one slow ack cannot delay others.
    daemon_threads = True
    # socketserver's default backlog of 5 refuses connections when a channel
    # fires many commands at once.
    request_queue_size = 256


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("http: " + format, *args)


@dataclass
class LocalRuntime:
    """A running local Studio: the Bolt app, its worker pool and (in HTTP mode) its server."""

    app: App
    pool: WorkerPool
    state: SqliteState
    server: WSGIServer | None = None

    @property
    def url(self) -> str:
        """The HTTP events URL (HTTP mode only)."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}{EVENTS_PATH}"

    def serve_in_background(self) -> LocalRuntime:
        """Serve HTTP on a daemon thread (tests and benchmarks)."""
        assert self.server is not None
        threading.Thread(target=self.server.serve_forever, daemon=True, name="studio-http").start()
        return self

    def close(self) -> None:
        """Stop serving, finish running jobs and report dropped ones."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.pool.shutdown()


def build_runtime(settings: Settings, host: str = "0.0.0.0", http: bool = True) -> LocalRuntime:
    """Build state, clients, the worker pool, the app and (if ``http``) the HTTP server."""
    state = SqliteState(settings.state_path)
    load_flows()

    def submit(job: Job) -> None:
        # Journal first: if the process is killed, the next start tells the person.
        state.journal_add(job)
        try:
            pool.submit(job)
        except Exception:
            state.journal_remove(job.id)
            raise

    bedrock = BoundedBedrock(bedrock_runtime(settings), settings.worker_concurrency)
    ctx = build_worker_context(settings, state, bedrock=bedrock, enqueue=submit)
    report_interrupted(state, ctx)

    def run(job: Job) -> None:
        try:
            run_job(job, ctx)
        finally:
            state.journal_remove(job.id)

    def dropped(job: Job) -> None:
        ctx.slack.tell(job, messages.shutdown_cancelled())
        state.journal_remove(job.id)

    # A few more jobs than model calls: the next photos are prepared while others wait on Bedrock.
    pool = WorkerPool(run=run, concurrency=settings.worker_concurrency + LOOKAHEAD_JOBS, on_dropped=dropped)

    app = build_app(settings, slack_listener_client(settings), submit, state, socket_mode=not http)
    server = None
    if http:
        server = make_server(
            host, settings.port, GuardedWsgiHandler(app, settings.slack_signing_secret, path=EVENTS_PATH),
            server_class=_ThreadingWSGIServer, handler_class=_QuietHandler,
        )
    return LocalRuntime(app=app, pool=pool, state=state, server=server)


def report_interrupted(state: SqliteState, ctx: WorkerContext) -> None:
    """Tell the people whose jobs an earlier run accepted but never finished (crash, kill)."""
    for job in state.journal_unfinished():
        log.warning("job %s was interrupted by a restart; telling the requester", job.id)
        ctx.slack.tell(job, messages.interrupted())
        state.journal_remove(job.id)


def check_models(settings: Settings, runtime: LocalRuntime) -> None:
    """The start-up lifecycle check: warn in the log, and admins in Slack, about Legacy or unusable models."""
    try:
        checks = model_checks(settings, bedrock_control(settings))
        warn_admins(checks, runtime.app.client, settings.admins, runtime.state.claim)
    except Exception:
        log.exception("model check failed")


def serve(settings: Settings) -> None:
    """Run until Ctrl-C: Socket Mode when an app token is set, else HTTP on ``PORT``."""
    socket_mode = bool(settings.slack_app_token)
    runtime = build_runtime(settings, http=not socket_mode)
    threading.Thread(target=check_models, args=(settings, runtime), daemon=True, name="studio-model-check").start()
    try:
        if socket_mode:
            log.info("Studio is running in Socket Mode; press Ctrl-C to stop")
            SocketModeHandler(runtime.app, settings.slack_app_token, web_client=runtime.app.client).start()
        else:
            log.info("Studio is listening on %s; press Ctrl-C to stop", runtime.url)
            runtime.server.serve_forever()  # type: ignore[union-attr]
    except KeyboardInterrupt:
        log.info("stopping: finishing running jobs")
    finally:
        runtime.close()
