"""One catalogue batch per person at a time on AWS: the others wait their turn in DynamoDB.

Locally a second batch's thread simply waits for a claim (``bot.flows.catalogue``).
A Lambda must not sleep for hours, so on AWS the waiting is data. One item per
person (``catalogue-turn#<team>#<user>``) names the batch whose execution runs
(``running``, until ``until``) and lists the batches waiting behind it in order
(``waiting``); each waiting batch's execution input is an item of its own. The
running batch's report step passes the turn on: it starts the next waiting
execution. If the execution dies before its report (failed, aborted, timed out),
Step Functions' status-change event does the same (see the worker's handler); and
the turn expires after ``TURN_SECONDS`` whatever happens, so a lost event blocks
nobody for good.

Why not SQS (returning the job with a visibility delay): a message can hide for
at most 12 hours and every receive counts toward the queue's redrive limit, so a
batch behind a long one would end in the dead-letter queue, and each receive
would fetch the ZIP again. Here each change is one conditional write on one item,
so a Lambda retried at any point repeats a write that already happened (a no-op)
or finds the state it left, and no batch is lost or started twice:

- ``admit`` takes the turn when it is free, expired or already this batch's;
  otherwise it joins the waiting list in a write that requires the turn to be
  still held, so a turn released meanwhile is taken on the next try, not missed.
- ``pass_on`` changes the item only while this batch holds the turn, and records
  it as ``previous``: a retried report step finds the batch it handed over to and
  starts it again, which Step Functions treats as the same execution (by name).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# The state machine's TimeoutSeconds (infra/template.yaml): a batch never outlives its turn.
TURN_SECONDS = 24 * 3600
# Waiting batches and the turn itself are kept this long after their last change.
KEEP_SECONDS = 14 * 86400
_ATTEMPTS = 8  # each failed try means another writer changed the item in between: rare, and bounded


@dataclass(frozen=True)
class Handover:
    """The batch whose turn it is now: its execution input, and whether it was handed over before."""

    execution: dict[str, Any]
    # A retried step found the turn passed on already: the batch may be running or done since,
    # so start it (a no-op if it ran) but tell its person nothing new.
    again: bool = False


class BatchTurns:
    """Turns on the stack's state table (the same table as claims, counters and quotas)."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.time,
                 turn_seconds: int = TURN_SECONDS) -> None:
        self.client = client
        self.table_name = table_name
        self.clock = clock
        self.turn_seconds = turn_seconds

    def admit(self, team_id: str, user_id: str, batch_id: str, execution_input: dict[str, Any]) -> bool:
        """True: the batch runs now (start it). False: it waits; its input is kept for ``pass_on``."""
        key = self._turn_key(team_id, user_id)
        for _ in range(_ATTEMPTS):
            now = int(self.clock())
            if self._update(key, "SET running = :id, #until = :until, expiration = :keep",
                            "attribute_not_exists(running) OR running = :id OR #until < :now",
                            {":id": _s(batch_id), ":until": _n(now + self.turn_seconds), ":now": _n(now),
                             ":keep": _n(now + KEEP_SECONDS)}):
                return True
            # Stored before the batch is listed, so whoever passes the turn on can always start it.
            self.client.put_item(TableName=self.table_name, Item={
                "id": _s(_waiting_key(batch_id)), "input": _s(json.dumps(execution_input, separators=(",", ":"))),
                "expiration": _n(now + KEEP_SECONDS)})
            if self._update(key, "SET waiting = list_append(if_not_exists(waiting, :none), :ids), expiration = :keep",
                            "attribute_exists(running) AND running <> :id AND #until >= :now"
                            " AND NOT contains(waiting, :id)",
                            {":id": _s(batch_id), ":ids": {"L": [_s(batch_id)]}, ":none": {"L": []},
                             ":now": _n(now), ":keep": _n(now + KEEP_SECONDS)}):
                return False
            if batch_id in self._waiting(self._item(key)):
                return False  # a retry: it already waits
            # The turn was passed on or expired in between: try to take it.
        raise RuntimeError(f"could not admit batch {batch_id}: its turn item kept changing")

    def pass_on(self, team_id: str, user_id: str, batch_id: str) -> Handover | None:
        """End ``batch_id``'s turn; the next waiting batch to start, or None."""
        key = self._turn_key(team_id, user_id)
        for _ in range(_ATTEMPTS):
            item = self._item(key)
            running = item.get("running", {}).get("S")
            if running != batch_id:
                # Not (or no longer) this batch's turn. A retry of the step that passed it on restarts
                # the batch it went to, in case the first try stopped before starting it.
                handed_to = running if running and item.get("previous", {}).get("S") == batch_id else None
                return self._handover(handed_to, again=True) if handed_to else None
            waiting = self._waiting(item)
            now = int(self.clock())
            values = {":id": _s(batch_id), ":keep": _n(now + KEEP_SECONDS)}
            if not waiting:
                if self._update(key, "REMOVE running, #until SET previous = :id, expiration = :keep",
                                "running = :id AND (attribute_not_exists(waiting) OR size(waiting) = :zero)",
                                {**values, ":zero": _n(0)}):
                    return None
                continue
            following = waiting[0]
            if self._update(key, "SET running = :next, #until = :until, previous = :id, expiration = :keep"
                                 " REMOVE waiting[0]",
                            "running = :id AND waiting[0] = :next",
                            {**values, ":next": _s(following), ":until": _n(now + self.turn_seconds)}):
                return self._handover(following, again=False)
        raise RuntimeError(f"could not pass on the turn of batch {batch_id}: its item kept changing")

    def waiting(self, team_id: str, user_id: str) -> list[str]:
        """The batches waiting for this person's turn, oldest first."""
        return self._waiting(self._item(self._turn_key(team_id, user_id)))

    def _handover(self, batch_id: str, again: bool) -> Handover | None:
        item = self.client.get_item(TableName=self.table_name, Key={"id": _s(_waiting_key(batch_id))},
                                    ConsistentRead=True).get("Item")
        return Handover(dict(json.loads(item["input"]["S"])), again) if item else None

    def _item(self, key: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = self.client.get_item(TableName=self.table_name, Key=key,
                                                    ConsistentRead=True).get("Item", {})
        return item

    @staticmethod
    def _waiting(item: dict[str, Any]) -> list[str]:
        return [entry["S"] for entry in item.get("waiting", {}).get("L", [])]

    def _update(self, key: dict[str, Any], expression: str, condition: str, values: dict[str, Any]) -> bool:
        """One conditional write; False when its condition did not hold."""
        names = {"#until": "until"} if "#until" in expression or "#until" in condition else None
        try:
            self.client.update_item(TableName=self.table_name, Key=key, UpdateExpression=expression,
                                    ConditionExpression=condition, ExpressionAttributeValues=values,
                                    **({"ExpressionAttributeNames": names} if names else {}))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    @staticmethod
    def _turn_key(team_id: str, user_id: str) -> dict[str, Any]:
        return {"id": _s(f"catalogue-turn#{team_id}#{user_id}")}


def _waiting_key(batch_id: str) -> str:
    return f"catalogue-waiting#{batch_id}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}
