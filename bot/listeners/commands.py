"""Slash commands: parse, queue, and answer privately in the command's HTTP response."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot import messages
from bot.commands.intake import job_from_slash_command
from bot.commands.table import COMMANDS
from bot.errors import KnownError
from bot.listeners.context import Listening


def register(app: App, listening: Listening) -> None:
    """Listen for every slash command in the command table."""

    def slash_command(ack: Ack, body: dict[str, Any]) -> None:
        if body.get("command") == "/imagine" and body.get("text", "").strip().lower() == "usage":
            ack(text=listening.usage_text(body.get("team_id", ""), body["user_id"]))
            return
        try:
            job = job_from_slash_command(body, listening.settings)
            listening.enqueue(job)
        except KnownError as error:
            ack(text=messages.error_message(error))
            return
        ack(text=messages.working(job.command, int(job.request.get("count", 1))))

    for name, command in COMMANDS.items():
        if command.slash:
            app.command(f"/{name}")(slash_command)
