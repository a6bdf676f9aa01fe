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

from bot.clients import slack_web_client
from bot.doctor import FAIL, OK, WARN, model_checks, slack_checks, warn_admins
from bot.runtime.sqlite_state import SqliteState
from bot.settings import Settings
from handlers.model_table import Role
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
    checks = slack_checks(slack_web_client(settings)) + model_checks(settings, control)
    assert [c.status for c in checks] == [OK] * len(checks), checks
    # Every role has a line naming its model, and Bedrock's own region.
    assert len(checks) == 2 + len(Role)
    generate = by_name(checks, "generate (")
    assert "stability.stable-image-core-v1:1 in us-west-2" in generate.detail and "Active" in generate.detail


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
    bedrock.lifecycle["amazon.titan-image-generator-v2:0"] = ("LEGACY", "2026-12-31")
    checks = model_checks(replace(settings, model_stack="amazon"), control, now=dt.datetime(2026, 11, 21, tzinfo=dt.UTC))
    check = by_name(checks, "generate (")
    assert check.status == WARN and "Legacy" in check.detail and "40 days" in check.detail
    assert "STUDIO_IMAGE_MODEL=stability.stable-image-core-v1:1" in check.fix
    assert "STUDIO_MODELS=stability" in by_name(checks, "model stack").fix


def test_retired_model_fails_and_names_the_setting(settings: Settings, bedrock: FakeBedrock, control) -> None:
    bedrock.retire("amazon.titan-image-generator-v2:0")
    checks = model_checks(replace(settings, image_model_id="amazon.titan-image-generator-v2:0"), control)
    check = by_name(checks, "generate (")
    assert check.status == FAIL and "end of life since 2026-06-30" in check.detail
    assert check.fix == "Set STUDIO_IMAGE_MODEL=stability.stable-image-core-v1:1 now."
    assert by_name(checks, "upscale (").status == OK  # other roles keep the default stack


def test_amazon_stack_has_no_upscaler(settings: Settings, control) -> None:
    check = by_name(model_checks(replace(settings, model_stack="amazon"), control), "upscale (")
    assert check.status == WARN and "STUDIO_UPSCALE_MODEL=us.stability.stable-fast-upscale-v1:0" in check.fix


def test_model_without_access_yet(settings: Settings, bedrock: FakeBedrock, control) -> None:
    bedrock.unauthorized_models.add("anthropic.claude-haiku-4-5-20251001-v1:0")
    check = by_name(model_checks(settings, control), "vision")
    assert check.status == WARN and "granted on first use" in check.detail


def test_unknown_model(settings: Settings, control) -> None:
    check = by_name(model_checks(replace(settings, image_model_id="amazon.titan-image-generator-v9"), control),
                    "generate (")
    assert check.status == FAIL and "STUDIO_IMAGE_MODEL" in check.fix


def test_an_html_error_page_is_summarised(settings: Settings, bedrock: FakeBedrock, control) -> None:
    bedrock.fail_next(5, "InternalServerException", "<!DOCTYPE html><html><body>Gateway</body></html>")
    check = model_checks(settings, control)[0]
    assert check.status == FAIL and "<" not in check.detail and "HTML page" in check.detail


def test_profile_ids_are_checked_as_their_base_model() -> None:
    assert base_model_id("us.anthropic.claude-haiku-4-5-20251001-v1:0") == "anthropic.claude-haiku-4-5-20251001-v1:0"
    assert base_model_id("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0") == "amazon.nova-canvas-v1:0"


def test_admins_are_warned_once_a_day(settings: Settings, slack: FakeSlack, bedrock: FakeBedrock, control) -> None:
    bedrock.lifecycle["amazon.titan-image-generator-v2:0"] = ("LEGACY", "2027-01-31")
    state = SqliteState(":memory:")
    amazon = replace(settings, model_stack="amazon")
    for _ in range(2):  # two restarts on the same day
        warn_admins(model_checks(amazon, control), slack_web_client(settings), frozenset({"UADMIN"}), state.claim)
    dms = [call for method, call in slack.calls if method == "chat.postMessage" and call.get("channel") == "UADMIN"]
    # One DM per problem line (each role on Titan, and the stack), none repeated on the second start.
    assert dms and len(dms) == len({str(dm) for dm in dms}) and "Legacy" in str(dms[0])


def test_doctor_command_prints_a_table(tmp_path: Path, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, "AWS_ACCESS_KEY_ID": "t",
           "AWS_SECRET_ACCESS_KEY": "t", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_BEDROCK": bedrock.url}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Slack scopes" in result.stdout and "us-west-2" in result.stdout and "FAIL" not in result.stdout
    assert "stability.stable-image-ultra-v1:1" in result.stdout
    bedrock.retire("amazon.titan-image-generator-v2:0")
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], env={**env, "STUDIO_MODELS": "amazon"},
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "FAIL" in result.stdout and "STUDIO_MODELS=stability" in result.stdout
