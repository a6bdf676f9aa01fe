"""Message shortcuts on a photo: open a form for the missing fields, or start at once."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.commands.intake import delivery_id, job_for_message_photos, parse_request
from bot.errors import KnownError, NoImageFound
from bot.listeners.context import Listening
from bot.listeners.replies import tell_clicker
from bot.slack.blocks import describe_modal, replace_background_modal
from bot.slack.photo_refs import message_photos

log = logging.getLogger(__name__)

# Message shortcuts that ask for the missing fields in a modal.
MODAL_SHORTCUTS = ("replace_background", "describe_image")


def register(app: App, listening: Listening) -> None:
    """Listen for Studio's message shortcuts."""

    def photo_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A message shortcut on a photo: open the modal that asks for the missing fields."""
        ack()
        message = body.get("message", {})
        if not message_photos(message):
            tell_clicker(client, body, messages.error_message(NoImageFound("none_on_message")))
            return
        metadata = json.dumps({
            "channel_id": body["channel"]["id"],
            # Only ids and types: private_metadata holds at most 3,000 characters, and
            # the worker looks the files up again anyway.
            "message": {"ts": message["ts"], "thread_ts": message.get("thread_ts"), "files": [
                {"id": photo.file_id, "mimetype": photo.mimetype} for photo in message_photos(message)
            ]},
            "response_url": body.get("response_url"),
        })
        view = (
            replace_background_modal(metadata)
            if body["callback_id"] == "replace_background"
            else describe_modal(metadata, messages.DESCRIBE_CHOICES)
        )
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            tell_clicker(client, body, messages.modal_failed())

    def remove_background_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The "Remove background" shortcut needs no questions: cut out the message's (first) photo."""
        ack()
        try:
            listening.enqueue(job_for_message_photos(
                "remove-bg", parse_request("remove-bg", "", listening.settings), job_id=delivery_id(body),
                team_id=body.get("team", {}).get("id", ""),
                channel_id=body["channel"]["id"], user_id=body["user"]["id"], message=body.get("message", {}),
                response_url=body.get("response_url"),
            ))
        except KnownError as error:
            tell_clicker(client, body, messages.error_message(error))

    for callback_id in MODAL_SHORTCUTS:
        app.shortcut(callback_id)(photo_shortcut)
    app.shortcut("remove_background")(remove_background_shortcut)
