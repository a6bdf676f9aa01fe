"""Turning what a person typed or clicked into a job, before anything is acknowledged."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.catalogue.source import check_s3_source
from bot.commands.grammar import clean_slack_text, split_s3_folder
from bot.commands.table import COMMANDS
from bot.errors import NoImageFound, UsageError
from bot.jobs import Job
from bot.settings import Settings
from bot.slack.photo_refs import message_photos, non_image_names
from handlers.requests import (
    DESCRIBE_PRESETS,
    DescribeRequest,
    ImagineRequest,
    RemoveBackgroundRequest,
    UpscaleRequest,
    VariationsRequest,
)

if TYPE_CHECKING:
    # Only result buttons and the Extend form hand a result in; the ingress loads it on first use.
    from bot.flows.results import Result

# What a job id (also a state key and a log field) may contain.
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
# Words that name a command in a mention (``@Studio replace background keep=car …``).
MENTION_WORDS = {name: name for name, command in COMMANDS.items() if command.slash} | {
    "replace": "replace-bg", "replacebg": "replace-bg", "removebg": "remove-bg",
}


class MentionHelp(UsageError):
    """A mention without a command word: answer with the list of commands."""

    def __init__(self) -> None:
        super().__init__("imagine", "mention help")


def delivery_id(body: Mapping[str, Any]) -> str:
    """A job id derived from what Slack sent, so the same request delivered twice is claimed once.

    Slash commands, shortcuts and form submissions carry a ``trigger_id`` unique to
    that invocation; events an ``event_id`` that Slack's retries repeat; a button
    click the ``action_ts`` of that click on that message. Anything else gets a
    fresh id (it cannot be told apart from a new request).
    """
    actions = body.get("actions")
    if body.get("type") == "block_actions" and isinstance(actions, list) and actions:
        container = body.get("container") or {}
        parts = ["act", container.get("channel_id"), container.get("message_ts") or container.get("view_id"),
                 actions[0].get("action_ts"), (body.get("user") or {}).get("id")]
    elif body.get("event_id"):
        parts = ["ev", body["event_id"]]
    elif body.get("trigger_id"):
        parts = ["trg", body["trigger_id"]]
    else:
        return uuid.uuid4().hex
    return _SAFE_ID.sub("", "-".join(str(part or "") for part in parts))[:200]


def request_fields(request: Any) -> dict[str, Any]:
    """``request``'s fields by name, as a job carries them.

    Equal to ``dataclasses.asdict`` for the requests of ``handlers.requests`` (plain
    values and tuples of them) without its recursive deep copy, ~9 % of an ack's CPU.
    """
    return dict(vars(request))


def parse_request(command: str, text: str, settings: Settings) -> Any:
    """The validated request for ``command``, with a seed fixed up front.

    Fixing the seed before the job is queued makes retries and redeliveries
    send exactly the same request, and lets the result say how to reproduce it.
    """
    return with_fixed_seed(command, COMMANDS[command].parse_text(text, settings), settings)


def request_from_fields(command: str, fields: Mapping[str, str], settings: Settings) -> Any:
    """The validated request for a modal's fields, with a seed fixed up front (see ``parse_request``)."""
    return with_fixed_seed(command, COMMANDS[command].parse_form(fields, settings), settings)


def with_fixed_seed(command: str, request: Any, settings: Settings) -> Any:
    """``request`` with a random seed if it has an unset one."""
    if getattr(request, "seed", 0) is not None:
        return request  # a seed given, or a request without one (/brand needs no model at all)
    image_spec = COMMANDS[command].image_spec(settings)
    if image_spec is not None:
        request = replace(request, seed=random.randint(0, image_spec.max_seed))
    return request


def job_from_action(action: str, result: Result, index: int, user_id: str, settings: Settings, job_id: str) -> Job:
    """A job for a result button: Re-roll the same request with a new seed, or act on image ``index``.

    The person who pressed is credited; the result goes to the same thread.
    """
    source = result.job
    base: dict[str, Any] = {"id": job_id, "team_id": source.team_id, "channel_id": source.channel_id,
            "user_id": user_id, "thread_ts": result.thread_ts}
    if action == "reroll":
        request = replace(COMMANDS[source.command].request_type(**source.request), seed=None)
        request = with_fixed_seed(source.command, request, settings)
        return Job(command=source.command, request=request_fields(request), image_source=source.image_source,
                   file_ids=source.file_ids, **base)
    if action == "enhance":
        if source.command != "imagine":
            raise UsageError("imagine", "unknown_action", action=action)
        # The same request and seed with a richer prompt, so the two results compare.
        request = replace(ImagineRequest(**source.request), enhance=True, enhanced="")
        return Job(command="imagine", request=request_fields(request), **base)
    if not 0 <= index < len(result.file_ids):
        raise NoImageFound("result_image_gone")
    requests: dict[str, Any] = {
        "variations": VariationsRequest(prompt=str(source.request.get("prompt", ""))),
        "remove-bg": RemoveBackgroundRequest(),
        "upscale": UpscaleRequest(),
        "describe": DescribeRequest(),
    }
    if action == "formats":  # every configured format; refused here on a stack without Stability's Outpaint
        requests[action] = COMMANDS["formats"].parse_text("", settings)
    if action not in requests:
        raise UsageError("imagine", "unknown_action", action=action)
    request = with_fixed_seed(action, requests[action], settings)
    return Job(command=action, request=request_fields(request), image_source="files",
               file_ids=(result.file_ids[index],), **base)


def job_for_result_image(command: str, request: Any, result: Result, index: int, user_id: str, job_id: str) -> Job:
    """A validated request (the Extend modal's) on image ``index`` of a result."""
    if not 0 <= index < len(result.file_ids):
        raise NoImageFound("result_image_gone")
    return Job(id=job_id, command=command, request=request_fields(request), team_id=result.job.team_id,
               channel_id=result.job.channel_id, user_id=user_id, thread_ts=result.thread_ts,
               image_source="files", file_ids=(result.file_ids[index],))


def s3_folder(command: str, text: str, settings: Settings) -> tuple[str | None, str]:
    """The ``s3://`` folder a batch names in ``text`` (None if none) and the command's own text.

    The folder is checked here, before the job is queued: the person hears at once
    that S3 folders need the AWS stack, or that the stack may not read that bucket.
    """
    uri, rest = split_s3_folder(command, text)
    if uri is not None:
        if not COMMANDS[command].uses_photo:
            raise UsageError(command, "s3_needs_photo_command")
        check_s3_source(uri, settings.catalogue_on_aws, settings.catalogue_readable_buckets)
    return uri, rest


def job_from_slash_command(body: dict[str, Any], settings: Settings) -> Job:
    """A job from a slash-command payload; photo commands use the person's newest photo (or an S3 folder)."""
    command = str(body["command"]).lstrip("/")
    uri, text = s3_folder(command, body.get("text", ""), settings)
    request = parse_request(command, text, settings)
    return Job(
        id=delivery_id(body),
        command=command,
        request=request_fields(request),
        team_id=body.get("team_id", ""),
        channel_id=body["channel_id"],
        user_id=body["user_id"],
        response_url=body.get("response_url") or None,
        image_source="s3" if uri else "recent",
        s3_uri=uri,
    )


def job_from_mention(event: dict[str, Any], team_id: str, settings: Settings, job_id: str | None = None) -> Job:
    """A job from an ``app_mention`` event; the reply goes to the mention's thread.

    The files on the message are used if there are any; in a thread, the newest
    image in the thread; otherwise the person's newest photo in the channel.
    The job id is ``job_id`` (the event's delivery id) or derived from the message,
    so Slack's retries map to one job.
    """
    word, rest = (clean_slack_text(event.get("text", "")).split(None, 1) + ["", ""])[:2]
    word = word.lower().lstrip("/")
    command = MENTION_WORDS.get(word)
    if command is None and word in DESCRIBE_PRESETS:
        command, rest = "describe", f"{word} {rest}"  # "@Studio alt" is "@Studio describe alt"
    if command is None:
        raise MentionHelp()
    if word == "replace" and rest.lower().startswith("background"):
        rest = rest[len("background"):]  # "@Studio replace background keep=car …"
    uri, rest = s3_folder(command, rest, settings)
    request = parse_request(command, rest, settings)
    photos = [] if uri else message_photos(event)  # a folder's batch ignores files on the message
    if not uri and event.get("files") and not photos and COMMANDS[command].uses_photo:
        names = non_image_names(event)
        raise NoImageFound("not_image", names[0])
    # In a thread, /replace-bg takes every photo there (a shoot); the others take the newest.
    in_thread = "thread_all" if command == "replace-bg" else "thread"
    source = "s3" if uri else "files" if photos else (in_thread if event.get("thread_ts") else "recent")
    return Job(
        id=job_id or f"{team_id}-{event['channel']}-{event['ts']}",
        command=command,
        request=request_fields(request),
        team_id=team_id,
        channel_id=event["channel"],
        user_id=event.get("user", ""),
        thread_ts=event.get("thread_ts") or event["ts"],
        image_source=source,
        file_ids=tuple(photo.file_id for photo in photos),
        s3_uri=uri,
    )


def job_for_message_photos(
    command: str, request: Any, *, job_id: str, team_id: str, channel_id: str, user_id: str,
    message: dict[str, Any], response_url: str | None = None,
) -> Job:
    """A job for a validated request on the photos of a given message (shortcuts and their modals)."""
    photos = message_photos(message)
    if not photos:
        raise NoImageFound("none_on_message")
    return Job(
        id=job_id,
        command=command,
        request=request_fields(request),
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        thread_ts=message.get("thread_ts") or message["ts"],
        image_source="files",
        file_ids=tuple(photo.file_id for photo in photos),
        response_url=response_url,
    )
