"""The first look at an HTTP request from Slack, before Bolt parses it.

Bolt parses the body before it checks the signature, and a non-numeric
timestamp or a malformed body raises inside it (HTTP 500, a traceback in the
log, even for an unsigned request). Here a request is refused first: unsigned,
stale or badly signed → 401; signed but not a Slack payload → 400. Both HTTP
runtimes use this (the Lambda ingress directly, the local HTTP server through
``bot.slack.http_server``, kept apart so the ingress never imports the server and
its socket handling), and each refusal is logged as one line that says why, never with the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.internals import parse_body

log = logging.getLogger(__name__)

# Slack's rule: a request whose timestamp is more than five minutes off may be a replay.
MAX_CLOCK_SKEW_SECONDS = 300
# Slack's payloads are a few KB (a modal's view with its blocks, a few tens); nothing near this.
MAX_BODY_BYTES = 1_000_000
# Interactive payloads all carry the person who acted, as {"id": ...}.
_INTERACTIVE = ("block_actions", "block_suggestion", "message_action", "shortcut", "view_submission",
                "view_closed", "interactive_message")
WORDS = {400: "bad request", 401: "invalid request", 413: "request too large"}


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: an HTTP status and a reason for the log (never the body)."""

    status: int
    reason: str


def check_request(body: bytes, headers: Mapping[str, str], signing_secret: str | None,
                  now: float | None = None) -> Refusal | None:
    """Why Slack's request must be refused before Bolt sees it, or None.

    ``headers`` have lower-case names. Without a ``signing_secret`` (Socket Mode)
    only the body is checked.
    """
    refusal = _check_signature(body, headers, signing_secret, now) if signing_secret else None
    refusal = refusal or _check_body(body, headers.get("content-type", ""))
    return logged(refusal) if refusal else None


def logged(refusal: Refusal) -> Refusal:
    """``refusal``, logged as one line (status and reason, never the body)."""
    log.warning("refused a request from Slack (HTTP %d): %s", refusal.status, refusal.reason)
    return refusal


def _check_signature(body: bytes, headers: Mapping[str, str], secret: str, now: float | None) -> Refusal | None:
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return Refusal(401, "no signature")
    # Unix seconds: ten digits until the year 2286; anything else is not a time Slack sends.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Refusal(401, "the timestamp is not a Unix time")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return Refusal(401, "the timestamp is more than 5 minutes off (a replay, or a wrong clock)")
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "the signature does not match (wrong signing secret, or not from Slack)")
    return None


def _check_body(body: bytes, content_type: str) -> Refusal | None:
    try:
        payload = parse_body(body.decode("utf-8"), content_type)
    except UnicodeDecodeError:
        return Refusal(400, "the body is not UTF-8")
    except ValueError:
        return Refusal(400, "the body (or its payload field) is not JSON")
    problem = payload_problem(payload)
    return Refusal(400, problem) if problem else None


def payload_problem(payload: Any) -> str | None:
    """What is wrong with the envelope of a parsed Slack payload, or None.

    Only the fields Bolt's routing and every listener rely on are checked; a
    type Studio does not know passes (its listeners acknowledge and ignore it).
    """
    if not isinstance(payload, dict) or not payload:
        return "the body is not a Slack payload (an object)"
    if "command" in payload or "ssl_check" in payload:
        ids = ("command", "user_id", "channel_id") if "command" in payload else ()
        return None if all(isinstance(payload.get(key), str) for key in ids) else "a slash command without its ids"
    kind = payload.get("type")
    if kind == "event_callback":
        event = payload.get("event")
        return None if isinstance(event, dict) and isinstance(event.get("type"), str) else "an event without a type"
    if kind in _INTERACTIVE:
        return _interactive_problem(payload)
    return None if isinstance(kind, str) else "a payload without a type"


def _interactive_problem(payload: dict[str, Any]) -> str | None:
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "an interaction without the person's id"
    expected = {"block_actions": ("actions", list), "view_submission": ("view", dict),
                "view_closed": ("view", dict), "message_action": ("message", dict)}.get(payload["type"])
    if expected and not isinstance(payload.get(expected[0]), expected[1]):
        return f"an interaction without its {expected[0]}"
    if any(not isinstance(payload.get(key, {}), dict) for key in ("channel", "team", "container", "view")):
        return "an interaction with a malformed channel, team or view"
    actions = payload.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(action, dict) for action in actions):
        return "an interaction with malformed actions"
    return None


def lambda_refusal(event: Mapping[str, Any], signing_secret: str | None) -> dict[str, Any] | None:
    """A Function URL event's HTTP answer if it must be refused (see ``check_request``), else None."""
    method = (event.get("requestContext") or {}).get("http", {}).get("method")
    if method != "POST":
        return None  # Bolt's adapter answers anything else with 404
    body = event.get("body") or ""
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()
               if isinstance(value, str)}
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
    except (binascii.Error, ValueError):
        # Its signature cannot be checked, so it counts as unsigned.
        refusal: Refusal | None = logged(Refusal(401, "the body is not valid base64"))
    else:
        refusal = check_request(raw, headers, signing_secret)
    if refusal is None:
        return None
    return {"statusCode": refusal.status, "headers": {"content-type": "text/plain; charset=utf-8"},
            "body": WORDS[refusal.status]}
