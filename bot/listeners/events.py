"""Events: ``@Studio <command> …`` mentions and the App Home tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.commands.intake import MentionHelp, delivery_id, job_from_mention
from bot.errors import KnownError
from bot.listeners.context import Listening
from bot.listeners.replies import tell
from bot.slack.blocks import home_view

log = logging.getLogger(__name__)


def register(app: App, listening: Listening) -> None:
    """Listen for mentions and for the App Home tab being opened."""

    def mention(ack: Ack, body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        """``@Studio <command> …`` in a channel or thread."""
        ack()
        try:
            listening.enqueue(job_from_mention(event, body.get("team_id", ""), listening.settings, delivery_id(body)))
        except MentionHelp:
            _tell_mentioner(client, event, messages.mention_help())
        except KnownError as error:
            _tell_mentioner(client, event, messages.error_message(error))

    def home_opened(ack: Ack, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        """The App Home tab: today's usage and how to use Studio."""
        ack()
        if event.get("tab") != "home":
            return
        usage = listening.usage_text(body.get("team_id", ""), event["user"])
        try:
            client.views_publish(user_id=event["user"], view=home_view(usage, messages.home_help()))
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))

    app.event("app_mention")(mention)
    app.event("app_home_opened")(home_opened)


def _tell_mentioner(client: WebClient, event: dict[str, Any], text: str) -> None:
    tell(client, event["channel"], event.get("user", ""), text, thread_ts=event.get("thread_ts") or event.get("ts"))
