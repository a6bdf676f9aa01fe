"""Buttons and menus under a result: start the next job on that result, or open the Extend form."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import messages
from bot.commands.intake import delivery_id, job_from_action
from bot.errors import KnownError, NoImageFound, OutOfDate
from bot.listeners.context import Listening
from bot.listeners.replies import tell_clicker
from bot.slack.blocks import ACTION_PREFIX, extend_modal, parse_action_value

log = logging.getLogger(__name__)

CLICK_DEBOUNCE_SECONDS = 10


def register(app: App, listening: Listening) -> None:
    """Listen for every Studio button and menu (their action ids share a prefix)."""

    def result_action(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """A button (or per-image menu) under a result."""
        ack()
        value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
        try:
            name, ref, index = parse_action_value(str(value))
        except ValueError:
            tell_clicker(client, body, messages.error_message(OutOfDate("button")))
            return
        user_id = body["user"]["id"]
        # A double click (or Slack's redelivery) within a few seconds starts one job, not two.
        if not listening.state.claim(f"click:{ref}:{name}:{index}:{user_id}", CLICK_DEBOUNCE_SECONDS):
            return
        # Result records are read only for a click (first use; in the SnapStart snapshot).
        from bot.flows.results import load_result

        try:
            result = load_result(listening.state, ref)
            if result is None:
                raise NoImageFound("result_expired")
            if name == "extend":
                metadata = json.dumps({"ref": ref, "index": index})
                client.views_open(trigger_id=body["trigger_id"], view=extend_modal(metadata))
                return
            listening.enqueue(job_from_action(name, result, index, user_id, listening.settings, delivery_id(body)))
        except KnownError as error:
            tell_clicker(client, body, messages.error_message(error))
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            tell_clicker(client, body, messages.modal_failed())

    app.action(re.compile(f"^{ACTION_PREFIX}"))(result_action)
