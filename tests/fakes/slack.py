"""A local fake of the Slack Web API for tests.

`FakeSlack` is a small HTTP server (stdlib ``ThreadingHTTPServer`` on
127.0.0.1, a free port, a daemon thread) that answers the real
``slack_sdk.WebClient`` unmodified: point ``base_url`` / ``SLACK_API_URL`` at
``fake.api_url``. It keeps a model of one workspace (channels, messages,
threads, files) so tests can assert what a person would see, and it validates
requests the way Slack does (auth, scopes, membership, required arguments,
Block Kit limits), so a wrong call fails in a test instead of in production.

Besides the Web API methods it serves the other Slack URLs a bot touches:

- ``/upload/v1/<ticket>``: the upload URL handed out by
  ``files.getUploadURLExternal`` (step 2 of the v2 upload flow);
- ``/files-pri/<team>-<file>/<name>``: ``url_private`` / ``url_private_download``.
  Like real Slack, a request without a valid bot token gets HTTP 200 with an
  HTML login page instead of the file;
- ``/response/<key>``: ``response_url`` endpoints for slash commands and
  interactions.

Module-level helpers build signed Slack requests (slash commands, Events API
envelopes, interaction payloads) for driving a Bolt app in tests.
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import mimetypes
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

BOT_TOKEN = "xoxb-fake-bot-token"
SIGNING_SECRET = "fake-signing-secret"
VERIFICATION_TOKEN = "fake-verification-token"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "studio"
APP_ID = "AFAKEAPP"
TEAM_ID = "T0001"
TEAM_NAME = "Fake Workspace"
TEAM_DOMAIN = "fake-workspace"

# What a Studio-like app's manifest grants. Tests that want to check the
# manifest's scope list pass their own list to ``FakeSlack(scopes=...)``.
DEFAULT_SCOPES: list[str] = [
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "mpim:history",
    "reactions:write",
    "usergroups:read",
    "users:read",
]

# Scopes a bot token needs per method (Slack's "Required scopes" section).
# Methods whose scope depends on the conversation type are handled inline.
_METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "usergroups.users.list": "usergroups:read",
    "views.publish": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "chat.getPermalink": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
    "users.info": "users:read",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "conversations.history": None,  # channels:/groups:/im:history, per channel
    "conversations.replies": None,  # same
    "conversations.info": None,  # channels:/groups:/im:read, per channel
    "conversations.members": None,  # same
}

_HISTORY_SCOPE = {"public": "channels:history", "private": "groups:history", "im": "im:history"}
_READ_SCOPE = {"public": "channels:read", "private": "groups:read", "im": "im:read"}

# Real Slack answers url_private without a valid token with its sign-in page
# (HTTP 200, text/html). Bots that forget the Authorization header end up
# feeding this HTML to an image decoder, which is exactly what tests must catch.
LOGIN_PAGE_HTML = (
    """<!DOCTYPE html>
<html lang="en-US" class="">
<head>
<meta charset="utf-8">
<title>Slack</title>
<meta name="robots" content="noindex, nofollow">
</head>
<body class="full_height">
<div id="page"><div id="page_contents">
<h1>Sign in to """
    + TEAM_NAME
    + """</h1>
<p>"""
    + TEAM_DOMAIN
    + """.slack.com</p>
<form id="signin_form" action="/" method="post">
<input type="email" name="email" placeholder="name@work-email.com">
<input type="password" name="password" placeholder="Password">
<button type="submit" id="signin_btn">Sign in</button>
</form>
</div></div>
</body>
</html>
"""
)

# During an outage Slack's edge answers 5xx with an HTML page, not the API's JSON.
SERVER_ERROR_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Slack is having trouble ({status})</title></head>
<body><h1>Server Error</h1><p>Slack is having some trouble right now. Please try again shortly.</p>
<p>Error {status}</p></body></html>
"""

_TS_RE = re.compile(r"^\d{1,12}\.\d{6}$")

_FILETYPES: dict[str, tuple[str, str]] = {
    # extension -> (Slack filetype, pretty_type)
    "jpg": ("jpg", "JPEG"),
    "jpeg": ("jpg", "JPEG"),
    "png": ("png", "PNG"),
    "gif": ("gif", "GIF"),
    "webp": ("webp", "WebP"),
    "heic": ("heic", "HEIC"),
    "tif": ("tiff", "TIFF"),
    "tiff": ("tiff", "TIFF"),
    "bmp": ("bmp", "BMP"),
    "txt": ("text", "Plain Text"),
    "pdf": ("pdf", "PDF"),
    "json": ("json", "JSON"),
    "mp4": ("mp4", "MPEG 4 Video"),
    "zip": ("zip", "Zip"),
}

_KNOWN_BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}


class _ApiError(Exception):
    """An ``{"ok": false, "error": ...}`` answer, with optional extra fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _invalid_arguments(*messages: str) -> _ApiError:
    # Modern Slack reports schema problems this way (see e.g. bolt-js #2115).
    return _ApiError("invalid_arguments", response_metadata={"messages": list(messages)})


# --------------------------------------------------------------------------
# argument helpers: Slack accepts form fields (all strings, JSON-in-a-string
# for structured values) and JSON bodies (native types); treat both alike.
# --------------------------------------------------------------------------


def _opt_str(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise _invalid_arguments(f"[ERROR] must be a string [json-pointer:/{name}]")
    return value


def _opt_bool(args: dict[str, Any], name: str, default: bool = False) -> bool:
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _opt_int(args: dict[str, Any], name: str) -> int | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid_arguments(f"[ERROR] must be an integer [json-pointer:/{name}]") from None


def _opt_json(args: dict[str, Any], name: str, error: str) -> Any:
    """A structured argument: native in JSON bodies, a JSON string in forms."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise _ApiError(error) from None
    return value


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    return int(sec), int((frac + "000000")[:6])


def _valid_ts(value: str) -> bool:
    return bool(re.fullmatch(r"\d+(\.\d+)?", value))


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _sniff_mimetype(data: bytes) -> str | None:
    """Image type from magic bytes; Slack also looks at content, not just names."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Stored pixel size (before EXIF rotation), like Slack's original_w/_h."""
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:  # noqa: BLE001 - not an image or no Pillow: Slack omits the fields
        return None


# --------------------------------------------------------------------------
# Block Kit validation: the documented limits that bots actually trip over.
# --------------------------------------------------------------------------


def _check_text_object(obj: Any, ptr: str, errors: list[str], *, max_len: int, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(f"[ERROR] must be an object [json-pointer:{ptr}]")
        return
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(f"[ERROR] must be one of {list(allowed)} [json-pointer:{ptr}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"[ERROR] must be more than 0 characters [json-pointer:{ptr}/text]")
    elif len(text) > max_len:
        errors.append(f"[ERROR] must be less than {max_len + 1} characters [json-pointer:{ptr}/text]")


def _check_element(el: Any, ptr: str, errors: list[str]) -> None:
    if not isinstance(el, dict) or not isinstance(el.get("type"), str):
        errors.append(f"[ERROR] missing required field: type [json-pointer:{ptr}]")
        return
    action_id = el.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > 255):
        errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/action_id]")
    if el["type"] == "button":
        _check_text_object(el.get("text"), f"{ptr}/text", errors, max_len=75, plain_only=True)
        value = el.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > 2000):
            errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/value]")
        url = el.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > 3000):
            errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{ptr}/url]")
        style = el.get("style")
        if style is not None and style not in ("primary", "danger"):
            errors.append(f"[ERROR] must be one of ['primary', 'danger'] [json-pointer:{ptr}/style]")
    elif el["type"] == "image":
        if not (el.get("image_url") or el.get("slack_file")):
            errors.append(f"[ERROR] missing required field: image_url [json-pointer:{ptr}]")
        if not isinstance(el.get("alt_text"), str) or not el.get("alt_text"):
            errors.append(f"[ERROR] missing required field: alt_text [json-pointer:{ptr}]")


# Slack's pattern for a file id in a slack_file object.
_SLACK_FILE_ID = re.compile(r"^[F][A-Z0-9]{8,}$")
# Image files an image block can show (Slack file object docs: png, jpg, jpeg and gif only).
_SLACK_FILE_IMAGE_TYPES = frozenset({"png", "jpg", "jpeg", "gif"})


def _check_slack_file_shape(obj: Any, ptr: str, errors: list[str]) -> None:
    """A slack_file object names its file by ``id`` or ``url``, never both."""
    if not isinstance(obj, dict) or ("id" in obj) == ("url" in obj):
        errors.append(f"[ERROR] invalid slack file [json-pointer:{ptr}]")
    elif "id" in obj and not (isinstance(obj["id"], str) and _SLACK_FILE_ID.match(obj["id"])):
        errors.append(f"[ERROR] input must match regex pattern: ^[F][A-Z0-9]{{8,}}$ [json-pointer:{ptr}/id]")


def validate_blocks(blocks: Any, *, max_blocks: int = 50, pointer: str = "/blocks") -> list[str]:
    """Check a Block Kit ``blocks`` array; return Slack-style error messages.

    Covers the documented limits bots typically exceed (block count, text
    lengths, button labels, element counts, duplicate ids); it is not a full
    schema check.
    """
    errors: list[str] = []
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"{pointer}/{i}"
        if not isinstance(block, dict):
            errors.append(f"[ERROR] must be an object [json-pointer:{ptr}]")
            continue
        kind = block.get("type")
        if kind not in _KNOWN_BLOCK_TYPES:
            errors.append(f"[ERROR] unsupported type: {kind} [json-pointer:{ptr}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                errors.append(f"[ERROR] must be less than 256 characters [json-pointer:{ptr}/block_id]")
            elif block_id in block_ids:
                errors.append(f"[ERROR] duplicate block_id: {block_id} [json-pointer:{ptr}/block_id]")
            else:
                block_ids.add(block_id)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"[ERROR] must provide either text or fields [json-pointer:{ptr}]")
            if "text" in block:
                _check_text_object(block["text"], f"{ptr}/text", errors, max_len=3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"[ERROR] no more than 10 items allowed [json-pointer:{ptr}/fields]")
                else:
                    for j, f in enumerate(fields):
                        _check_text_object(f, f"{ptr}/fields/{j}", errors, max_len=2000)
            if "accessory" in block:
                _check_element(block["accessory"], f"{ptr}/accessory", errors)
        elif kind == "header":
            _check_text_object(block.get("text"), f"{ptr}/text", errors, max_len=150, plain_only=True)
        elif kind == "image":
            if not (block.get("image_url") or block.get("slack_file")):
                errors.append(f"[ERROR] missing required field: image_url [json-pointer:{ptr}]")
            if block.get("image_url") and block.get("slack_file"):
                errors.append(f"[ERROR] must provide either image_url or slack_file [json-pointer:{ptr}]")
            if "slack_file" in block:
                _check_slack_file_shape(block["slack_file"], f"{ptr}/slack_file", errors)
            url = block.get("image_url")
            if isinstance(url, str) and len(url) > 3000:
                errors.append(f"[ERROR] must be less than 3001 characters [json-pointer:{ptr}/image_url]")
            alt = block.get("alt_text")
            if not isinstance(alt, str) or not alt:
                errors.append(f"[ERROR] missing required field: alt_text [json-pointer:{ptr}]")
            elif len(alt) > 2000:
                errors.append(f"[ERROR] must be less than 2001 characters [json-pointer:{ptr}/alt_text]")
            if "title" in block:
                _check_text_object(block["title"], f"{ptr}/title", errors, max_len=2000, plain_only=True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                errors.append(f"[ERROR] must have 1 to 10 items [json-pointer:{ptr}/elements]")
            else:
                for j, el in enumerate(elements):
                    if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                        _check_text_object(el, f"{ptr}/elements/{j}", errors, max_len=3000)
                    else:
                        _check_element(el, f"{ptr}/elements/{j}", errors)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 25:
                errors.append(f"[ERROR] must have 1 to 25 items [json-pointer:{ptr}/elements]")
            else:
                action_ids: set[str] = set()
                for j, el in enumerate(elements):
                    _check_element(el, f"{ptr}/elements/{j}", errors)
                    aid = el.get("action_id") if isinstance(el, dict) else None
                    if isinstance(aid, str):
                        if aid in action_ids:
                            errors.append(
                                f"[ERROR] duplicate action_id: {aid} [json-pointer:{ptr}/elements/{j}/action_id]"
                            )
                        action_ids.add(aid)
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                errors.append(f"[ERROR] missing required field: text [json-pointer:{ptr}]")
            elif len(text) > 12000:
                errors.append(f"[ERROR] must be less than 12001 characters [json-pointer:{ptr}/text]")
        elif kind == "input":
            if "label" in block:
                _check_text_object(block["label"], f"{ptr}/label", errors, max_len=2000, plain_only=True)
            else:
                errors.append(f"[ERROR] missing required field: label [json-pointer:{ptr}]")
            if "element" not in block:
                errors.append(f"[ERROR] missing required field: element [json-pointer:{ptr}]")
            else:
                _check_element(block["element"], f"{ptr}/element", errors)
    return errors


# --------------------------------------------------------------------------
# workspace model
# --------------------------------------------------------------------------


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool
    bot_member: bool
    members: set[str] | None  # None: any user counts as a member
    created: int
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message

    @property
    def kind(self) -> str:
        if self.id.startswith("D"):
            return "im"
        return "private" if self.is_private else "public"


@dataclass
class _File:
    info: dict[str, Any]
    content: bytes
    deleted: bool = False
    # (channel, message ts, thread_ts, sharing user)
    shares: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    # Slack processes an upload before image blocks may show it (clock time; 0 = at once).
    ready_at: float = 0.0


@dataclass
class _PendingUpload:
    ticket: str
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    snippet_type: str | None
    content: bytes | None = None
    completed: bool = False


@dataclass
class _Fault:
    error: str
    retry_after: int | None
    status: int | None = None
    html: bool = False


@dataclass
class _ResponseUrl:
    key: str
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlack:
    """A fake Slack workspace + Web API server for tests (see module docstring).

    Typical use::

        with FakeSlack() as fake:
            fake.add_channel("C1", "general")
            client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
            ...
            fake.wait_for(lambda: fake.bot_messages("C1"))
    """

    def __init__(
        self,
        bot_token: str = BOT_TOKEN,
        scopes: list[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot_token = bot_token
        self._initial_scopes: list[str] = list(DEFAULT_SCOPES if scopes is None else scopes)
        self.scopes: list[str] = list(self._initial_scopes)
        # ts values follow this clock so "the last 15 minutes" logic in the
        # bot works against the fake; tests may swap it to travel in time.
        self.clock = clock

        # what tests inspect
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.uploads: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.deletes: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        # User group id -> member user ids (usergroups.users.list).
        self.usergroups: dict[str, set[str]] = {}
        self.reactions: list[dict[str, Any]] = []
        self.downloads: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # Calls that Slack would accept but that are almost certainly bugs
        # (reply to a reply, thread_ts that matches nothing, file bytes that
        # contradict the file name, ...). Tests can assert it stays empty.
        self.warnings: list[str] = []
        # Seconds after an upload during which image blocks cannot show the file yet
        # (Slack answers invalid_blocks "invalid slack file" meanwhile).
        self.file_processing_seconds = 0.0

        self._lock = threading.RLock()
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._files: dict[str, _File] = {}
        self._pending_by_ticket: dict[str, _PendingUpload] = {}
        self._pending_by_file: dict[str, _PendingUpload] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._faults: dict[str, list[_Fault]] = {}
        # (method, seconds, which arguments) for calls to hold before applying them.
        self._delays: list[tuple[str, float, Callable[[dict[str, Any]], bool]]] = []
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True)

    # ------------------------------------------------------------------ life

    def start(self) -> Self:
        """Start serving on 127.0.0.1 (free port) in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeSlack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; call start() or use it as a context manager")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def api_url(self) -> str:
        """Web API base URL with trailing slash, for ``WebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    def reset(self) -> None:
        """Forget the workspace and every record, keep the server running.

        Lets one server be shared by a test session (ports and threads are
        the slow part). Ids and ts keep increasing across resets, so a stale
        id from an earlier test can never match a new object.
        """
        with self._lock:
            self.scopes = list(self._initial_scopes)
            for records in (
                self.ephemerals,
                self.uploads,
                self.updates,
                self.deletes,
                self.views,
                self.reactions,
                self.downloads,
                self.calls,
                self.warnings,
            ):
                records.clear()
            self.responses.clear()
            self.file_processing_seconds = 0.0
            self._channels.clear()
            self._users.clear()
            self._files.clear()
            self._pending_by_ticket.clear()
            self._pending_by_file.clear()
            self._response_urls.clear()
            self._faults.clear()
            self._delays.clear()
            self.usergroups.clear()
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True)

    # ------------------------------------------------------------ arranging

    def add_channel(
        self,
        channel_id: str = "C1",
        name: str = "general",
        bot_member: bool = True,
        *,
        is_private: bool = False,
        members: Iterable[str] | None = None,
    ) -> None:
        """Create (or replace the settings of) a conversation.

        ``members=None`` means any user id counts as a member (so ephemeral
        messages to any user work); pass a list to make
        ``chat.postEphemeral`` check ``user_not_in_channel``.
        """
        with self._lock:
            existing = self._channels.get(channel_id)
            member_set = set(members) if members is not None else None
            if existing is not None:
                existing.name = name
                existing.bot_member = bot_member
                existing.is_private = is_private
                existing.members = member_set
                return
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=name,
                is_private=is_private,
                bot_member=bot_member,
                members=member_set,
                created=int(self.clock()),
            )

    def set_bot_member(self, channel_id: str, member: bool = True) -> None:
        """Invite the bot to (or remove it from) a channel."""
        with self._lock:
            self._channel_or_raise(channel_id).bot_member = member

    def add_user(
        self, user_id: str, name: str | None = None, *, real_name: str | None = None, is_bot: bool = False
    ) -> dict[str, Any]:
        """Register a user for ``users.info``. Unregistered ``U…``/``W…`` ids
        still resolve to a generated user so tests need not register everyone."""
        with self._lock:
            user = self._make_user(user_id, name, real_name, is_bot)
            self._users[user_id] = user
            return copy.deepcopy(user)

    def add_file(
        self,
        content: bytes,
        name: str = "photo.jpg",
        mimetype: str = "image/jpeg",
        user: str = "U1",
        width: int | None = None,
        height: int | None = None,
        *,
        title: str | None = None,
        alt_txt: str | None = None,
    ) -> dict[str, Any]:
        """Store a file a user uploaded; returns its Slack file object.

        Attach it to a message with ``post_user_message(..., files=[file])``.
        ``width``/``height`` default to the real pixel size when Pillow can
        read the bytes.
        """
        with self._lock:
            file_id = self._new_id("F")
            f = self._make_file(
                file_id,
                content,
                name=name,
                title=title or name,
                mimetype=mimetype,
                user=user,
                alt_txt=alt_txt,
                size=(width, height) if width is not None and height is not None else None,
            )
            self._files[file_id] = f
            return self._render_file(f)

    def delete_file(self, file_id: str) -> None:
        """Delete a file: ``files.info`` answers ``file_not_found``, its URLs 404,
        and messages show it as a tombstone (as Slack does)."""
        with self._lock:
            f = self._files.get(file_id)
            if f is None:
                raise KeyError(file_id)
            f.deleted = True

    def post_user_message(
        self,
        channel: str,
        user: str,
        text: str = "",
        files: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> str:
        """A person posts a message (optionally with files from ``add_file``,
        optionally in a thread); returns its ts."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            if ts is not None:
                if not _TS_RE.match(ts):
                    raise ValueError(f"ts must look like '1700000000.000100', got {ts!r}")
                if ts in ch.messages:
                    raise ValueError(f"ts {ts} already used in {channel}")
            else:
                ts = self._next_ts(ch)
            if ch.members is not None:
                ch.members.add(user)
            msg: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "team": TEAM_ID,
                "client_msg_id": str(uuid.uuid4()),
            }
            file_ids = [f["id"] for f in files or []]
            for fid in file_ids:
                if fid not in self._files:
                    raise KeyError(f"unknown file {fid}; create it with add_file()")
            if file_ids:
                msg.update({"subtype": "file_share", "upload": True, "display_as_bot": False})
                msg["_file_ids"] = file_ids
            if thread_ts is not None:
                parent = ch.messages.get(thread_ts)
                if parent is None:
                    raise KeyError(f"no message {thread_ts} in {channel} to reply to")
                msg["thread_ts"] = thread_ts
                msg["parent_user_id"] = parent.get("user")
            ch.messages[ts] = msg
            for fid in file_ids:
                self._files[fid].shares.append((ch.id, ts, thread_ts, user))
            return ts

    def response_url(
        self,
        key: str = "r1",
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A ``response_url`` served by this fake. Posts are recorded in
        ``responses[key]``. Bind ``channel`` to make ``in_channel`` responses
        appear as channel messages, and ``message_ts`` to make
        ``replace_original``/``delete_original`` act on that message."""
        with self._lock:
            self._response_urls[key] = _ResponseUrl(key, channel, user, message_ts)
            self.responses.setdefault(key, [])
        return f"{self.base_url}/response/{urllib.parse.quote(key, safe='')}"

    # --------------------------------------------------- fault injection

    def fail_next(self, method: str, error: str = "ratelimited", n: int = 1, retry_after: int | None = None,
                  *, status: int | None = None, html: bool = False) -> None:
        """Make the next ``n`` calls of ``method`` fail.

        ``error == "ratelimited"`` answers HTTP 429 with ``Retry-After``
        (default 1 s) like Slack; ``error == "disconnect"`` closes the
        connection without an answer (a reset or dropped connection); any other
        error answers HTTP 200 ``{"ok": false, "error": error}``. ``status``
        (e.g. 500, 502, 503, 504) answers that HTTP status instead, with the
        JSON error body, or with an HTML error page when ``html`` is true (what
        Slack's edge serves during an outage). ``method`` is a Web API method
        name, ``"*"`` (any API method), or one of the non-API endpoints
        ``"upload"``, ``"download"``, ``"response_url"`` (those answer HTTP 500
        with a plain-text body for other errors, unless ``status`` says otherwise).
        """
        with self._lock:
            queue = self._faults.setdefault(method, [])
            for _ in range(n):
                queue.append(_Fault(error, retry_after, status, html))

    def reset_faults(self) -> None:
        """Forget all pending injected failures and delays."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def delay_next(self, method: str, seconds: float, when: Callable[[dict[str, Any]], bool] = lambda args: True) -> None:
        """Hold the next call of ``method`` whose arguments match ``when`` for ``seconds`` before Slack
        applies it, as a slow network does: calls made meanwhile overtake it."""
        with self._lock:
            self._delays.append((method, seconds, when))

    def _take_delay(self, method: str, args: dict[str, Any]) -> float:
        with self._lock:
            for index, (name, seconds, when) in enumerate(self._delays):
                if name == method and when(args):
                    del self._delays[index]
                    return seconds
        return 0.0

    # ------------------------------------------------ what a person sees

    def channel_messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first (user and bot),
        including thread replies broadcast to the channel."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            return [
                self._render_message(ch, m, with_channel=True)
                for m in self._sorted(ch)
                if self._is_top_level(m) or m.get("subtype") == "thread_broadcast"
            ]

    def thread_messages(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in a thread (without the parent), oldest first."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            return [
                self._render_message(ch, m, with_channel=True)
                for m in self._sorted(ch)
                if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
            ]

    def bot_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted (top level and replies), oldest first."""
        with self._lock:
            chans = [self._channel_or_raise(channel)] if channel else list(self._channels.values())
            out = [
                self._render_message(ch, m, with_channel=True)
                for ch in chans
                for m in ch.messages.values()
                if m.get("bot_id") == BOT_ID
            ]
            return sorted(out, key=lambda m: _ts_key(m["ts"]))

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """One message as ``conversations.history`` would show it."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            return self._render_message(ch, ch.messages[ts], with_channel=True)

    def file(self, file_id: str) -> dict[str, Any]:
        """A file object as ``files.info`` would show it (deleted files too)."""
        with self._lock:
            return self._render_file(self._files[file_id])

    def file_content(self, file_id: str) -> bytes:
        """The stored bytes of a file (uploaded by the bot or added by a test)."""
        with self._lock:
            return self._files[file_id].content

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Arguments of every call to ``method``, in order."""
        return [args for m, args in list(self.calls) if m == method]

    # ---------------------------------------------- building interactions

    def message_event(self, channel: str, ts: str, *, event_type: str = "message") -> dict[str, Any]:
        """The ``event`` part of an Events API callback for a stored message
        (``event_type="app_mention"`` for mentions); wrap it with ``event_body``."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            event = self._render_message(ch, ch.messages[ts], with_channel=False)
        for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
            event.pop(key, None)
        event["type"] = event_type
        event["channel"] = channel
        event["event_ts"] = ts
        if event_type == "message":
            event["channel_type"] = {"public": "channel", "private": "group", "im": "im"}[ch.kind]
        else:
            event.pop("subtype", None)
        return event

    def block_actions_payload(
        self,
        channel: str,
        message_ts: str,
        action_id: str,
        *,
        user: str = "U1",
        response_url: str = "",
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload for clicking the element ``action_id``
        in a stored message; wrap it with ``interaction_body``."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            message = self._render_message(ch, ch.messages[message_ts], with_channel=False)
        action: dict[str, Any] | None = None
        for block in message.get("blocks") or []:
            elements = block.get("elements") if block.get("type") == "actions" else None
            candidates = list(elements or [])
            if block.get("accessory"):
                candidates.append(block["accessory"])
            for el in candidates:
                if isinstance(el, dict) and el.get("action_id") == action_id:
                    action = {
                        "action_id": action_id,
                        "block_id": block.get("block_id", ""),
                        "type": el.get("type"),
                        "action_ts": f"{self.clock():.6f}",
                    }
                    for key in ("text", "value", "style"):
                        if key in el:
                            action[key] = el[key]
        if action is None:
            raise KeyError(f"no element with action_id {action_id!r} in message {message_ts}")
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id or new_trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": ch.name},
            "message": message,
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }

    def message_shortcut_payload(
        self,
        channel: str,
        message_ts: str,
        callback_id: str,
        *,
        user: str = "U1",
        response_url: str = "",
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``message_action`` (message shortcut) payload for a stored message."""
        with self._lock:
            ch = self._channel_or_raise(channel)
            message = self._render_message(ch, ch.messages[message_ts], with_channel=False)
        return {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{self.clock():.6f}",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID, "name": user.lower()},
            "channel": {"id": channel, "name": ch.name},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or new_trigger_id(),
            "response_url": response_url,
            "message_ts": message_ts,
            "message": message,
        }

    # --------------------------------------------------------- waiting

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll ``predicate`` until true; otherwise fail with a state summary.

        The bot works on background threads, so tests wait for what a person
        would eventually see instead of sleeping.
        """
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            try:
                if predicate():
                    return
                last_error = None
            except Exception as exc:  # noqa: BLE001 - e.g. a predicate indexing an empty list
                last_error = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        detail = f" (last predicate error: {last_error!r})" if last_error else ""
        raise AssertionError(f"condition not met within {timeout}s{detail}\n{self.summary()}")

    def summary(self) -> str:
        """Human-readable dump of the workspace state, for failure messages."""

        def short(value: Any, limit: int = 120) -> str:
            text = value if isinstance(value, str) else json.dumps(value)
            return text if len(text) <= limit else text[: limit - 1] + "…"

        lines: list[str] = ["FakeSlack state:"]
        with self._lock:
            for ch in self._channels.values():
                lines.append(f"  #{ch.name} ({ch.id}, {ch.kind}, bot {'in' if ch.bot_member else 'NOT in'} channel):")
                for m in self._sorted(ch):
                    indent = "      ↳ " if not self._is_top_level(m) else "    - "
                    who = "bot" if m.get("bot_id") == BOT_ID else m.get("user", "?")
                    extra = f" files={m['_file_ids']}" if m.get("_file_ids") else ""
                    blocks = f" blocks={len(m['blocks'])}" if m.get("blocks") else ""
                    lines.append(f"{indent}[{m['ts']}] {who}: {short(m.get('text', ''))}{blocks}{extra}")
            for e in self.ephemerals:
                lines.append(f"  ephemeral to {e['user']} in {e['channel']}: {short(e.get('text') or '')}")
            for key, posts in self.responses.items():
                for p in posts:
                    lines.append(f"  response_url {key}: {short(p)}")
            for u in self.uploads:
                lines.append(f"  upload {u['file_id']} {u['filename']} -> {u['channel']} thread={u['thread_ts']}")
            for v in self.views:
                lines.append(f"  {v['method']}: {short(v['view'])}")
            for w in self.warnings:
                lines.append(f"  WARNING: {w}")
            tail = self.calls[-15:]
            if tail:
                lines.append(f"  last {len(tail)} of {len(self.calls)} API calls:")
                for method, args in tail:
                    lines.append(f"    {method} {short(args, 160)}")
        return "\n".join(lines)

    # ============================================================ internals

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _next_ts(self, ch: _Channel | None = None) -> str:
        # Slack ts are unique per channel and increase; derive them from the
        # clock so age checks in the bot behave like in production.
        us = max(int(self.clock() * 1_000_000), self._last_ts_us + 1)
        while True:
            ts = f"{us // 1_000_000}.{us % 1_000_000:06d}"
            if ch is None or ts not in ch.messages:
                break
            us += 1
        self._last_ts_us = us
        return ts

    def _channel_or_raise(self, channel_id: str) -> _Channel:
        ch = self._channels.get(channel_id)
        if ch is None:
            raise KeyError(f"unknown channel {channel_id}; add it with add_channel()")
        return ch

    @staticmethod
    def _sorted(ch: _Channel) -> list[dict[str, Any]]:
        return sorted(ch.messages.values(), key=lambda m: _ts_key(m["ts"]))

    @staticmethod
    def _is_top_level(m: dict[str, Any]) -> bool:
        return m.get("thread_ts") in (None, m["ts"])

    def _make_user(self, user_id: str, name: str | None, real_name: str | None, is_bot: bool) -> dict[str, Any]:
        name = name or user_id.lower()
        real = real_name or name.replace(".", " ").title()
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": real,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real,
                "display_name": name,
                "real_name_normalized": real,
                "display_name_normalized": name,
                "team": TEAM_ID,
                **({"bot_id": BOT_ID, "api_app_id": APP_ID} if user_id == BOT_USER_ID else {}),
            },
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(self.clock()),
        }

    def _make_file(
        self,
        file_id: str,
        content: bytes,
        *,
        name: str,
        title: str,
        mimetype: str,
        user: str,
        alt_txt: str | None,
        size: tuple[int, int] | None = None,
    ) -> _File:
        filetype, pretty = _FILETYPES.get(_ext(name), (_ext(name) or "binary", (_ext(name) or "binary").upper()))
        quoted = urllib.parse.quote(name)
        now = int(self.clock())
        info: dict[str, Any] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/{quoted}",
            "url_private_download": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/download/{quoted}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{user}/{file_id}/{quoted}",
            "permalink_public": f"https://slack-files.com/{TEAM_ID}-{file_id}-{secrets.token_hex(5)}",
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if alt_txt:
            info["alt_txt"] = alt_txt
        if mimetype.startswith("image/"):
            dims = size or _image_size(content)
            if dims is not None:
                info["original_w"], info["original_h"] = dims
        return _File(info=info, content=content)

    def _render_file(self, f: _File, *, with_shares: bool = True) -> dict[str, Any]:
        out = copy.deepcopy(f.info)
        shares: dict[str, dict[str, list[dict[str, Any]]]] = {}
        channels: list[str] = []
        groups: list[str] = []
        ims: list[str] = []
        if with_shares:
            for cid, ts, thread_ts, share_user in f.shares:
                ch = self._channels.get(cid)
                if ch is None:
                    continue
                bucket = "public" if ch.kind == "public" else "private"
                entry: dict[str, Any] = {
                    "reply_users": [],
                    "reply_users_count": 0,
                    "reply_count": 0,
                    "ts": ts,
                    "channel_name": ch.name,
                    "team_id": TEAM_ID,
                    "share_user_id": share_user,
                }
                if thread_ts:
                    entry["thread_ts"] = thread_ts
                shares.setdefault(bucket, {}).setdefault(cid, []).append(entry)
                target = channels if ch.kind == "public" else ims if ch.kind == "im" else groups
                if cid not in target:
                    target.append(cid)
        out.update({"shares": shares, "channels": channels, "groups": groups, "ims": ims})
        return out

    def _render_message(self, ch: _Channel, m: dict[str, Any], *, with_channel: bool) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in m.items() if not k.startswith("_")}
        file_ids = m.get("_file_ids")
        if file_ids:
            files = []
            for fid in file_ids:
                f = self._files.get(fid)
                # Slack keeps the slot but replaces deleted files by a tombstone.
                files.append(
                    self._render_file(f) if f is not None and not f.deleted else {"id": fid, "mode": "tombstone"}
                )
            out["files"] = files
        if self._is_top_level(m):
            replies = [r for r in ch.messages.values() if r.get("thread_ts") == m["ts"] and r["ts"] != m["ts"]]
            if replies:
                replies.sort(key=lambda r: _ts_key(r["ts"]))
                users = list(dict.fromkeys(r.get("user", "") for r in replies))
                out.update(
                    {
                        "thread_ts": m["ts"],
                        "reply_count": len(replies),
                        "reply_users_count": len(users),
                        "latest_reply": replies[-1]["ts"],
                        "reply_users": users,
                    }
                )
        if with_channel:
            out["channel"] = ch.id
        return out

    def _warn(self, text: str) -> None:
        self.warnings.append(text)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            keys = (method,) if method in ("upload", "download", "response_url") else (method, "*")
            for key in keys:
                queue = self._faults.get(key)
                if queue:
                    return queue.pop(0)
        return None

    # ---------------------------------------------------- API dispatch

    def _handle_api(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Run one Web API method; raises _ApiError for ``ok: false`` answers."""
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None or method not in _METHOD_SCOPES:
            raise _ApiError("unknown_method")
        if token is None:
            raise _ApiError("not_authed")
        if token != self.bot_token:
            raise _ApiError("invalid_auth")
        needed = _METHOD_SCOPES[method]
        if needed is not None:
            self._need_scope(needed)
        with self._lock:
            result: dict[str, Any] = handler(args)
        return result

    def _need_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise _ApiError("missing_scope", needed=scope, provided=",".join(self.scopes))

    def _conversation(
        self,
        args: dict[str, Any],
        name: str = "channel",
        *,
        need_member: bool,
        scope_map: dict[str, str] | None = None,
        allow_name: bool = False,
        public_post: bool = False,
    ) -> _Channel:
        cid = _opt_str(args, name)
        if cid is None:
            raise _ApiError("channel_not_found")
        ch = self._channels.get(cid)
        if ch is None and allow_name:
            # chat.postMessage also takes a channel name
            ch = next((c for c in self._channels.values() if c.name == cid.lstrip("#")), None)
        # A private channel the bot is not in is invisible to it.
        if ch is None or (ch.kind != "public" and not ch.bot_member):
            raise _ApiError("channel_not_found")
        if scope_map is not None:
            self._need_scope(scope_map[ch.kind])
        if need_member and not ch.bot_member:
            if public_post and "chat:write.public" in self.scopes:
                return ch
            raise _ApiError("not_in_channel")
        return ch

    def _message_content(self, args: dict[str, Any], *, required: bool) -> dict[str, Any]:
        """text / blocks / attachments / metadata, validated like Slack."""
        content: dict[str, Any] = {}
        text = args.get("text")
        if text is not None:
            if not isinstance(text, str):
                text = str(text)
            if len(text) > 40000:
                raise _ApiError("msg_too_long")
            content["text"] = text
        blocks = _opt_json(args, "blocks", "invalid_blocks_format")
        if blocks is not None:
            errors = validate_blocks(blocks) or self._slack_file_errors(blocks)
            if errors:
                raise _ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
            content["blocks"] = blocks
        attachments = _opt_json(args, "attachments", "invalid_attachments")
        if attachments is not None:
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments")
            if len(attachments) > 100:
                raise _ApiError("too_many_attachments")
            content["attachments"] = attachments
        metadata = _opt_json(args, "metadata", "invalid_metadata_format")
        if metadata is not None:
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                raise _ApiError("invalid_metadata_format")
            content["metadata"] = metadata
        if required and not (content.get("text") or content.get("blocks") or content.get("attachments")):
            raise _ApiError("no_text")
        return content

    def _thread_parent(self, ch: _Channel, thread_ts: str | None, method: str) -> str | None:
        """Resolve thread_ts like Slack: a reply's ts is not a thread; unknown
        ts still 'succeeds' but nobody sees the message — record a warning."""
        if thread_ts is None:
            return None
        parent = ch.messages.get(thread_ts)
        if parent is None:
            self._warn(f"{method}: thread_ts {thread_ts} matches no message in {ch.id}; the reply is invisible")
            return thread_ts
        if not self._is_top_level(parent):
            self._warn(
                f"{method}: thread_ts {thread_ts} is a reply in thread {parent['thread_ts']}; use the parent's ts"
            )
            return str(parent["thread_ts"])
        return thread_ts

    def _bot_message(self, ch: _Channel, content: dict[str, Any], thread_ts: str | None) -> dict[str, Any]:
        ts = self._next_ts(ch)
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": content.get("text", ""),
            "ts": ts,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in content:
                msg[key] = content[key]
        if thread_ts is not None:
            parent = ch.messages.get(thread_ts)
            msg["thread_ts"] = thread_ts
            msg["parent_user_id"] = parent.get("user") if parent else None
        ch.messages[ts] = msg
        return msg

    def _slack_file_errors(self, blocks: list[Any]) -> list[str]:
        """Image blocks showing Slack files: the file must exist, be a png/jpg/gif the bot can see
        (its own upload, or shared where it is a member), and be processed already."""
        errors: list[str] = []
        for i, block in enumerate(blocks):
            ref = block.get("slack_file") if block.get("type") == "image" else None
            if not isinstance(ref, dict):
                continue
            f = self._files.get(str(ref.get("id"))) if "id" in ref else next(
                (f for f in self._files.values()
                 if ref.get("url") in (f.info["url_private"], f.info["permalink"])), None)
            visible = f is not None and not f.deleted and (
                f.info["user"] == BOT_USER_ID
                or any(self._channels[cid].bot_member for cid, *_ in f.shares if cid in self._channels))
            if (f is None or not visible or f.info.get("filetype") not in _SLACK_FILE_IMAGE_TYPES
                    or self.clock() < f.ready_at):
                errors.append(f"[ERROR] invalid slack file [json-pointer:/blocks/{i}/slack_file]")
        return errors

    def _own_message(self, ch: _Channel, ts: str | None, not_mine: str) -> dict[str, Any]:
        msg = ch.messages.get(ts) if ts else None
        if msg is None or msg.get("subtype") == "tombstone":
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            raise _ApiError(not_mine)
        return msg

    # -- auth

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    # -- chat

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=True, allow_name=True, public_post=True)
        content = self._message_content(args, required=True)
        thread_ts = self._thread_parent(ch, _opt_str(args, "thread_ts"), "chat.postMessage")
        msg = self._bot_message(ch, content, thread_ts)
        if thread_ts is not None and _opt_bool(args, "reply_broadcast"):
            msg["subtype"] = "thread_broadcast"
        out = {k: copy.deepcopy(v) for k, v in msg.items() if not k.startswith("_")}
        return {"ok": True, "channel": ch.id, "ts": msg["ts"], "message": out}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=False)
        msg = self._own_message(ch, _opt_str(args, "ts"), "cant_update_message")
        content = self._message_content(args, required=True)
        if "text" in content:
            msg["text"] = content["text"]
        # Slack keeps blocks/attachments the call leaves out; [] removes them.
        for key in ("blocks", "attachments"):
            if key in content:
                if content[key]:
                    msg[key] = content[key]
                else:
                    msg.pop(key, None)
        if "metadata" in content:
            msg["metadata"] = content["metadata"]
        msg["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        self.updates.append(
            {"channel": ch.id, "ts": msg["ts"], "text": content.get("text"), "blocks": content.get("blocks")}
        )
        out = self._render_message(ch, msg, with_channel=False)
        return {"ok": True, "channel": ch.id, "ts": msg["ts"], "text": msg.get("text", ""), "message": out}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=True)
        user = _opt_str(args, "user")
        if user is None:
            raise _invalid_arguments("[ERROR] missing required field: user")
        if ch.members is not None and user not in ch.members:
            raise _ApiError("user_not_in_channel")
        content = self._message_content(args, required=True)
        thread_ts = _opt_str(args, "thread_ts")
        if thread_ts is not None:
            thread_ts = self._thread_parent(ch, thread_ts, "chat.postEphemeral")
        message_ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": ch.id,
                "user": user,
                "text": content.get("text"),
                "blocks": content.get("blocks"),
                "thread_ts": thread_ts,
                "message_ts": message_ts,
            }
        )
        return {"ok": True, "message_ts": message_ts}

    def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=False)
        msg = self._own_message(ch, _opt_str(args, "ts"), "cant_delete_message")
        ts = msg["ts"]
        has_replies = any(r.get("thread_ts") == ts and r["ts"] != ts for r in ch.messages.values())
        if self._is_top_level(msg) and has_replies:
            # Slack leaves a tombstone so the thread stays reachable.
            ch.messages[ts] = {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "hidden": True,
                "ts": ts,
                "thread_ts": ts,
            }
        else:
            del ch.messages[ts]
        self.deletes.append({"channel": ch.id, "ts": ts})
        return {"ok": True, "channel": ch.id, "ts": ts}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=False)
        ts = _opt_str(args, "message_ts")
        msg = ch.messages.get(ts) if ts else None
        if msg is None:
            raise _ApiError("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{ch.id}/p{msg['ts'].replace('.', '')}"
        if not self._is_top_level(msg):
            link += f"?thread_ts={msg['thread_ts']}&cid={ch.id}"
        return {"ok": True, "channel": ch.id, "permalink": link}

    # -- conversations

    def _page(
        self, args: dict[str, Any], messages: list[dict[str, Any]], *, default_limit: int = 100
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Cursor pagination over an already ordered list (cursor = next ts)."""
        limit = _opt_int(args, "limit") or default_limit
        limit = max(1, min(limit, 999))
        cursor = _opt_str(args, "cursor")
        start = 0
        if cursor is not None:
            try:
                decoded = base64.b64decode(cursor.encode(), validate=True).decode()
            except ValueError:
                raise _ApiError("invalid_cursor") from None
            if not decoded.startswith("next_ts:"):
                raise _ApiError("invalid_cursor")
            next_ts = decoded[len("next_ts:") :]
            idx = next((i for i, m in enumerate(messages) if m["ts"] == next_ts), None)
            if idx is None:
                raise _ApiError("invalid_cursor")
            start = idx
        page = messages[start : start + limit]
        rest = messages[start + limit :]
        next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else None
        return page, next_cursor

    def _ts_window(self, args: dict[str, Any]) -> Callable[[str], bool]:
        oldest = _opt_str(args, "oldest")
        latest = _opt_str(args, "latest")
        if oldest is not None and not _valid_ts(oldest):
            raise _ApiError("invalid_ts_oldest")
        if latest is not None and not _valid_ts(latest):
            raise _ApiError("invalid_ts_latest")
        inclusive = _opt_bool(args, "inclusive")
        lo = _ts_key(oldest) if oldest else None
        hi = _ts_key(latest) if latest else None

        def inside(ts: str) -> bool:
            key = _ts_key(ts)
            if lo is not None and (key < lo or (key == lo and not inclusive)):
                return False
            return hi is None or key < hi or (key == hi and inclusive)

        return inside

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=True, scope_map=_HISTORY_SCOPE)
        inside = self._ts_window(args)
        include_metadata = _opt_bool(args, "include_all_metadata")
        msgs = [
            m
            for m in reversed(self._sorted(ch))  # newest first, like Slack
            if (self._is_top_level(m) or m.get("subtype") == "thread_broadcast") and inside(m["ts"])
        ]
        page, next_cursor = self._page(args, msgs)
        rendered = []
        for m in page:
            r = self._render_message(ch, m, with_channel=False)
            if not include_metadata:
                r.pop("metadata", None)
            rendered.append(r)
        out: dict[str, Any] = {
            "ok": True,
            "messages": rendered,
            "has_more": next_cursor is not None,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if _opt_str(args, "latest"):
            out["latest"] = _opt_str(args, "latest")
        if next_cursor:
            out["response_metadata"] = {"next_cursor": next_cursor}
        return out

    def _api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=True, scope_map=_HISTORY_SCOPE)
        ts = _opt_str(args, "ts")
        parent = ch.messages.get(ts) if ts else None
        if parent is None:
            raise _ApiError("thread_not_found")
        inside = self._ts_window(args)
        include_metadata = _opt_bool(args, "include_all_metadata")
        if self._is_top_level(parent):
            replies = [
                m
                for m in self._sorted(ch)
                if m.get("thread_ts") == parent["ts"] and m["ts"] != parent["ts"] and inside(m["ts"])
            ]
            msgs = [parent, *replies]
        else:
            msgs = [parent]  # a reply has no replies of its own
        page, next_cursor = self._page(args, msgs, default_limit=1000)
        rendered = []
        for m in page:
            r = self._render_message(ch, m, with_channel=False)
            if not include_metadata:
                r.pop("metadata", None)
            rendered.append(r)
        out: dict[str, Any] = {"ok": True, "messages": rendered, "has_more": next_cursor is not None}
        if next_cursor:
            out["response_metadata"] = {"next_cursor": next_cursor}
        return out

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        ch = self._conversation(args, need_member=False, scope_map=_READ_SCOPE)
        info: dict[str, Any] = {
            "id": ch.id,
            "name": ch.name,
            "is_channel": ch.kind == "public",
            "is_group": ch.kind == "private",
            "is_im": ch.kind == "im",
            "is_mpim": False,
            "is_private": ch.kind != "public",
            "created": ch.created,
            "is_archived": False,
            "is_general": ch.name == "general",
            "unlinked": 0,
            "name_normalized": ch.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": TEAM_ID,
            "creator": "U1",
            "is_member": ch.bot_member,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        if _opt_bool(args, "include_num_members") and ch.members is not None:
            info["num_members"] = len(ch.members) + (1 if ch.bot_member else 0)
        return {"ok": True, "channel": info}

    def _api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """The member ids, a page at a time (``limit``, default 100; ``cursor``); the last page's
        ``next_cursor`` is empty. A channel added with ``members=None`` (anyone counts as a member)
        lists every registered user and everyone who posted in it."""
        ch = self._conversation(args, need_member=False, scope_map=_READ_SCOPE)
        if ch.members is not None:
            members = sorted(ch.members)
        else:
            members = sorted(set(self._users) | {str(m["user"]) for m in ch.messages.values() if m.get("user")})
        if ch.bot_member and BOT_USER_ID not in members:
            members.append(BOT_USER_ID)
        elif not ch.bot_member and BOT_USER_ID in members:
            members.remove(BOT_USER_ID)
        limit = _opt_int(args, "limit") or 100
        if not 0 < limit <= 1000:
            raise _ApiError("invalid_limit")
        start = 0
        cursor = _opt_str(args, "cursor")
        if cursor:
            try:
                start = int(base64.b64decode(cursor.encode(), validate=True).decode().removeprefix("offset:"))
            except ValueError:
                raise _ApiError("invalid_cursor") from None
        end = start + limit
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(members) else ""
        return {"ok": True, "members": members[start:end], "response_metadata": {"next_cursor": next_cursor}}

    # -- users

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = _opt_str(args, "user")
        if user_id is None:
            raise _ApiError("user_not_found")
        user = self._users.get(user_id)
        if user is None:
            if not re.fullmatch(r"[UW][A-Z0-9]+", user_id):
                raise _ApiError("user_not_found")
            user = self._make_user(user_id, None, None, False)
        return {"ok": True, "user": copy.deepcopy(user)}

    # -- files

    def _api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = _opt_str(args, "filename")
        length = _opt_int(args, "length")
        if filename is None:
            raise _invalid_arguments("[ERROR] missing required field: filename")
        if length is None:
            raise _invalid_arguments("[ERROR] missing required field: length")
        if length <= 0:
            raise _ApiError("missing_argument")
        alt_txt = _opt_str(args, "alt_txt")
        if alt_txt is not None and len(alt_txt) > 1000:
            raise _ApiError("alt_txt_too_large")
        file_id = self._new_id("F")
        ticket = secrets.token_urlsafe(12)
        pending = _PendingUpload(ticket, file_id, filename, length, alt_txt, _opt_str(args, "snippet_type"))
        self._pending_by_ticket[ticket] = pending
        self._pending_by_file[file_id] = pending
        return {"ok": True, "upload_url": f"{self.base_url}/upload/v1/{ticket}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        items = _opt_json(args, "files", "invalid_arguments")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("id") for i in items):
            raise _invalid_arguments("[ERROR] missing required field: files")
        channel_id = _opt_str(args, "channel_id")
        channels_arg = _opt_str(args, "channels")
        targets = [channel_id] if channel_id else [c for c in (channels_arg or "").split(",") if c]
        thread_ts_arg = _opt_str(args, "thread_ts")
        if thread_ts_arg is not None and len(targets) != 1:
            raise _invalid_arguments("[ERROR] thread_ts requires exactly one channel")
        # Unlike chat.postMessage (chat:write.public), sharing files needs real
        # membership: not_in_channel for public, channel_not_found for private.
        chans = [self._conversation({"channel": c}, need_member=True) for c in targets]
        pendings: list[tuple[_PendingUpload, str]] = []
        for item in items:
            pending = self._pending_by_file.get(str(item["id"]))
            if pending is None or pending.content is None or pending.completed:
                raise _ApiError("file_not_found")
            title = item.get("title") or pending.filename
            pendings.append((pending, str(title)))
        initial_comment = _opt_str(args, "initial_comment")
        blocks = None
        if initial_comment is None:
            blocks = _opt_json(args, "blocks", "invalid_blocks_format")
            if blocks is not None:
                errors = validate_blocks(blocks)
                if errors:
                    raise _ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
        created: list[_File] = []
        for pending, title in pendings:
            assert pending.content is not None
            name_type = mimetypes.guess_type(pending.filename)[0]
            sniffed = _sniff_mimetype(pending.content)
            if sniffed and name_type and name_type.startswith("image/") and sniffed != name_type:
                self._warn(
                    f"upload {pending.file_id}: file name {pending.filename!r} says {name_type} "
                    f"but the bytes are {sniffed}"
                )
            mimetype = name_type or sniffed or "application/octet-stream"
            f = self._make_file(
                pending.file_id,
                pending.content,
                name=pending.filename,
                title=title,
                mimetype=mimetype,
                user=BOT_USER_ID,
                alt_txt=pending.alt_txt,
            )
            f.ready_at = self.clock() + self.file_processing_seconds
            pending.completed = True
            self._files[pending.file_id] = f
            created.append(f)
        for ch in chans:
            thread_ts = self._thread_parent(ch, thread_ts_arg, "files.completeUploadExternal")
            content: dict[str, Any] = {"text": initial_comment or ""}
            if blocks:
                content["blocks"] = blocks
            msg = self._bot_message(ch, content, thread_ts)
            # One message carries all the files, as in Slack's client.
            msg.update({"subtype": "file_share", "upload": True, "display_as_bot": False})
            msg["_file_ids"] = [f.info["id"] for f in created]
            for f in created:
                f.shares.append((ch.id, msg["ts"], thread_ts, BOT_USER_ID))
        for (pending, title), f in zip(pendings, created, strict=True):
            for ch in chans or [None]:  # type: ignore[list-item]
                self.uploads.append(
                    {
                        "file_id": pending.file_id,
                        "filename": pending.filename,
                        "title": title,
                        "alt_txt": pending.alt_txt,
                        "content": pending.content,
                        "mimetype": f.info["mimetype"],
                        "channel": ch.id if ch else None,
                        "thread_ts": thread_ts_arg if ch else None,
                        "initial_comment": initial_comment,
                    }
                )
        # Slack shares asynchronously: the answer lists the files before the
        # share exists, so bots must not read the message ts from "shares".
        return {"ok": True, "files": [self._render_file(f, with_shares=False) for f in created]}

    def _api_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = _opt_str(args, "file")
        f = self._files.get(file_id) if file_id else None
        if f is None or f.deleted:
            raise _ApiError("file_not_found")
        return {"ok": True, "file": self._render_file(f), "comments": [], "response_metadata": {"next_cursor": ""}}

    # -- reactions

    def _api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._reaction(args, add=True)

    def _api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._reaction(args, add=False)

    def _reaction(self, args: dict[str, Any], *, add: bool) -> dict[str, Any]:
        ch = self._conversation(args, need_member=True)
        name = _opt_str(args, "name")
        if name is None:
            raise _invalid_arguments("[ERROR] missing required field: name")
        ts = _opt_str(args, "timestamp")
        msg = ch.messages.get(ts) if ts else None
        if msg is None:
            raise _ApiError("message_not_found")
        reactions: list[dict[str, Any]] = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name.strip(":")), None)
        if add:
            if entry is not None and BOT_USER_ID in entry["users"]:
                raise _ApiError("already_reacted")
            if entry is None:
                entry = {"name": name.strip(":"), "users": [], "count": 0}
                reactions.append(entry)
            entry["users"].append(BOT_USER_ID)
            entry["count"] += 1
        else:
            if entry is None or BOT_USER_ID not in entry["users"]:
                raise _ApiError("no_reaction")
            entry["users"].remove(BOT_USER_ID)
            entry["count"] -= 1
            if not entry["users"]:
                reactions.remove(entry)
            if not reactions:
                msg.pop("reactions", None)
        self.reactions.append({"channel": ch.id, "ts": msg["ts"], "name": name.strip(":"), "added": add})
        return {"ok": True}

    # -- views (modals)

    def _view_arg(self, args: dict[str, Any], view_type: str = "modal") -> dict[str, Any]:
        view = _opt_json(args, "view", "invalid_arguments")
        if not isinstance(view, dict):
            raise _invalid_arguments("[ERROR] missing required field: view")
        errors: list[str] = []
        if view.get("type") != view_type:
            errors.append(f"[ERROR] must be '{view_type}' [json-pointer:/view/type]")
        if view_type == "home":
            pass  # home tabs have no title, submit or close
        elif "title" not in view:
            errors.append("[ERROR] missing required field: title [json-pointer:/view]")
        else:
            _check_text_object(view["title"], "/view/title", errors, max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                _check_text_object(view[key], f"/view/{key}", errors, max_len=24, plain_only=True)
        blocks = view.get("blocks", [])
        errors += validate_blocks(blocks, max_blocks=100, pointer="/view/blocks")
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks or []) and "submit" not in view:
            errors.append("[ERROR] submit is required when an input block is present [json-pointer:/view/submit]")
        pm = view.get("private_metadata")
        if pm is not None and (not isinstance(pm, str) or len(pm) > 3000):
            errors.append("[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]")
        if errors:
            raise _ApiError("invalid_arguments", response_metadata={"messages": errors})
        return view

    def _record_view(self, method: str, view: dict[str, Any], view_id: str, trigger_id: str | None) -> dict[str, Any]:
        full = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "title": view.get("title"),
            "blocks": view.get("blocks", []),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self.views.append({"method": method, "trigger_id": trigger_id, "view_id": view_id, "view": copy.deepcopy(full)})
        return full

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = _opt_str(args, "user_id")
        if user_id is None:
            raise _invalid_arguments("[ERROR] missing required field: user_id")
        view = self._view_arg(args, view_type="home")
        return {"ok": True, "view": self._record_view("views.publish", view, self._new_id("V"), user_id)}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = _opt_str(args, "usergroup")
        if group is None:
            raise _invalid_arguments("[ERROR] missing required field: usergroup")
        if group not in self.usergroups:
            raise _ApiError("no_such_subteam")
        return {"ok": True, "users": sorted(self.usergroups[group])}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = _opt_str(args, "trigger_id") or _opt_str(args, "interactivity_pointer")
        if trigger_id is None:
            raise _invalid_arguments("[ERROR] missing required field: trigger_id")
        view = self._view_arg(args)
        return {"ok": True, "view": self._record_view("views.open", view, self._new_id("V"), trigger_id)}

    def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = _opt_str(args, "trigger_id") or _opt_str(args, "interactivity_pointer")
        if trigger_id is None:
            raise _invalid_arguments("[ERROR] missing required field: trigger_id")
        view = self._view_arg(args)
        return {"ok": True, "view": self._record_view("views.push", view, self._new_id("V"), trigger_id)}

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = _opt_str(args, "view_id")
        external_id = _opt_str(args, "external_id")
        if view_id is None and external_id is None:
            raise _invalid_arguments("[ERROR] view_id or external_id is required")
        known = {v["view_id"] for v in self.views} | {v["view"].get("external_id") for v in self.views}
        if (view_id or external_id) not in known:
            raise _ApiError("not_found")
        view = self._view_arg(args)
        return {"ok": True, "view": self._record_view("views.update", view, view_id or self._new_id("V"), None)}

    # ------------------------------------------------ non-API endpoints

    def _handle_upload(self, ticket: str, body: bytes, content_type: str) -> tuple[int, str]:
        with self._lock:
            pending = self._pending_by_ticket.get(ticket)
            if pending is None or pending.completed:
                return 404, "upload URL not found"
            data = body
            if content_type.startswith("multipart/form-data"):
                parts = _parse_multipart(body, content_type)
                filepart = next((p for p in parts if p[1] is not None), None) or (parts[0] if parts else None)
                if filepart is None:
                    return 400, "no file in multipart body"
                data = filepart[2]
            if len(data) != pending.length:
                self._warn(
                    f"upload {pending.file_id}: files.getUploadURLExternal said length={pending.length} "
                    f"but {len(data)} bytes were posted"
                )
                return 400, f"length mismatch: expected {pending.length} bytes, got {len(data)}"
            pending.content = data
            return 200, f"OK - {len(data)}"

    def _handle_download(self, file_id: str, token: str | None, download: bool) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            authorized = token == self.bot_token and "files:read" in self.scopes
            self.downloads.append({"file_id": file_id, "authorized": authorized})
            if not authorized:
                return 200, LOGIN_PAGE_HTML.encode(), {"Content-Type": "text/html; charset=utf-8"}
            f = self._files.get(file_id)
            if f is None or f.deleted:
                return 404, b"Not Found", {"Content-Type": "text/plain"}
            headers = {"Content-Type": f.info["mimetype"]}
            if download:
                headers["Content-Disposition"] = f'attachment; filename="{f.info["name"]}"'
            return 200, f.content, headers

    def _handle_response_url(self, key: str, body: bytes, content_type: str) -> tuple[int, str]:
        with self._lock:
            binding = self._response_urls.get(key)
            if binding is None:
                # Unknown keys still record, so tests can use ad-hoc URLs.
                binding = self._response_urls[key] = _ResponseUrl(key, None, None, None)
            try:
                if content_type.startswith("application/x-www-form-urlencoded"):
                    form = dict(urllib.parse.parse_qsl(body.decode()))
                    payload = json.loads(form.get("payload", "{}"))
                else:
                    payload = json.loads(body.decode() or "{}")
            except (ValueError, UnicodeDecodeError):
                return 400, "invalid_payload"
            if not isinstance(payload, dict):
                return 400, "invalid_payload"
            # Slack allows five uses of a response_url (within 30 minutes).
            binding.uses += 1
            if binding.uses > 5:
                self._warn(f"response_url {key} used more than 5 times")
                return 404, "used_url"
            blocks = payload.get("blocks")
            if blocks is not None:
                errors = validate_blocks(blocks)
                if errors:
                    return 400, "invalid_blocks"
            self.responses.setdefault(key, []).append(payload)
            ch = self._channels.get(binding.channel) if binding.channel else None
            if ch is not None:
                target = ch.messages.get(binding.message_ts) if binding.message_ts else None
                if payload.get("delete_original") and target is not None:
                    del ch.messages[target["ts"]]
                elif payload.get("replace_original") and target is not None:
                    for k in ("text", "blocks", "attachments"):
                        if k in payload:
                            target[k] = payload[k]
                elif payload.get("response_type") == "in_channel":
                    content = {k: payload[k] for k in ("text", "blocks", "attachments") if k in payload}
                    thread_ts = payload.get("thread_ts")
                    self._bot_message(ch, content, thread_ts if isinstance(thread_ts, str) else None)
            return 200, "ok"


# --------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------


def _parse_multipart(body: bytes, content_type: str) -> list[tuple[str | None, str | None, bytes]]:
    """(name, filename, bytes) for each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: list[tuple[str | None, str | None, bytes]] = []
    if not msg.is_multipart():
        return parts
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts.append((str(name) if name else None, str(filename) if filename else None, data))
    return parts


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    @property
    def fake(self) -> FakeSlack:
        return self.server.fake

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return None

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        all_headers = {"Content-Type": "application/json; charset=utf-8"}
        all_headers.update(headers or {})
        self._send(status, json.dumps(data).encode(), all_headers)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path.startswith("/api/"):
                self._api(path[len("/api/") :])
            elif path.startswith("/upload/v1/") and self.command == "POST":
                self._upload(path[len("/upload/v1/") :])
            elif path.startswith("/files-pri/"):
                self._download(path)
            elif path.startswith("/response/") and self.command == "POST":
                self._response(urllib.parse.unquote(path[len("/response/") :]))
            else:
                self._body()
                self._send(404, b"Not Found", {"Content-Type": "text/plain"})
        except Exception as exc:  # noqa: BLE001 - never kill the server thread; show the bug
            self._send_json(500, {"ok": False, "error": "fatal_error", "detail": repr(exc)})

    # ---- /api/<method>

    def _parse_args(self) -> tuple[dict[str, Any], str | None]:
        query = urllib.parse.urlsplit(self.path).query
        args: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        token = self._bearer()
        body = self._body()
        ctype = (self.headers.get("Content-Type") or "").lower()
        if body:
            if ctype.startswith("application/json"):
                try:
                    data = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise _ApiError("invalid_json") from None
                if not isinstance(data, dict):
                    raise _ApiError("invalid_json")
                # Slack ignores a token inside a JSON body: it must be in the
                # Authorization header, so don't let it authenticate.
                data.pop("token", None)
                args.update({k: v for k, v in data.items() if v is not None})
            elif ctype.startswith(("application/x-www-form-urlencoded", "text/plain")):
                try:
                    args.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                except UnicodeDecodeError:
                    raise _ApiError("invalid_form_data") from None
            elif ctype.startswith("multipart/form-data"):
                for name, filename, value in _parse_multipart(body, ctype):
                    if name:
                        args[name] = value if filename else value.decode("utf-8", "replace")
            elif not ctype:
                raise _ApiError("missing_post_type")
            else:
                raise _ApiError("invalid_post_type")
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str) and form_token:
            token = form_token
        return args, token

    def _api(self, method: str) -> None:
        fake = self.fake
        scope_headers = {
            "x-oauth-scopes": ",".join(fake.scopes),
            "x-accepted-oauth-scopes": _METHOD_SCOPES.get(method) or "",
        }
        try:
            args, token = self._parse_args()
        except _ApiError as err:
            fake.calls.append((method, {}))
            self._send_json(200, {"ok": False, "error": err.error, **err.extra}, scope_headers)
            return
        fake.calls.append((method, copy.deepcopy(args)))
        time.sleep(fake._take_delay(method, args))
        fault = fake._take_fault(method)
        if fault is not None:
            if fault.error == "ratelimited":
                retry = fault.retry_after if fault.retry_after is not None else 1
                self._send_json(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry)})
            elif not self._send_fault(fault):
                self._send_json(fault.status or 200, {"ok": False, "error": fault.error}, scope_headers)
            return
        try:
            result = fake._handle_api(method, args, token)
        except _ApiError as err:
            self._send_json(200, {"ok": False, "error": err.error, **err.extra}, scope_headers)
            return
        self._send_json(200, result, scope_headers)

    # ---- upload URL, url_private, response_url

    def _non_api_fault(self, name: str) -> bool:
        fault = self.fake._take_fault(name)
        if fault is None:
            return False
        if fault.error == "ratelimited":
            retry = fault.retry_after if fault.retry_after is not None else 1
            self._send(429, b"ratelimited", {"Content-Type": "text/plain", "Retry-After": str(retry)})
        elif not self._send_fault(fault):
            self._send(fault.status or 500, fault.error.encode(), {"Content-Type": "text/plain"})
        return True

    def _send_fault(self, fault: _Fault) -> bool:
        """Answer a dropped connection or an HTML error page; False for the caller's usual error body."""
        if fault.error == "disconnect":
            self.close_connection = True
            return True
        if fault.html:
            status = fault.status or 503
            page = SERVER_ERROR_HTML.format(status=status).encode()
            self._send(status, page, {"Content-Type": "text/html; charset=utf-8"})
            return True
        return False

    def _upload(self, ticket: str) -> None:
        body = self._body()
        if self._non_api_fault("upload"):
            return
        status, text = self.fake._handle_upload(ticket, body, (self.headers.get("Content-Type") or "").lower())
        self._send(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    def _download(self, path: str) -> None:
        self._body()
        match = re.fullmatch(r"/files-pri/([A-Z0-9]+)-([A-Z0-9]+)/(download/)?[^/]+", path)
        if match is None or match.group(1) != TEAM_ID:
            self._send(404, b"Not Found", {"Content-Type": "text/plain"})
            return
        if self._non_api_fault("download"):
            return
        status, data, headers = self.fake._handle_download(match.group(2), self._bearer(), bool(match.group(3)))
        self._send(status, data, headers)

    def _response(self, key: str) -> None:
        body = self._body()
        if self._non_api_fault("response_url"):
            return
        status, text = self.fake._handle_response_url(key, body, (self.headers.get("Content-Type") or "").lower())
        self._send(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


# --------------------------------------------------------------------------
# building signed requests from Slack
# --------------------------------------------------------------------------


def new_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's (each invocation, click or shortcut gets its own)."""
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def signed_headers(
    body: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack sends with a request: v0 HMAC-SHA256 of ``v0:{ts}:{body}``."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    command: str,
    text: str,
    user_id: str = "U1",
    channel_id: str = "C1",
    response_url: str = "",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    *,
    channel_name: str = "general",
) -> str:
    """Form-encoded slash command payload, fields in the order Slack sends them."""
    fields = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_id.lower()),
        ("command", command),
        ("text", text),
        ("api_app_id", APP_ID),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urllib.parse.urlencode(fields)


def event_body(event: dict[str, Any], event_id: str = "Ev1", team_id: str = TEAM_ID) -> str:
    """JSON ``event_callback`` envelope around ``event`` (Events API over HTTP)."""
    inner = dict(event)
    if "event_ts" not in inner and "ts" in inner:
        inner["event_ts"] = inner["ts"]
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": inner,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{event_id}",
    }
    return json.dumps(envelope)


def interaction_body(payload: dict[str, Any]) -> str:
    """Form-encoded ``payload=<json>`` body of an interactivity request."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def retry_headers(num: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack adds when it redelivers an event it considers unanswered."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}
