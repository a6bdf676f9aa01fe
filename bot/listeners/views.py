"""Form submissions: a form's fields become a request; a problem is shown under its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.commands.intake import delivery_id, job_for_message_photos, job_for_result_image, request_from_fields
from bot.errors import KnownError, NoImageFound, OutOfDate
from bot.listeners.context import Listening
from bot.listeners.replies import form_error
from bot.slack.blocks import form_metadata, modal_values


def register(app: App, listening: Listening) -> None:
    """Listen for the submissions of Studio's three forms."""

    def photo_form(command: str, error_block: str) -> Callable[[Ack, dict[str, Any], dict[str, Any]], None]:
        """A form opened by a message shortcut: run ``command`` on that message's photos."""

        def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            try:
                metadata = form_metadata(view, channel_id=str, message=dict)
                if not isinstance(metadata["message"].get("ts"), str):
                    raise OutOfDate("form")
                request = request_from_fields(command, modal_values(view), listening.settings)
                listening.enqueue(job_for_message_photos(
                    command, request, job_id=delivery_id(body),
                    team_id=body.get("team", {}).get("id", ""),
                    channel_id=metadata["channel_id"],
                    user_id=body["user"]["id"],
                    message=metadata["message"],
                    response_url=metadata.get("response_url"),
                ))
            except KnownError as error:
                # Keep the modal open with the problem shown under the field.
                ack(response_action="errors", errors={error_block: form_error(error)})
                return
            ack()

        return submitted

    def extend_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The Extend modal was submitted: outpaint that result image to the chosen format."""
        from bot.flows.results import load_result  # first use, as for a click (bot.listeners.actions)

        try:
            metadata = form_metadata(view, ref=str, index=int)
            result = load_result(listening.state, metadata["ref"])
            if result is None:
                raise NoImageFound("result_expired")
            request = request_from_fields("extend", modal_values(view), listening.settings)
            listening.enqueue(job_for_result_image("extend", request, result, metadata["index"],
                                                   body["user"]["id"], delivery_id(body)))
        except KnownError as error:
            ack(response_action="errors", errors={"prompt": form_error(error)})
            return
        ack()

    app.view("replace_background_modal")(photo_form("replace-bg", error_block="background"))
    app.view("describe_modal")(photo_form("describe", error_block="question"))
    app.view("extend_modal")(extend_submitted)
