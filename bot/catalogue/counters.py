"""A batch's counters in DynamoDB: photos done and failed, each photo counted once.

The progress message is edited from these (not from the state machine), and a
child that Step Functions retries, or a photo the map redelivers, is not
counted twice: each photo's marker and the counters change in one transaction.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

TTL_SECONDS = 14 * 86400


@dataclass(frozen=True)
class BatchCounts:
    done: int  # photos finished, failed ones included
    failed: int
    total: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


class BatchCounters:
    """Counters on the stack's state table (items ``catalogue#<batch>`` and one marker per photo)."""

    def __init__(self, client: Any, table_name: str, clock: Any = time.time) -> None:
        self.client = client
        self.table_name = table_name
        self.clock = clock

    def start(self, batch_id: str, total: int) -> None:
        """Create the batch's counters (a second call for the same batch changes nothing)."""
        self.client.update_item(
            TableName=self.table_name, Key=self._key(batch_id),
            UpdateExpression="SET photos = if_not_exists(photos, :total), done = if_not_exists(done, :zero),"
                             " failed = if_not_exists(failed, :zero), expiration = :expires",
            ExpressionAttributeValues={":total": {"N": str(total)}, ":zero": {"N": "0"},
                                       ":expires": {"N": str(self._expires())}},
        )

    def record(self, batch_id: str, photo_key: str, failed: bool) -> tuple[BatchCounts, bool]:
        """Count one photo's outcome; returns the counts and whether this call counted it."""
        marker = hashlib.sha1(photo_key.encode()).hexdigest()
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {
                    "TableName": self.table_name,
                    "Item": {"id": {"S": f"catalogue#{batch_id}#{marker}"}, "expiration": {"N": str(self._expires())},
                             "failed": {"BOOL": failed}},
                    "ConditionExpression": "attribute_not_exists(id)",
                }},
                {"Update": {
                    "TableName": self.table_name, "Key": self._key(batch_id),
                    "UpdateExpression": "ADD done :one, failed :failed",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":failed": {"N": str(int(failed))}},
                }},
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return self.counts(batch_id), False
        return self.counts(batch_id), True

    def counts(self, batch_id: str) -> BatchCounts:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(batch_id), ConsistentRead=True).get(
            "Item", {})

        def number(name: str) -> int:
            return int(item.get(name, {}).get("N", "0"))

        return BatchCounts(done=number("done"), failed=number("failed"), total=number("photos"))

    def _expires(self) -> int:
        return int(self.clock()) + TTL_SECONDS

    @staticmethod
    def _key(batch_id: str) -> dict[str, Any]:
        return {"id": {"S": f"catalogue#{batch_id}"}}
