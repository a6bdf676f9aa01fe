"""Turning what a person typed into a job, before anything is acknowledged."""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, replace
from typing import Any

from bot.commands import COMMANDS
from bot.errors import UsageError
from bot.jobs import Job
from bot.settings import Settings


def parse_request(command: str, text: str, settings: Settings) -> Any:
    """The validated request for ``command``, with a seed fixed up front.

    Fixing the seed before the job is queued makes retries and redeliveries
    send exactly the same request, and lets the result say how to reproduce it.
    """
    spec = COMMANDS.get(command)
    if spec is None:
        raise UsageError("imagine", f"Studio has no `/{command}` command.")
    request = spec.parse(text, settings)
    image_spec = spec.image_spec(settings)
    if image_spec is not None and getattr(request, "seed", 0) is None:
        request = replace(request, seed=random.randint(0, image_spec.max_seed))
    return request


def job_from_slash_command(body: dict[str, Any], settings: Settings) -> Job:
    """A job from a slash-command payload (``command``, ``text``, ids, ``response_url``)."""
    command = str(body["command"]).lstrip("/")
    request = parse_request(command, body.get("text", ""), settings)
    return Job(
        id=uuid.uuid4().hex,
        command=command,
        request=asdict(request),
        team_id=body.get("team_id", ""),
        channel_id=body["channel_id"],
        user_id=body["user_id"],
        response_url=body.get("response_url") or None,
    )
