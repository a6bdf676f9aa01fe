"""The HTTP endpoint under odd, stale, repeated and hostile requests (local runtime)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.conftest import Studio, post
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import (
    APP_ID,
    SIGNING_SECRET,
    TEAM_ID,
    FakeSlack,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
)
from tests.photos import small_jpeg

# These scenarios count Titan task types: they run on the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack


def button_payload(value: str | None, action_id: str = "studio_reroll", user: str = "U1") -> dict:
    """A block_actions payload for a result button whose value Studio did not (or no longer) write."""
    action = {"action_id": action_id, "block_id": "result_actions", "type": "button",
              "text": {"type": "plain_text", "text": "Re-roll"}, "action_ts": "1700000000.000100"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions", "api_app_id": APP_ID, "trigger_id": "t-button",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": "studio"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1", "is_ephemeral": False},
        "channel": {"id": "C1", "name": "marketing"},
        "message": {"ts": "1700000000.000001", "type": "message", "text": "result"},
        "response_url": "", "actions": [action],
    }


def modal_submission(callback_id: str, metadata: str, values: dict[str, str]) -> dict:
    """A view_submission of one of Studio's forms with the given private_metadata."""
    state = {block: {"value": {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    return {
        "type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": "U1"}, "api_app_id": APP_ID,
        "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                 "state": {"values": state}},
    }


# --- stale or garbled buttons and forms ----------------------------------------------------

@pytest.mark.parametrize("value", ["garbage", "reroll|abc", "reroll|abc|two", "", None, "reroll|abc|1|extra"])
def test_a_garbled_button_is_answered_as_out_of_date(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                      value: str | None) -> None:
    assert studio.interact(button_payload(value)) == {}
    [note] = slack.ephemerals
    assert "out of date" in note["text"] and note["user"] == "U1"
    assert bedrock.calls == []


@pytest.mark.parametrize("metadata", ["{not json", "", "[]", '{"channel_id": "C1"}', '{"channel_id": "C1", "message": 5}'])
@pytest.mark.parametrize(("callback_id", "field"), [("replace_background_modal", "background"),
                                                     ("describe_modal", "question")])
def test_a_form_with_garbled_metadata_is_answered_as_out_of_date(studio: Studio, bedrock: FakeBedrock, metadata: str,
                                                                  callback_id: str, field: str) -> None:
    ack = studio.interact(modal_submission(callback_id, metadata, {field: "beach"}))
    assert ack["response_action"] == "errors"
    assert "out of date" in ack["errors"][field]
    assert bedrock.calls == []


@pytest.mark.parametrize("metadata", ["{not json", '{"ref": 5, "index": 0}', '{"ref": "abc", "index": "two"}', "null"])
def test_the_extend_form_with_garbled_metadata_is_answered_as_out_of_date(studio: Studio, bedrock: FakeBedrock,
                                                                          metadata: str) -> None:
    ack = studio.interact(modal_submission("extend_modal", metadata, {"prompt": "a stormy coast"}))
    assert ack["response_action"] == "errors" and "out of date" in ack["errors"]["prompt"]
    assert bedrock.calls == []


def test_an_unsigned_garbled_button_is_refused_before_anything_else(studio: Studio, slack: FakeSlack) -> None:
    body = interaction_body(button_payload("garbage"))
    assert post(studio.runtime.url, body, signed_headers(body, secret="forged"))[0] == 401
    assert slack.ephemerals == []


# --- events and actions Studio does not handle ---------------------------------------------

@pytest.mark.parametrize("event", [
    {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}, "event_ts": "1700000000.000200"},
    {"type": "app_uninstalled", "event_ts": "1700000000.000300"},
    {"type": "reaction_added", "user": "U1", "reaction": "tada", "item": {"type": "message", "channel": "C1",
     "ts": "1700000000.000001"}, "event_ts": "1700000000.000400"},
    {"type": "message", "channel": "C1", "user": "U1", "text": "hello", "ts": "1700000000.000500"},
])
def test_events_studio_does_not_handle_are_acknowledged(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                        event: dict) -> None:
    # Slack counts failed deliveries and turns off an app's events when too many fail.
    assert studio.event(event) == 200
    assert bedrock.calls == [] and slack.ephemerals == []


def test_app_rate_limited_is_acknowledged(studio: Studio) -> None:
    # Sent outside the event_callback envelope when Slack holds back an app's events.
    body = json.dumps({"token": "fake-verification-token", "type": "app_rate_limited", "team_id": TEAM_ID,
                       "minute_rate_limited": 1518467820, "api_app_id": APP_ID})
    assert post(studio.runtime.url, body, signed_headers(body, content_type="application/json"))[0] == 200


def test_actions_studio_does_not_handle_are_acknowledged(studio: Studio, slack: FakeSlack) -> None:
    # A link button in someone's message still sends block_actions to the app.
    payload = button_payload(None, action_id="open_website")
    assert studio.interact(payload) == {}
    assert studio.interact({**payload, "type": "message_action", "callback_id": "someone_elses_shortcut"}) == {}
    assert slack.ephemerals == []


# --- malformed and unsigned requests -------------------------------------------------------

def post_bytes(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST raw bytes; returns (status, body) without raising on HTTP errors."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def signed(body: bytes, content_type: str = "application/x-www-form-urlencoded", timestamp: str | None = None,
           secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Slack's signature over raw bytes (and any timestamp string, numeric or not)."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


SLASH = slash_command_body("/imagine", "a red car").encode()

UNSIGNED_OR_BADLY_SIGNED = {
    "no headers": (b"garbage", {"Content-Type": "application/x-www-form-urlencoded"}),
    "non-numeric timestamp": (SLASH, {**signed(SLASH), "X-Slack-Request-Timestamp": "abc"}),
    "non-numeric timestamp, signed over it": (SLASH, signed(SLASH, timestamp="1e9")),
    "empty timestamp": (SLASH, {**signed(SLASH), "X-Slack-Request-Timestamp": ""}),
    "huge timestamp": (SLASH, signed(SLASH, timestamp="9" * 400)),
    "garbage signature": (SLASH, {**signed(SLASH), "X-Slack-Signature": "v0=zz"}),
    "malformed json, unsigned": (b"{not json", {"Content-Type": "application/json"}),
    "non-utf-8, forged": (b"\xff\xfe\x00", signed(b"\xff\xfe\x00", secret="forged")),
}

SIGNED_BUT_MALFORMED = {
    "payload not json": (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "payload a list": (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "json body not json": (b"{not json", "application/json"),
    "json body a list": (b"[1, 2]", "application/json"),
    "event not an object": (json.dumps({"type": "event_callback", "event": "x", "event_id": "Ev7"}).encode(),
                            "application/json"),
    "not utf-8": (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
    "slash command without user": (urllib.parse.urlencode({"command": "/imagine", "text": "a car",
                                                           "channel_id": "C1"}).encode(),
                                   "application/x-www-form-urlencoded"),
    "button without user": (interaction_body({k: v for k, v in button_payload("reroll|abc|0").items()
                                              if k != "user"}).encode(), "application/x-www-form-urlencoded"),
    "empty body": (b"", "application/x-www-form-urlencoded"),
    # Envelopes that pass, with a listener's fields missing: the listener's error is answered 400 too.
    "mention without channel": (event_body({"type": "app_mention", "user": "U1", "text": "<@UBOT> imagine a cat",
                                            "ts": "1700000000.000600"}).encode(), "application/json"),
    "shortcut without channel": (interaction_body({"type": "message_action", "callback_id": "remove_background",
                                                   "user": {"id": "U1"}, "team": {"id": TEAM_ID},
                                                   "message": {"ts": "1.2"}, "trigger_id": "t1"}).encode(),
                                 "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", list(UNSIGNED_OR_BADLY_SIGNED))
def test_unsigned_or_badly_signed_requests_get_401(studio: Studio, bedrock: FakeBedrock, case: str) -> None:
    body, headers = UNSIGNED_OR_BADLY_SIGNED[case]
    status, text = post_bytes(studio.runtime.url, body, headers)
    assert status == 401 and "Traceback" not in text
    assert bedrock.calls == []



def raw_exchange(url: str, request: bytes) -> bytes:
    """Write ``request`` as is to the server's socket; the whole answer (the server closes after it)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: connection.recv(65536), b""))


@pytest.mark.parametrize(("request_head", "status"), [
    (b"GET /slack/events HTTP/1.1\r\nHost: x\r\n\r\n", 404),
    (b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
    (b"POST /slack/events HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", 400),
    (b"POST /slack/events HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n", 413),
    (b"POST /slack/events HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"hello\r\n\r\n", 400),
])
def test_requests_outside_slacks_shape_are_answered_without_bolt(studio: Studio, bedrock: FakeBedrock,
                                                                  request_head: bytes, status: int) -> None:
    answer = raw_exchange(studio.runtime.url, request_head)
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), head
    assert f"Content-Length: {len(text)}".encode() in head and b"Traceback" not in text
    assert bedrock.calls == []


def test_a_signed_command_is_answered_with_bolts_response(studio: Studio, slack: FakeSlack) -> None:
    body = slash_command_body("/imagine", "usage")
    parts = urllib.parse.urlsplit(studio.runtime.url)
    head = "".join(f"{name}: {value}\r\n" for name, value in signed(body.encode()).items())
    answer = raw_exchange(studio.runtime.url, f"POST {parts.path} HTTP/1.1\r\nContent-Length: {len(body)}\r\n"
                                              f"{head}\r\n{body}".encode())
    head_bytes, _, text = answer.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 200 OK\r\n") and f"Content-Length: {len(text)}".encode() in head_bytes
    assert text.decode().startswith(":bar_chart: Images today")  # Bolt answers an ack with only text as text


@pytest.mark.parametrize("case", list(SIGNED_BUT_MALFORMED))
def test_signed_but_malformed_requests_get_400(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                               case: str) -> None:
    body, content_type = SIGNED_BUT_MALFORMED[case]
    status, text = post_bytes(studio.runtime.url, body, signed(body, content_type))
    assert status == 400 and "Traceback" not in text
    studio.wait_idle()
    assert bedrock.calls == []


# --- the same request delivered twice ------------------------------------------------------

def test_the_same_slash_command_delivered_twice_runs_once(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    body = slash_command_body("/imagine", "a red car", trigger_id="1111.2222.aaaa",
                              response_url=slack.response_url("r1"))
    for _ in range(2):
        assert post(studio.runtime.url, body, signed_headers(body))[0] == 200
    studio.wait_idle()
    assert len(bedrock.invocations("TEXT_IMAGE")) == 1
    studio.slash("/imagine", "a red car")  # a new invocation (its own trigger_id) runs
    studio.wait_idle()
    assert len(bedrock.invocations("TEXT_IMAGE")) == 2


def test_the_same_shortcut_delivered_twice_runs_once(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    photo = slack.add_file(small_jpeg())
    ts = slack.post_user_message("C1", "U1", "", files=[photo])
    payload = slack.message_shortcut_payload("C1", ts, "remove_background", trigger_id="3333.4444.bbbb")
    studio.interact(payload)
    studio.interact(payload)
    studio.wait_idle()
    assert len(bedrock.invocations("BACKGROUND_REMOVAL")) == 1


def test_the_same_form_submission_delivered_twice_runs_once(studio: Studio, slack: FakeSlack,
                                                            bedrock: FakeBedrock) -> None:
    photo = slack.add_file(small_jpeg())
    ts = slack.post_user_message("C1", "U1", "", files=[photo])
    metadata = json.dumps({"channel_id": "C1", "message": {"ts": ts, "files": [{"id": photo["id"],
                                                                               "mimetype": "image/jpeg"}]}})
    submission = {**modal_submission("replace_background_modal", metadata, {"background": "beach"}),
                  "trigger_id": "5555.6666.cccc"}
    assert studio.interact(submission) == {}
    assert studio.interact(submission) == {}
    studio.wait_idle()
    assert len(bedrock.invocations("OUTPAINTING")) == 1


def test_the_same_click_delivered_twice_runs_once(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.listeners.actions.CLICK_DEBOUNCE_SECONDS", 0)  # only the delivery key may stop the repeat
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    [result] = [m for m in slack.channel_messages("C1") if any(b["type"] == "actions" for b in m.get("blocks", []))]
    click = slack.block_actions_payload("C1", result["ts"], "studio_variations", user="U2")
    studio.interact(click)
    studio.interact(click)
    studio.wait_idle()
    assert len(bedrock.invocations("IMAGE_VARIATION")) == 1
    time.sleep(0.001)
    studio.interact(slack.block_actions_payload("C1", result["ts"], "studio_variations", user="U2"))  # a new click
    studio.wait_idle()
    assert len(bedrock.invocations("IMAGE_VARIATION")) == 2


# --- nothing slow on the ack path ----------------------------------------------------------

def test_the_first_ack_makes_no_slack_call(make_studio, slack: FakeSlack) -> None:
    studio = make_studio()
    at_start = len(slack.calls_to("auth.test"))
    assert "Working on" in studio.slash("/imagine", "a red car")["text"]
    assert len(slack.calls_to("auth.test")) == at_start, "auth.test ran inside the first request's ack"
    assert at_start == 1, "the bot's identity is resolved once, at start"
    studio.wait_idle()


def test_slack_unreachable_at_start_does_not_stop_studio(make_studio, slack: FakeSlack) -> None:
    slack.fail_next("auth.test", "fatal_error")
    studio = make_studio()
    assert "Working on" in studio.slash("/imagine", "a red car")["text"], "the first request asks instead"
    assert len(slack.calls_to("auth.test")) == 2
    studio.wait_idle()
