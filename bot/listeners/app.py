"""The Bolt app: built here, with one module per kind of Slack request registering its listeners.

Listeners validate, acknowledge and hand a job to ``submit``; they never call
Bedrock. With ``process_before_response`` the ack is the HTTP response, so
everything they do must finish well inside Slack's 3 seconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.access import AccessControl, AccessPolicy
from bot.listeners import actions, commands, events, shortcuts, views
from bot.listeners.context import Listening, Submit
from bot.quota import quota_from
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


def build_app(settings: Settings, client: WebClient, submit: Submit, state: Store,
              socket_mode: bool = False, claim_jobs: bool = True) -> App:
    """A Bolt app wired to ``submit`` jobs; ``socket_mode`` skips HTTP signature checks; ``claim_jobs``
    drops a job id seen before (see ``Listening``)."""
    bolt_logger = logging.getLogger("slack_bolt")
    # Added before the App exists: Bolt copies the base logger's filters to each of its component loggers.
    bolt_logger.addFilter(_bolt_log_filter)
    app = _bolt_app(
        # Naming the app spares Bolt an inspect.stack() call (~100 ms of cold start).
        name="studio",
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        # Requests over the Socket Mode websocket are authenticated by the app token.
        request_verification_enabled=not socket_mode,
        logger=bolt_logger,
    )
    access = AccessControl(AccessPolicy(settings.allowed_channels, settings.allowed_users, settings.admins), client)
    listening = Listening(settings, submit, state, access, quota_from(settings, state), claim_jobs)
    for module in (commands, events, shortcuts, views, actions):
        module.register(app, listening)
    _acknowledge_the_rest(app)
    app.error(_listener_failed)
    return app


def _bolt_app(**options: Any) -> App:
    """The Bolt app, with the bot's identity (``auth.test``) resolved now, at start.

    Otherwise Bolt asks Slack inside the first request's ack (on Lambda: in every
    cold container). If Slack cannot be reached now, the first request asks instead.
    """
    try:
        return App(token_verification_enabled=True, **options)
    except (BoltError, SlackClientError, OSError) as error:
        log.warning("could not resolve the bot's Slack identity at start (%s); the first request will",
                    type(error).__name__)
        return App(token_verification_enabled=False, **options)


# A listener that trips over a missing or mistyped field was sent a malformed payload.
_MALFORMED = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def _listener_failed(error: Exception) -> BoltResponse:
    """Any error a listener or middleware raised: logged without the request, answered without a traceback.

    A malformed payload (the sender's fault) is answered 400; anything else 500.
    """
    log.error("could not handle a request from Slack: %s", type(error).__name__, exc_info=error)
    return BoltResponse(status=400 if isinstance(error, _MALFORMED) else 500, body="")


def _acknowledge_the_rest(app: App) -> None:
    """Answer 200 to whatever the listeners above do not handle (registered last, so matched last).

    Bolt would answer 404, and Slack counts that as a failed delivery: events it
    sends every app (``tokens_revoked``, ``app_uninstalled``) or an admin-added
    subscription could get the app's events turned off.
    """
    anything = re.compile(".*")
    for register in (app.event, app.action, app.shortcut, app.view_submission, app.view_closed, app.options):
        register(anything)(_ignore)
    app.use(_acknowledge_notices)


def _acknowledge_notices(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
    """Answer Events API notices outside the event envelope (``app_rate_limited``), which no listener matches."""
    if body.get("type") == "app_rate_limited":
        log.warning("Slack is holding back Studio's events (app_rate_limited)")
        return BoltResponse(status=200, body="")
    next()
    return None


def _ignore(ack: Ack, body: dict[str, Any]) -> None:
    ack()
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else body.get("type")
    log.info("ignored a request Studio does not handle: %.60s", kind)


def _bolt_log_filter(record: logging.LogRecord) -> bool:
    """Keep request bodies (the person's text, ``response_url``, the verification token) out of Bolt's log."""
    message = str(record.msg)
    if message.startswith("Invalid request signature detected"):
        # bot.slack.http_guard refuses these first; should one reach Bolt, log the same one line, not the body.
        record.msg, record.args = "refused a request from Slack (HTTP 401): the signature does not match", ()
        return True
    # Bolt's Lambda adapter logs every whole event at DEBUG. And Bolt warns that SLACK_BOT_TOKEN "will be
    # unused" whenever a client is passed; Studio's client is built from that very token, so it is noise.
    return not message.startswith("Incoming event:") and "will be unused" not in message
