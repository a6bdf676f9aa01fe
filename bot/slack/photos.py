"""Finding the photo a command is about, and downloading it from Slack.

Only files that the Slack API itself returned (for that message, thread or
person) are downloaded, and the bot token is only ever sent to Slack's hosts.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient

from bot.errors import NoImageFound, PhotoFetchFailed, SlackRejected, SlackUnavailable
from bot.slack.io import slack_errors
from bot.slack.photo_refs import Photo, message_photos, non_image_names
from handlers.errors import InvalidImage
from handlers.images import MAX_FILE_BYTES

RECENT_WINDOW_SECONDS = 15 * 60
# Waits before the 2nd and 3rd try of a download that failed transiently (5xx, 429, dropped connection).
DOWNLOAD_RETRY_SECONDS = (0.5, 2.0)
# None: the connection failed before Slack answered.
_TRANSIENT_STATUS = frozenset({None, 429, 500, 502, 503, 504})

log = logging.getLogger(__name__)


class _SlackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to Slack's hosts: urllib would carry the bot token anywhere."""

    def __init__(self, is_slack_host: Any) -> None:
        self._is_slack_host = is_slack_host

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if not self._is_slack_host(newurl):
            raise urllib.error.HTTPError(newurl, 403, "redirect away from Slack refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class PhotoFinder:
    """Looks up photos through the Slack Web API."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def newest_from_user(self, channel: str, user: str, now: float | None = None) -> list[Photo]:
        """The photos on the newest message with images that ``user`` posted in the last 15 minutes.

        Thread replies count, so the threads of recent messages are searched too.
        """
        oldest = f"{(now or time.time()) - RECENT_WINDOW_SECONDS:.6f}"
        history = self._call("conversations_history", channel=channel, oldest=oldest, limit=200)
        candidates: list[dict[str, Any]] = []
        for message in history.get("messages") or ():
            candidates.append(message)
            if message.get("reply_count") and float(message.get("latest_reply", 0)) >= float(oldest):
                candidates.extend(self._thread(channel, message["ts"], oldest)[1:])
        mine = [m for m in candidates if m.get("user") == user and message_photos(m)]
        if not mine:
            other = [name for m in candidates if m.get("user") == user for name in non_image_names(m)]
            raise NoImageFound("not_image", other[0]) if other else NoImageFound("none_recent")
        newest = max(mine, key=lambda m: float(m["ts"]))
        return message_photos(newest)

    def newest_in_thread(self, channel: str, thread_ts: str) -> list[Photo]:
        """The photos on the newest message with images in a thread (anyone's, results included)."""
        with_photos = [m for m in self._thread(channel, thread_ts, None) if message_photos(m)]
        if not with_photos:
            raise NoImageFound("none_in_thread")
        return message_photos(max(with_photos, key=lambda m: float(m["ts"])))

    def all_in_thread(self, channel: str, thread_ts: str) -> list[Photo]:
        """Every photo people posted in a thread, oldest first (a product shoot); Studio's own results are skipped."""
        photos = [photo for message in self._thread(channel, thread_ts, None) if not message.get("bot_id")
                  for photo in message_photos(message)]
        if not photos:
            raise NoImageFound("none_in_thread")
        return photos

    def by_ids(self, file_ids: Iterable[str], thread_ts: str) -> list[Photo]:
        """Photos for file ids a job carries, re-read from Slack so deletions are noticed."""
        photos: list[Photo] = []
        others: list[str] = []
        for file_id in file_ids:
            try:
                info = self._call("files_info", file=file_id)["file"]
            except NoImageFound:
                raise NoImageFound("deleted") from None
            photos += [replace(photo, thread_ts=thread_ts) for photo in message_photos({"files": [info]})]
            others += non_image_names({"files": [info]})
        if not photos:
            raise NoImageFound("not_image", others[0] if others else "?")
        return photos

    def download(self, photo: Photo) -> bytes:
        """The file's bytes, fetched with the bot token from Slack's file host."""
        if photo.size > MAX_FILE_BYTES:
            raise InvalidImage("file_too_large", megabytes=photo.size // 1_048_576, limit=MAX_FILE_BYTES // 1_048_576)
        if not self._is_slack_host(photo.url):
            raise InvalidImage("not_slack_hosted", name=photo.name)
        for wait in (*DOWNLOAD_RETRY_SECONDS, None):
            try:
                return self._fetch(photo)
            except PhotoFetchFailed as error:
                if wait is None or error.status not in _TRANSIENT_STATUS:
                    raise
                log.warning("photo download failed (%s); retrying in %.1fs", error, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def download_chunks(self, archive: Photo, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        """A large file (a ZIP of photos) in chunks as they arrive, never whole in memory.

        Not retried: a ZIP is read once, and a failed read is told like a failed photo download.
        """
        if not self._is_slack_host(archive.url):
            raise InvalidImage("not_slack_hosted", name=archive.name)
        with self._reading(archive) as response:
            while chunk := response.read(chunk_bytes):
                yield bytes(chunk)

    def _fetch(self, photo: Photo) -> bytes:
        with self._reading(photo) as response:
            return bytes(response.read(MAX_FILE_BYTES + 1))

    @contextmanager
    def _reading(self, photo: Photo) -> Iterator[Any]:
        """``photo``'s open download; Slack's and the network's failures become Studio's errors."""
        request = urllib.request.Request(photo.url, headers={"Authorization": f"Bearer {self.client.token}"})
        opener = urllib.request.build_opener(_SlackOnlyRedirects(self._is_slack_host))
        try:
            with opener.open(request, timeout=30) as response:
                yield response
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise NoImageFound("deleted") from None
            raise PhotoFetchFailed(photo.name, error.code) from None
        except OSError:
            raise PhotoFetchFailed(photo.name) from None

    def _thread(self, channel: str, ts: str, oldest: str | None) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"channel": channel, "ts": ts, "limit": 200}
        if oldest:
            args["oldest"] = oldest
        return list(self._call("conversations_replies", **args).get("messages") or ())

    def _call(self, method: str, **args: Any) -> Any:
        try:
            with slack_errors(method):
                return getattr(self.client, method)(**args)
        except SlackRejected as error:
            if error.code in ("file_not_found", "file_deleted"):
                raise NoImageFound("deleted") from None
            raise
        except SlackUnavailable as error:
            raise PhotoFetchFailed() from error

    def _is_slack_host(self, url: str) -> bool:
        host = urlparse(url).hostname or ""
        api_host = urlparse(self.client.base_url).hostname or ""
        return host == api_host or host == "slack.com" or host.endswith((".slack.com", ".slack-edge.com"))
