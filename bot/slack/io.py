"""Everything Studio sends to Slack, with Slack failures turned into typed errors."""

from __future__ import annotations

import logging
import re
import time
import urllib.error
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.errors import BotNotInChannel, SlackRejected, SlackUnavailable
from bot.jobs import Job

if TYPE_CHECKING:
    from bot.slack.photos import PhotoFinder

log = logging.getLogger(__name__)

# Errors that mean "Studio may not post or read here" rather than "Slack is down".
_NO_ACCESS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
# Errors worth retrying later; any other error code is final.
_TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# Tries of the update that puts a job's outcome on its progress line (chat.update is idempotent).
SLACK_FINISH_ATTEMPTS = 3
# Tries of an update that shows result images inline before it falls back to the plain blocks.
INLINE_IMAGE_ATTEMPTS = 2
# Tries of a whole v2 upload when its upload step (plain HTTP) fails transiently.
SLACK_UPLOAD_ATTEMPTS = 3
# What a Slack error code looks like; anything else is a body slack_sdk could not parse (an HTML page).
_ERROR_CODE = re.compile(r"[a-z0-9_.]+")


@dataclass(frozen=True)
class Upload:
    """One file to upload."""

    content: bytes
    filename: str
    title: str
    alt_text: str = ""


class SlackIO:
    """Posts, updates and uploads for one workspace's bot token."""

    def __init__(self, client: WebClient, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        # Base wait between retries that slack_sdk's handlers do not cover (see ``upload``).
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep
        # Told (channel, ts, thread_ts, text) of every message posted; the local runtime journals them.
        self.on_post: Callable[[str, str, str | None, str], None] | None = None

    def photos(self) -> PhotoFinder:
        """Where jobs find and download their photos: through this workspace's Web API."""
        # Imported here: the photo finder brings Pillow's image checks, which the ingress never needs.
        from bot.slack.photos import PhotoFinder

        return PhotoFinder(self.client)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
             thread_ts: str | None = None) -> str:
        """Post a message (in a thread if ``thread_ts``); returns its ts."""
        with slack_errors("chat.postMessage"):
            response = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts,
                unfurl_links=False, unfurl_media=False,
            )
        if self.on_post is not None:
            self.on_post(channel, str(response["ts"]), thread_ts, text)
        return str(response["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None,
               best_effort: bool = False) -> None:
        """Replace the text (and blocks) of a message Studio posted.

        ``best_effort`` logs a failure instead of raising: once the result is in
        the thread, a failed progress update must not make the job run again.
        """
        try:
            with slack_errors("chat.update"):
                self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])
        except (SlackUnavailable, SlackRejected, BotNotInChannel) as error:
            if not best_effort:
                raise
            log.warning("could not update message %s: %s", ts, error)

    def finish(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None,
               thread_ts: str | None, plain_blocks: list[dict[str, Any]] | None = None) -> None:
        """Put a job's outcome on its progress line, so it never stays "Working…"; never raises.

        ``plain_blocks`` are ``blocks`` without the images shown inline: Slack refuses an
        image block (``invalid_blocks``) until it has processed the file, so the images
        get one more try after a pause, then the line shows the plain blocks (the files
        are in the thread either way). A transient failure is retried; if Slack still
        will not update the line (or it was deleted), the outcome is posted as a new
        message in ``thread_ts``.
        """
        if plain_blocks is not None:
            if self._update_with_images(channel, ts, text, blocks):
                return
            blocks = plain_blocks
        for attempt in range(1, SLACK_FINISH_ATTEMPTS + 1):
            try:
                self.update(channel, ts, text, blocks)
                return
            except SlackUnavailable as error:
                log.warning("could not finish message %s (try %d): %s", ts, attempt, error)
                if attempt < SLACK_FINISH_ATTEMPTS:
                    self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            except (SlackRejected, BotNotInChannel) as error:
                log.warning("could not finish message %s: %s", ts, error)
                break
        try:
            self.post(channel, text, blocks, thread_ts=thread_ts)
        except (SlackUnavailable, SlackRejected, BotNotInChannel) as error:
            log.error("could not post the outcome of message %s either: %s", ts, error)

    def _update_with_images(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> bool:
        """Try the update with inline images twice, a pause apart; False when Slack will not show them."""
        for attempt in range(1, INLINE_IMAGE_ATTEMPTS + 1):
            try:
                self.update(channel, ts, text, blocks)
                return True
            except SlackRejected as error:
                if error.code != "invalid_blocks":
                    return False
                log.warning("Slack refused the inline images of %s (try %d)", ts, attempt)
                if attempt < INLINE_IMAGE_ATTEMPTS:
                    self.sleep(self.backoff_seconds * 2)
            except (SlackUnavailable, BotNotInChannel):
                return False
        return False

    def upload(self, channel: str, thread_ts: str | None, uploads: Sequence[Upload],
               comment: str | None = None) -> list[str]:
        """Upload all files in one v2 upload, shared as one message; returns file ids.

        The bytes go to the upload URL with plain HTTP, outside slack_sdk's retry
        handlers; when that step fails transiently the whole upload starts again
        (nothing was shared yet, so nothing is posted twice).
        """
        for attempt in range(1, SLACK_UPLOAD_ATTEMPTS + 1):
            try:
                with slack_errors("files.uploadV2"):
                    response = self.client.files_upload_v2(
                        file_uploads=[
                            {"content": u.content, "filename": u.filename, "title": u.title,
                             **({"alt_txt": u.alt_text} if u.alt_text else {})}
                            for u in uploads
                        ],
                        channel=channel,
                        thread_ts=thread_ts,
                        initial_comment=comment,
                    )
                return [str(item["id"]) for item in response.get("files") or ()]
            except SlackUnavailable as error:
                wait = _upload_step_wait(error, self.backoff_seconds * 2 ** (attempt - 1))
                if wait is None or attempt == SLACK_UPLOAD_ATTEMPTS:
                    raise
                log.warning("upload to Slack failed (%s); retrying in %.1fs", error, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def is_member(self, channel: str, user: str) -> bool:
        """True when ``user`` is a member of ``channel`` (``conversations.members``, page by page).

        A direct message (``D…``) has only its two people, so it needs no lookup.
        """
        if channel.startswith("D"):
            return True
        cursor = None
        while True:
            with slack_errors("conversations.members"):
                page = self.client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            if user in (page.get("members") or ()):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

    def tell(self, job: Job, text: str) -> None:
        """A private note to the person who asked, best effort.

        The ``response_url`` works even where the bot is not a member, so it
        is preferred; otherwise an ephemeral message in the job's channel.
        """
        try:
            if job.response_url:
                # A response_url expires after 30 minutes and 5 uses; then fall back.
                webhook = WebhookClient(job.response_url, timeout=10, retry_handlers=self.client.retry_handlers)
                response = webhook.send(text=text, response_type="ephemeral", replace_original=False)
                if response.status_code == 200:
                    return
            self.client.chat_postEphemeral(
                channel=job.channel_id, user=job.user_id, text=text, thread_ts=job.thread_ts
            )
        except (SlackClientError, OSError) as error:
            # Nothing else can reach the person; the log is the last record.
            log.warning("could not send private note", extra={"job_id": job.id, "error": type(error).__name__})


def _upload_step_wait(error: SlackUnavailable, backoff: float) -> float | None:
    """Seconds to wait before uploading again, or None when the upload must not be retried here.

    Only a failed POST of the bytes qualifies: Web API steps were retried by the client already.
    """
    cause = error.__cause__
    if isinstance(cause, urllib.error.HTTPError):
        if cause.code == 429:
            return float(cause.headers.get("Retry-After") or 1)
        return backoff if cause.code >= 500 else None
    if isinstance(cause, SlackClientError) or not isinstance(cause, OSError):
        return None
    return backoff


@contextmanager
def slack_errors(method: str) -> Iterator[None]:
    """Turn Slack client failures into Studio's typed errors (no access, rejected, unavailable)."""
    try:
        yield
    except SlackApiError as error:
        status = error.response.status_code if error.response is not None else 0
        code = str(error.response.get("error") or "") if error.response is not None else ""
        if status >= 500 or not _ERROR_CODE.fullmatch(code):
            # An outage (often an HTML page): transient, and its body is never shown to anyone.
            raise SlackUnavailable(f"{method} failed: HTTP {status}") from error
        if code in _NO_ACCESS:
            raise BotNotInChannel(code) from error
        if code not in _TRANSIENT:
            raise SlackRejected(code) from error
        raise SlackUnavailable(f"{method} failed: {code}") from error
    except (SlackClientError, OSError) as error:
        raise SlackUnavailable(f"{method} failed: {type(error).__name__}") from error
