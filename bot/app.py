"""The Bolt app: listeners validate, acknowledge and hand a job to ``submit``.

Listeners never call Bedrock. With ``process_before_response`` the ack is the
HTTP response, so everything here must finish well inside Slack's 3 seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import messages
from bot.commands import COMMANDS
from bot.errors import StudioError
from bot.intake import job_from_slash_command
from bot.jobs import Job
from bot.settings import Settings

log = logging.getLogger(__name__)

Submit = Callable[[Job], None]


def build_app(settings: Settings, client: WebClient, submit: Submit, socket_mode: bool = False) -> App:
    """A Bolt app wired to ``submit`` jobs; ``socket_mode`` skips HTTP signature checks."""
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        # Requests over the Socket Mode websocket are authenticated by the app token.
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        logger=logging.getLogger("slack_bolt"),
    )
    for name in COMMANDS:
        app.command(f"/{name}")(_slash_listener(settings, submit))
    return app


def _slash_listener(settings: Settings, submit: Submit) -> Callable[..., None]:
    def on_slash_command(ack: Ack, body: dict[str, Any]) -> None:
        try:
            job = job_from_slash_command(body, settings)
        except StudioError as error:
            ack(text=messages.error_message(error))
            return
        try:
            submit(job)
        except Exception:  # noqa: BLE001 - the queue is down; say so instead of a silent timeout
            log.exception("could not queue job", extra={"job_id": job.id})
            ack(text=messages.queue_unavailable())
            return
        ack(text=messages.working(job.command, int(job.request.get("count", 1))))

    return on_slash_command
