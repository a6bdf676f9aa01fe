"""Photo references read from Slack payloads: pure, no network, no Pillow.

The ingress uses these to see which files a message carries; the worker
(``bot.photos``) looks them up and downloads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PHOTOS = 50


@dataclass(frozen=True)
class Photo:
    """A Slack file that is (by its metadata) an image, and the message it is on."""

    file_id: str
    name: str
    mimetype: str
    size: int
    url: str
    thread_ts: str  # the thread results go to: the message's thread, or the message itself


def message_photos(message: dict[str, Any]) -> list[Photo]:
    """The image files on one Slack message (others such as PDFs are skipped)."""
    ts = str(message.get("ts", ""))
    thread_ts = str(message.get("thread_ts") or ts)
    photos = []
    for item in message.get("files") or ():
        if item.get("mode") == "tombstone" or not item.get("id"):
            continue  # a deleted file leaves a tombstone behind
        if not str(item.get("mimetype", "")).startswith("image/"):
            continue
        photos.append(Photo(
            file_id=item["id"],
            # Names are shown in messages inside `code`; a backtick would break out of it.
            name=(item.get("name") or item["id"]).replace("`", "'"),
            mimetype=item.get("mimetype", ""),
            size=int(item.get("size") or 0),
            url=item.get("url_private_download") or item.get("url_private") or "",
            thread_ts=thread_ts,
        ))
    return photos


def non_image_names(message: dict[str, Any]) -> list[str]:
    """Names of the files on a message that are not images (for a helpful error)."""
    return [
        (item.get("name") or item.get("id", "?")).replace("`", "'")
        for item in message.get("files") or ()
        if item.get("mode") != "tombstone" and not str(item.get("mimetype", "")).startswith("image/")
    ]
