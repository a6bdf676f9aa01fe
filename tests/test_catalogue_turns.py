"""One catalogue batch per person at a time on AWS: turns on the state table (moto DynamoDB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.catalogue.turns import BatchTurns, Handover
from tests.aws_resources import create_state_table


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def turns() -> Iterator[BatchTurns]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        yield BatchTurns(client, create_state_table(client), clock=Clock(), turn_seconds=3600)


def execution(batch_id: str) -> dict[str, Any]:
    return {"batch": {"id": batch_id, "total": 2}, "source": {"bucket": "b", "prefix": f"{batch_id}/"}}


def test_a_second_batch_waits_and_the_first_ones_end_starts_it_in_order(turns: BatchTurns) -> None:
    assert turns.admit("T1", "U1", "a", execution("a")) is True
    assert turns.admit("T1", "U1", "b", execution("b")) is False
    assert turns.admit("T1", "U1", "c", execution("c")) is False
    assert turns.admit("T1", "U2", "other", execution("other")) is True, "someone else's batch does not wait"
    assert turns.waiting("T1", "U1") == ["b", "c"]

    assert turns.pass_on("T1", "U1", "a") == Handover(execution("b"))
    assert turns.waiting("T1", "U1") == ["c"]
    assert turns.admit("T1", "U1", "d", execution("d")) is False, "b runs now"
    assert turns.pass_on("T1", "U1", "b") == Handover(execution("c"))
    assert turns.pass_on("T1", "U1", "c") == Handover(execution("d"))
    assert turns.pass_on("T1", "U1", "d") is None
    assert turns.admit("T1", "U1", "e", execution("e")) is True, "the turn is free again"


def test_retries_change_nothing_twice(turns: BatchTurns) -> None:
    assert turns.admit("T1", "U1", "a", execution("a")) is True
    assert turns.admit("T1", "U1", "a", execution("a")) is True, "a redelivered job keeps its own turn"
    assert turns.admit("T1", "U1", "b", execution("b")) is False
    assert turns.admit("T1", "U1", "b", execution("b")) is False
    assert turns.waiting("T1", "U1") == ["b"], "listed once"

    assert turns.pass_on("T1", "U1", "a") == Handover(execution("b"))
    # The report step retried: it hands back the batch it passed the turn to (starting it again is a no-op).
    assert turns.pass_on("T1", "U1", "a") == Handover(execution("b"), again=True)
    assert turns.waiting("T1", "U1") == []
    assert turns.pass_on("T1", "U1", "b") is None
    assert turns.pass_on("T1", "U1", "b") is None


def test_a_turn_whose_batch_died_expires(turns: BatchTurns) -> None:
    clock = turns.clock
    assert isinstance(clock, Clock)
    assert turns.admit("T1", "U1", "dead", execution("dead")) is True
    assert turns.admit("T1", "U1", "b", execution("b")) is False
    clock.now += 3601
    assert turns.admit("T1", "U1", "c", execution("c")) is True, "past its time the turn is free"
    assert turns.pass_on("T1", "U1", "dead") is None, "the dead batch no longer holds it"
    assert turns.pass_on("T1", "U1", "c") == Handover(execution("b")), "the batch that waited is not lost"


def test_a_turn_released_between_the_two_writes_is_taken_not_missed(turns: BatchTurns) -> None:
    assert turns.admit("T1", "U1", "a", execution("a")) is True
    real_update = turns._update

    def release_first(key: dict[str, Any], expression: str, condition: str, values: dict[str, Any]) -> bool:
        if expression.startswith("SET waiting"):
            # "a" finishes after "b" found the turn held, before "b" joins the waiting list.
            turns._update = real_update  # type: ignore[method-assign]
            assert turns.pass_on("T1", "U1", "a") is None
        return real_update(key, expression, condition, values)

    turns._update = release_first  # type: ignore[method-assign]
    assert turns.admit("T1", "U1", "b", execution("b")) is True
    assert turns.waiting("T1", "U1") == []
