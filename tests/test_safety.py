"""Safe under faults and bad input; access control and quotas (local runtime)."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from moto import mock_aws

from bot.access import AccessControl, AccessPolicy, NotAllowed
from bot.jobs import Job
from bot.quota import QuotaExceeded, today
from bot.runtime.sqlite_state import SqliteState
from bot.settings import Settings
from tests.aws_resources import state_store
from tests.conftest import Studio, post
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    VERIFICATION_TOKEN,
    FakeSlack,
    signed_headers,
    slash_command_body,
)
from tests.photos import small_jpeg


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """These scenarios check Titan request bodies: they run on the legacy Amazon stack."""
    return replace(settings, model_stack="amazon")


def private_notes(slack: FakeSlack) -> str:
    notes = [r.get("text", "") for rs in slack.responses.values() for r in rs]
    return "\n".join(notes + [e.get("text", "") for e in slack.ephemerals])


def channel_text(slack: FakeSlack) -> str:
    return json.dumps(slack.channel_messages("C1")) + json.dumps(slack.updates)


# --- access control --------------------------------------------------------------------------

def test_channel_outside_the_allowed_list_is_refused_privately(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(allowed_channels=frozenset({"C1"}), admins=frozenset({"UADMIN"}))
    slack.add_channel("C2", "random", bot_member=True)
    ack = studio.slash("/imagine", "a red car", channel="C2")
    assert "not enabled in this channel" in ack["text"] and "<@UADMIN>" in ack["text"]
    studio.slash("/imagine", "a red car", channel="C2", user="UADMIN")  # admins may use it anywhere
    studio.wait_idle()
    assert len(bedrock.invocations("TEXT_IMAGE")) == 1


def test_users_allowed_by_user_group(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    slack.usergroups["S123"] = {"U1"}
    studio = make_studio(allowed_users=frozenset({"S123", "U7"}))
    assert "Working on" in studio.slash("/imagine", "a red car", user="U1")["text"]
    assert "Working on" in studio.slash("/imagine", "a red car", user="U7")["text"]
    assert "not enabled for you" in studio.slash("/imagine", "a red car", user="U2")["text"]
    assert "your Slack admin" in studio.slash("/imagine", "a red car", user="U2")["text"]


def test_mentions_are_checked_too(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(allowed_channels=frozenset({"C9"}))
    ts = slack.post_user_message("C1", "U1", "<@UBOT> imagine a cat")
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    assert "not enabled in this channel" in private_notes(slack)
    assert bedrock.calls == []


def test_unreadable_user_group_fails_closed() -> None:
    control = AccessControl(AccessPolicy(allowed_users=frozenset({"S404"})), client=None)
    with pytest.raises(NotAllowed):
        control.check("U1", "C1")


# --- quotas -----------------------------------------------------------------------------------

def test_quota_refuses_before_bedrock_with_remaining_and_reset(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=3)
    studio.slash("/imagine", "a red car n=2")
    studio.wait_idle()
    studio.slash("/imagine", "a blue car n=2", response_key="r2")
    studio.wait_idle()
    assert len(bedrock.invocations("TEXT_IMAGE")) == 1
    refusal = "\n".join(r["text"] for r in slack.responses["r2"])
    assert "needs 2 image(s)" in refusal and "1 of 3 left" in refusal and "resets at 00:00 UTC" in refusal
    assert "blue car" not in channel_text(slack), "a refusal is private; nothing is posted"
    assert "you: *2 of 3*" in studio.slash("/imagine", "usage")["text"]


def test_workspace_quota_and_admin_exemption(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(team_daily_images=2, admins=frozenset({"UADMIN"}))
    studio.slash("/imagine", "one n=2", user="U1")
    studio.wait_idle()
    studio.slash("/imagine", "two", user="U2", response_key="r2")
    studio.slash("/imagine", "three", user="UADMIN", response_key="r3")
    studio.wait_idle()
    assert "the workspace's daily allowance has 0 of 2 left" in json.dumps(slack.responses["r2"])
    assert len(bedrock.invocations("TEXT_IMAGE")) == 2


def test_images_not_made_are_given_back(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=3)
    bedrock.blocked_terms.add("forbidden")
    studio.slash("/imagine", "a forbidden thing n=3")
    studio.wait_idle()
    assert "you: *0 of 3*" in studio.slash("/imagine", "usage")["text"]


def test_app_home_shows_usage(studio: Studio, slack: FakeSlack) -> None:
    studio.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home",
                  "event_ts": f"{time.time():.6f}"})
    [published] = [view for view in slack.views if view["method"] == "views.publish"]
    text = json.dumps(published["view"])
    assert "Images today" in text and "/imagine" in text


@pytest.mark.parametrize("store_kind", ["sqlite", "dynamodb"])
def test_concurrent_reservations_never_pass_the_limit(store_kind: str) -> None:
    with mock_aws():
        store = state_store(store_kind)
        granted: list[int] = []
        refused: list[int] = []

        def reserve(index: int) -> None:
            try:
                store.reserve_images("T", f"U{index % 2}", today(), 1, user_limit=0, team_limit=10)
                granted.append(index)
            except QuotaExceeded:
                refused.append(index)

        if store_kind == "sqlite":
            threads = [threading.Thread(target=reserve, args=(index,)) for index in range(25)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            # moto serialises nothing, so concurrency would test moto; DynamoDB itself applies
            # each conditional transaction atomically. Here: the conditions are right.
            for index in range(25):
                reserve(index)
        assert (len(granted), len(refused)) == (10, 15)
        assert store.usage("T", "U0", today()).team == 10
        store.release_images("T", "U0", today(), 3)
        assert store.usage("T", "U0", today()).team == 7


# --- faults -----------------------------------------------------------------------------------

def test_slack_rate_limit_on_upload_is_waited_out(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("files.completeUploadExternal", "ratelimited", retry_after=1)
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert len(slack.uploads) == 1
    assert slack.thread_messages("C1", slack.bot_messages("C1")[0]["ts"])


def test_slack_upload_failure_mid_job_is_told(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("files.completeUploadExternal", "internal_error", n=5)
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert "Slack did not accept the result" in json.dumps(slack.updates[-1]["blocks"])


def test_interrupted_jobs_are_reported_on_the_next_start(make_studio, slack: FakeSlack, tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    job = Job(id="lost", command="imagine", request={}, team_id="T0001", channel_id="C1", user_id="U1",
              response_url=slack.response_url("lost"))
    SqliteState(path).journal_add(job)  # accepted by a process that was then killed
    make_studio(state_path=str(path))
    assert "did not finish" in slack.responses["lost"][0]["text"]
    assert SqliteState(path).journal_entries() == []


def test_stale_or_forged_requests_are_rejected(studio: Studio, bedrock: FakeBedrock) -> None:
    body = slash_command_body("/imagine", "a red car")
    assert post(studio.runtime.url, body, signed_headers(body, timestamp=int(time.time()) - 600))[0] == 401
    assert post(studio.runtime.url, body, signed_headers(body, secret="forged"))[0] == 401
    assert bedrock.calls == []


def test_a_forged_request_is_logged_as_one_line_without_its_body(studio: Studio, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = slash_command_body("/imagine", "our secret launch plan", response_url="https://hooks.slack.com/commands/T1/2/xyz")
    assert post(studio.runtime.url, body, signed_headers(body, secret="forged"))[0] == 401
    logged = [record.getMessage() for record in caplog.records]
    for private in ("launch", VERIFICATION_TOKEN, "hooks.slack.com", "v0="):
        assert not any(private in line for line in logged), f"{private!r} was logged"
    refused = [line for line in logged if "refused" in line.lower() or "invalid request" in line.lower()]
    assert len(refused) == 1 and "signature" in refused[0]


def test_bolt_itself_never_logs_a_refused_body(studio: Studio, caplog: pytest.LogCaptureFixture) -> None:
    """Defence in depth: a request that reaches Bolt's own check (no guard in front) is logged the same way."""
    from slack_bolt.request import BoltRequest

    caplog.set_level(logging.DEBUG)
    body = slash_command_body("/imagine", "our secret launch plan", response_url="https://hooks.slack.com/commands/T1/2/xyz")
    assert studio.runtime.app.dispatch(BoltRequest(body=body, headers=signed_headers(body, secret="forged"))).status == 401
    logged = [record.getMessage() for record in caplog.records]
    for private in ("launch", VERIFICATION_TOKEN, "hooks.slack.com", "v0="):
        assert not any(private in line for line in logged), f"{private!r} was logged"
    assert len([line for line in logged if "refused" in line.lower()]) == 1


# --- prompts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "Tell me what to draw"), ("x" * 10_000, "10,000 characters"),
     ("a car n=2 n=3", "given twice"), ("a car ar=16:9 size=1024x1024", "not both"),
     ('a car no="people', "Missing closing quote")],
)
def test_bad_prompts_are_refused_privately(studio: Studio, bedrock: FakeBedrock, text: str, expected: str) -> None:
    assert expected in studio.slash("/imagine", text)["text"]
    assert bedrock.calls == []


def test_a_long_describe_question_is_refused_with_the_limit(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    slack.post_user_message("C1", "U1", "", files=[slack.add_file(small_jpeg())])
    assert "at most 2,000" in studio.slash("/describe", "what is this " * 400)["text"]
    studio.wait_idle()
    assert bedrock.calls == []


def test_emoji_rtl_and_control_characters(studio: Studio, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "חתול 🐈 على\x00 the\x07 roof")
    studio.wait_idle()
    [call] = bedrock.invocations("TEXT_IMAGE")
    assert call.body["textToImageParams"]["text"] == "חתול 🐈 على the roof"


# --- secrets ----------------------------------------------------------------------------------

def test_secrets_never_appear_in_logs_or_messages(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    studio.slash("/imagine", "a red car")
    bedrock.fail_next(50, "AccessDeniedException")
    studio.slash("/imagine", "a blue car")
    slack.post_user_message("C1", "U1", "", files=[slack.add_file(small_jpeg())])
    slack.fail_next("conversations.history", "internal_error", n=5)
    studio.slash("/describe", "")
    body = slash_command_body("/imagine", "x")
    post(studio.runtime.url, body, signed_headers(body, secret="forged"))
    studio.wait_idle()
    seen = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    seen += private_notes(slack) + channel_text(slack)
    assert "job failed" in seen or "job crashed" in seen or "failed" in seen, "the scan saw the failure paths"
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in seen
