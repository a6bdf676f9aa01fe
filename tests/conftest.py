"""Shared fixtures: the fake Slack and Bedrock servers and a running local Studio.

Everything goes through the real slack_sdk and boto3 clients, pointed at the
fakes with ``SLACK_API_URL`` / ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` semantics.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from bot.runtime.local import LocalRuntime, build_runtime
from bot.settings import Settings
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
)


@pytest.fixture(autouse=True)
def _aws_test_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dummy credentials so botocore signs requests; no real account is reached.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture(scope="session")
def fake_bedrock_server() -> Iterator[FakeBedrock]:
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def slack(fake_slack_server: FakeSlack) -> FakeSlack:
    """The fake Slack, reset, with a channel C1 the bot is in."""
    fake_slack_server.reset()
    fake_slack_server.add_channel("C1", "marketing", bot_member=True)
    return fake_slack_server


@pytest.fixture
def bedrock(fake_bedrock_server: FakeBedrock) -> FakeBedrock:
    """The fake Bedrock, reset."""
    fake_bedrock_server.reset()
    return fake_bedrock_server


_APP_LOGGER_ROOTS = ("bot", "handlers", "slack_bolt", "slack_sdk", "studio")


def _app_loggers() -> dict[str, logging.Logger]:
    return {name: logger for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and name.split(".")[0].split(":")[0] in _APP_LOGGER_ROOTS}


@pytest.fixture(autouse=True)
def _isolated_loggers() -> Iterator[None]:
    """Undo the logging set-up a Lambda entry module does at import (as a cold start does).

    Both Lambda functions share this one test process; left in place, a worker's
    handlers on Slack's loggers would double or hide the lines a later test reads.
    """
    saved = {name: (logger.handlers[:], logger.filters[:], logger.propagate, logger.level)
             for name, logger in _app_loggers().items()}
    yield
    for name, logger in _app_loggers().items():
        handlers, filters, propagate, level = saved.get(name, ([], [], True, logging.NOTSET))
        logger.handlers, logger.filters, logger.propagate, logger.level = handlers, filters, propagate, level


@pytest.fixture
def settings(request: pytest.FixtureRequest, slack: FakeSlack, bedrock: FakeBedrock) -> Settings:
    """Studio pointed at the fakes; ``@pytest.mark.amazon_stack`` runs a test on the legacy Titan stack
    (for scenarios that assert Titan request bodies)."""
    return Settings(
        model_stack="amazon" if request.node.get_closest_marker("amazon_stack") else "stability",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.api_url,
        port=0,
        bedrock_endpoint_url=bedrock.url,
        worker_concurrency=4,
        retry_base_seconds=0.01,
        state_path=":memory:",
    )


@dataclass
class Studio:
    """A running local Studio plus helpers to talk to it like Slack does."""

    runtime: LocalRuntime
    slack: FakeSlack

    def slash(self, command: str, text: str, user: str = "U1", channel: str = "C1",
              response_key: str = "r1") -> dict[str, Any]:
        """Send a signed slash command; returns the ack body (the person's private note)."""
        body = slash_command_body(command, text, user_id=user, channel_id=channel,
                                  response_url=self.slack.response_url(response_key))
        status, payload = post(self.runtime.url, body, signed_headers(body))
        assert status == 200, payload
        # Bolt answers a text-only ack as text/plain, which Slack shows privately.
        return json.loads(payload) if payload.startswith("{") else {"text": payload}

    def event(self, event: dict[str, Any], event_id: str | None = None, headers: dict[str, str] | None = None) -> int:
        """Deliver an Events API callback (a new ``event_id`` unless given); returns the HTTP status."""
        body = event_body(event, event_id=event_id or f"Ev{uuid.uuid4().hex[:12].upper()}")
        status, _ = post(self.runtime.url, body, {**signed_headers(body, content_type="application/json"), **(headers or {})})
        return status

    def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Deliver an interactivity payload (shortcut, button, modal submission); returns the ack body."""
        body = interaction_body(payload)
        status, text = post(self.runtime.url, body, signed_headers(body))
        assert status == 200, text
        return json.loads(text) if text.startswith("{") else {}

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until every queued job has finished."""
        deadline = time.monotonic() + timeout
        while not self.runtime.pool.idle():
            if time.monotonic() > deadline:
                raise AssertionError("jobs did not finish in time")
            time.sleep(0.01)


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST and return (status, body) without raising on HTTP errors."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def make_studio(slack: FakeSlack, settings: Settings) -> Iterator[Any]:
    """Factory: start a local Studio with settings overrides."""
    started: list[LocalRuntime] = []

    def start(**overrides: Any) -> Studio:
        runtime = build_runtime(replace(settings, **overrides), host="127.0.0.1").serve_in_background()
        started.append(runtime)
        return Studio(runtime=runtime, slack=slack)

    yield start
    for runtime in started:
        runtime.close()


@pytest.fixture
def studio(make_studio: Any) -> Studio:
    """A running local Studio with the default test settings."""
    return make_studio()
