"""The HTTP endpoint under odd, stale, repeated and hostile requests (local runtime)."""

from __future__ import annotations

import pytest

from tests.conftest import Studio, post
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import APP_ID, TEAM_ID, FakeSlack, interaction_body, signed_headers


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


def test_actions_studio_does_not_handle_are_acknowledged(studio: Studio, slack: FakeSlack) -> None:
    # A link button in someone's message still sends block_actions to the app.
    payload = button_payload(None, action_id="open_website")
    assert studio.interact(payload) == {}
    assert studio.interact({**payload, "type": "message_action", "callback_id": "someone_elses_shortcut"}) == {}
    assert slack.ephemerals == []
