"""The one way a listener answers a person privately, and puts an error into words for a form."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.errors import KnownError, UsageError

log = logging.getLogger(__name__)


def tell(client: WebClient, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
    """An ephemeral note to ``user``, best effort: a listener has already acknowledged Slack."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
    except SlackApiError as error:
        log.warning("could not answer privately: %s", error.response.get("error"))


def tell_clicker(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral note to whoever used a shortcut or button, in the channel it was used in."""
    channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id", "")
    tell(client, channel, body["user"]["id"], text)


def form_error(error: KnownError) -> str:
    """What a form shows under its field: a usage problem on its own, anything else in full."""
    return messages.usage_problem(error) if isinstance(error, UsageError) else messages.error_message(error)
