"""python -m bot doctor and the start-up lifecycle check, against the fakes."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from bot.doctor import FAIL, OK, WARN, model_checks, slack_checks, warn_admins
from bot.settings import Settings
from bot.state import SqliteState
from handlers.models import base_model_id
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def control(bedrock: FakeBedrock):
    return boto3.client("bedrock", endpoint_url=bedrock.url, region_name="us-east-1")


def by_name(checks, fragment: str):
    [check] = [c for c in checks if fragment in c.name]
    return check


def test_all_good(settings: Settings, slack: FakeSlack, control) -> None:
    from bot.clients import slack_web_client

    checks = slack_checks(slack_web_client(settings)) + model_checks(settings, control)
    assert {c.status for c in checks} == {OK}, checks
    assert by_name(checks, "vision").detail.startswith("Active")


def test_missing_scope(settings: Settings, slack: FakeSlack) -> None:
    from bot.clients import slack_web_client

    slack.scopes = [scope for scope in slack.scopes if scope != "files:read"]
    [token, scopes] = slack_checks(slack_web_client(settings))
    assert token.status == OK and scopes.status == FAIL
    assert "files:read" in scopes.detail and "reinstall" in scopes.fix


def test_invalid_token(settings: Settings, slack: FakeSlack) -> None:
    from bot.clients import slack_web_client

    [token] = slack_checks(slack_web_client(replace(settings, slack_bot_token="xoxb-wrong")))
    assert token.status == FAIL and "invalid_auth" in token.detail


def test_legacy_model_with_end_of_life(settings: Settings, bedrock: FakeBedrock, control) -> None:
    bedrock.lifecycle["amazon.titan-image-generator-v2:0"] = ("LEGACY", "2027-01-31")
    check = by_name(model_checks(settings, control, now=dt.datetime(2026, 11, 21, tzinfo=dt.UTC)), "image model")
    assert check.status == WARN
    assert "Legacy; end of life 2027-01-31 (71 days)" in check.detail
    assert "STUDIO_IMAGE_MODEL" in check.fix and "amazon.nova-canvas-v1:0" in check.fix


def test_model_without_access(settings: Settings, bedrock: FakeBedrock, control) -> None:
    bedrock.unauthorized_models.add("anthropic.claude-haiku-4-5-20251001-v1:0")
    check = by_name(model_checks(settings, control), "vision")
    assert check.status == FAIL and "access is not enabled" in check.detail and "Model access" in check.fix


def test_unknown_model(settings: Settings, control) -> None:
    check = by_name(model_checks(replace(settings, image_model_id="amazon.titan-image-generator-v9"), control), "image model")
    assert check.status == FAIL and "not offered" in check.detail


def test_profile_ids_are_checked_as_their_base_model() -> None:
    assert base_model_id("us.anthropic.claude-haiku-4-5-20251001-v1:0") == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert base_model_id("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0") == "amazon.nova-canvas-v1:0"


def test_admins_are_warned_once_a_day(settings: Settings, slack: FakeSlack, bedrock: FakeBedrock, control) -> None:
    from bot.clients import slack_web_client

    bedrock.lifecycle["amazon.titan-image-generator-v2:0"] = ("LEGACY", "2027-01-31")
    state = SqliteState(":memory:")
    for _ in range(2):  # two restarts on the same day
        warn_admins(model_checks(settings, control), slack_web_client(settings), frozenset({"UADMIN"}), state.claim)
    dms = [call for method, call in slack.calls if method == "chat.postMessage" and call.get("channel") == "UADMIN"]
    assert len(dms) == 1 and "Legacy" in str(dms[0])


def test_doctor_command_prints_a_table(tmp_path: Path, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.lifecycle["amazon.titan-image-generator-v2:0"] = ("LEGACY", "2027-01-31")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, "AWS_ACCESS_KEY_ID": "t",
           "AWS_SECRET_ACCESS_KEY": "t", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_BEDROCK": bedrock.url}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning is not a failure
    assert "WARN" in result.stdout and "Legacy" in result.stdout and "Slack scopes" in result.stdout
    bedrock.unauthorized_models.add("amazon.titan-image-generator-v2:0")
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "FAIL" in result.stdout
