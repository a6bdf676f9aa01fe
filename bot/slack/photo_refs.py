"""Photo references read from Slack payloads: pure, no network, no Pillow.

The ingress uses these to see which files a message carries; the worker
(``bot.slack.photos``) looks them up and downloads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PHOTOS = 50
# Labels that say nothing about the content: Slack gives them to files it could not type
# (a JPEG from some uploaders or with an odd name). The bytes decide once downloaded.
_UNKNOWN_TYPES = ("", "application/octet-stream", "binary/octet-stream", "application/binary")
# How Slack labels a ZIP (``filetype`` "zip"; Windows uploads say x-zip-compressed): a batch of photos.
_ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-zip")


@dataclass(frozen=True)
class Photo:
    """A Slack file that may be an image (its label says so, or says nothing), and the message it is on."""

    file_id: str
    name: str
    mimetype: str
    size: int
    url: str
    thread_ts: str  # the thread results go to: the message's thread, or the message itself
    # A ZIP of photos (a catalogue batch) rather than one photo.
    is_archive: bool = False


def message_photos(message: dict[str, Any]) -> list[Photo]:
    """The files on one Slack message that may be images, and its ZIPs (others, such as PDFs, are skipped)."""
    ts = str(message.get("ts", ""))
    thread_ts = str(message.get("thread_ts") or ts)
    photos = []
    for item in message.get("files") or ():
        if item.get("mode") == "tombstone" or not item.get("id"):
            continue  # a deleted file leaves a tombstone behind
        archive = is_zip(item)
        if not archive and not may_be_image(item):
            continue
        photos.append(Photo(
            file_id=item["id"],
            # Names are shown in messages inside `code`; a backtick would break out of it.
            name=(item.get("name") or item["id"]).replace("`", "'"),
            mimetype=item.get("mimetype", ""),
            size=int(item.get("size") or 0),
            url=item.get("url_private_download") or item.get("url_private") or "",
            thread_ts=thread_ts,
            is_archive=archive,
        ))
    return photos


def non_image_names(message: dict[str, Any]) -> list[str]:
    """Names of the files on a message that are not images (for a helpful error)."""
    return [
        (item.get("name") or item.get("id", "?")).replace("`", "'")
        for item in message.get("files") or ()
        if item.get("mode") != "tombstone" and not may_be_image(item) and not is_zip(item)
    ]


def is_zip(item: dict[str, Any]) -> bool:
    """Whether a Slack file is a ZIP (Slack's ``filetype``, its MIME type, or the name when unlabelled)."""
    mimetype = str(item.get("mimetype") or "").lower()
    if item.get("filetype") == "zip" or mimetype in _ZIP_TYPES:
        return True
    return mimetype in _UNKNOWN_TYPES and str(item.get("name") or "").lower().endswith(".zip")


def may_be_image(item: dict[str, Any]) -> bool:
    """Whether a Slack file is worth downloading as a photo: labelled an image, or not labelled usefully.

    The label is only a hint; ``handlers.images`` decides by the bytes and names
    what is wrong with a file that is not an image after all.
    """
    mimetype = str(item.get("mimetype") or "").lower()
    return mimetype.startswith("image/") or mimetype in _UNKNOWN_TYPES
