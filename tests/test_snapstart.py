"""SnapStart: what each restored environment refreshes, and that the ingress asks for it."""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from bot.runtime import snapstart
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack


def sqs_client() -> Any:
    return boto3.client("sqs", region_name="us-east-1")


def test_without_the_lambda_runtime_nothing_is_registered() -> None:
    # Local runs and tests have no snapshot_restore_py module, and nothing to refresh.
    assert snapstart._register is None
    assert snapstart.refresh_after_restore(sqs_client()) is False


def test_before_snapshot_imports_the_modules_and_builds_the_clients_it_is_given(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.clients import LazyClient

    hooks: list[Callable[[], None]] = []
    table = LazyClient(sqs_client)
    assert snapstart.warm_before_snapshot(("colorsys",), clients=(table,), register=hooks.append) is True
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    assert not table.is_built, "built on first use, or for the snapshot"
    [hook] = hooks
    hook()
    assert "colorsys" in sys.modules and table.is_built
    assert snapstart.warm_before_snapshot(("colorsys",)) is False  # no Lambda runtime here: nothing registered


def test_restore_reseeds_random_so_environments_draw_different_seeds() -> None:
    hooks: list[Callable[[], None]] = []
    assert snapstart.refresh_after_restore(register=hooks.append) is True
    random.seed(7)  # the state every environment would inherit from the snapshot
    inherited = [random.random() for _ in range(3)]
    random.seed(7)
    [hook] = hooks
    hook()
    assert [random.random() for _ in range(3)] != inherited


def test_restore_drops_pooled_connections_and_the_client_stays_usable() -> None:
    client = sqs_client()
    manager = client._endpoint.http_session._manager
    manager.connection_from_url("https://sqs.us-east-1.amazonaws.com/")  # a pool, as a call made at init leaves
    assert len(manager.pools) == 1
    hooks: list[Callable[[], None]] = []
    snapstart.refresh_after_restore(client, register=hooks.append)
    hooks[0]()
    assert len(manager.pools) == 0
    manager.connection_from_url("https://sqs.us-east-1.amazonaws.com/")
    assert len(manager.pools) == 1


def test_the_ingress_registers_its_clients_with_the_runtime(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> None:
    registered: list[Callable[[], None]] = []
    runtime_module = ModuleType("snapshot_restore_py")
    runtime_module.register_after_restore = registered.append  # type: ignore[attr-defined]
    runtime_module.register_before_snapshot = lambda hook: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime_module)
    for name, value in {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_API_URL": slack.api_url, "AWS_REGION": "us-east-1", "STUDIO_TABLE_NAME": "t",
                        "STUDIO_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}.items():
        monkeypatch.setenv(name, value)
    # Imported anew, as in a fresh environment; monkeypatch puts the earlier modules back afterwards.
    for module in ("bot.runtime.snapstart", "bot.runtime.lambda_ingress"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    ingress = importlib.import_module("bot.runtime.lambda_ingress")
    [hook] = registered
    pools = [client._endpoint.http_session._manager for client in (ingress.queue.client, ingress.state.client)]
    for manager in pools:
        manager.connection_from_url("https://example.amazonaws.com/")
    hook()
    assert [len(manager.pools) for manager in pools] == [0, 0]
