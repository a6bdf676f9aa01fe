"""Durable state on AWS: ``bot.store.Store`` on the stack's DynamoDB table."""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from bot.quota import QuotaExceeded, Usage
from bot.store import BatchProgress


class DynamoState:
    """``StateStore`` on the stack's DynamoDB table (shared with Powertools Idempotency).

    Keys are prefixed so they cannot collide with idempotency records; items
    expire through the table's TTL attribute ``expiration``.
    """

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name

    def claim(self, key: str, ttl_seconds: int) -> bool:
        now = int(time.time())
        try:
            # TTL deletion is lazy (up to days), so an expired item counts as absent.
            self.client.put_item(
                TableName=self.table_name,
                Item={"id": {"S": f"claim#{key}"}, "expiration": {"N": str(now + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, key: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key={"id": {"S": f"claim#{key}"}})

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self.client.put_item(TableName=self.table_name, Item={
            "id": {"S": f"kv#{key}"}, "value": {"S": value},
            "expiration": {"N": str(int(time.time()) + ttl_seconds)},
        })

    def get(self, key: str) -> str | None:
        item = self.client.get_item(TableName=self.table_name, Key={"id": {"S": f"kv#{key}"}}).get("Item")
        if not item or int(item["expiration"]["N"]) < time.time():
            return None  # TTL deletion is lazy; an expired item is absent
        return str(item["value"]["S"])

    def load_kit(self, team_id: str, channel_id: str) -> str | None:
        item = self.client.get_item(TableName=self.table_name, Key=self._kit_key(team_id, channel_id),
                                    ConsistentRead=True).get("Item")
        return str(item["kit"]["S"]) if item else None

    def swap_kit(self, team_id: str, channel_id: str, old: str | None, new: str | None) -> bool:
        key = self._kit_key(team_id, channel_id)
        if old is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(id)"}
        else:
            condition = {"ConditionExpression": "kit = :old", "ExpressionAttributeValues": {":old": {"S": old}}}
        try:
            if new is None:
                self.client.delete_item(TableName=self.table_name, Key=key, **condition)
            else:
                # No ``expiration`` attribute: the table's TTL never deletes a kit.
                self.client.put_item(TableName=self.table_name, Item={**key, "kit": {"S": new}}, **condition)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def _kit_key(team_id: str, channel_id: str) -> dict[str, Any]:
        return {"id": {"S": f"kit#{team_id}#{channel_id}"}}

    def batch_record(self, batch_id: str, index: int, row: str, total: int) -> BatchProgress:
        """One item per batch: a map of rows plus counters, updated with conditions.

        The condition on the row makes a redelivered photo a no-op (reported as a duplicate).
        """
        key = {"id": {"S": f"batch#{batch_id}"}}
        failed = int(json.loads(row).get("outcome") != "done")
        duplicate = False
        try:
            item = self.client.update_item(
                TableName=self.table_name, Key=key,
                UpdateExpression="SET #rows.#i = :row, expiration = :expires ADD done :one, failed :failed",
                ConditionExpression="attribute_not_exists(#rows.#i)",
                ExpressionAttributeNames={"#rows": "rows", "#i": str(index)},
                ExpressionAttributeValues={":row": {"S": row}, ":one": {"N": "1"}, ":failed": {"N": str(failed)},
                                           ":expires": {"N": str(int(time.time()) + 7 * 86400)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ValidationException":
                # The first row of a batch: the map does not exist yet, so create it.
                self.client.update_item(
                    TableName=self.table_name, Key=key, UpdateExpression="SET #rows = if_not_exists(#rows, :empty)",
                    ExpressionAttributeNames={"#rows": "rows"}, ExpressionAttributeValues={":empty": {"M": {}}},
                )
                return self.batch_record(batch_id, index, row, total)
            if code != "ConditionalCheckFailedException":
                raise
            duplicate = True
            item = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)["Item"]
        return self._batch_progress(item, total, duplicate)

    def batch_status(self, batch_id: str, total: int) -> BatchProgress:
        item = self.client.get_item(TableName=self.table_name, Key={"id": {"S": f"batch#{batch_id}"}},
                                    ConsistentRead=True).get("Item", {})
        return self._batch_progress(item, total)

    @staticmethod
    def _batch_progress(item: dict[str, Any], total: int, duplicate: bool = False) -> BatchProgress:
        done, failures = int(item.get("done", {"N": "0"})["N"]), int(item.get("failed", {"N": "0"})["N"])
        rows = None
        if done == total:
            by_index = item["rows"]["M"]
            rows = [by_index[k]["S"] for k in sorted(by_index, key=int)]
        return BatchProgress(done=done, failed=failures, total=total, rows=rows, duplicate=duplicate)

    def reserve_images(self, team_id: str, user_id: str, day: str, count: int,
                       user_limit: int, team_limit: int) -> Usage:
        """Add ``count`` to both daily counters in one transaction, each guarded by its limit."""
        scopes = (("user", self._usage_key(team_id, user_id, day), user_limit),
                  ("team", self._usage_key(team_id, None, day), team_limit))
        for scope, _, limit in scopes:
            if limit and count > limit:
                raise QuotaExceeded(scope, 0, limit, count)
        try:
            self.client.transact_write_items(TransactItems=[
                {"Update": self._add(key, count, limit)} for _, key, limit in scopes
            ])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            usage = self.usage(team_id, user_id, day)
            for (scope, _, limit), reason, used in zip(scopes, reasons, (usage.user, usage.team), strict=False):
                if reason == "ConditionalCheckFailed":
                    raise QuotaExceeded(scope, used, limit, count) from None
            raise
        return self.usage(team_id, user_id, day)

    def release_images(self, team_id: str, user_id: str, day: str, count: int) -> None:
        for key in (self._usage_key(team_id, user_id, day), self._usage_key(team_id, None, day)):
            try:
                # Never below zero and never a new item: a counter that went (or expired)
                # away must not come back negative, which would lift the limit.
                self.client.update_item(
                    TableName=self.table_name, Key={"id": {"S": key}}, UpdateExpression="ADD images :minus",
                    ConditionExpression="images >= :n",
                    ExpressionAttributeValues={":minus": {"N": str(-count)}, ":n": {"N": str(count)}},
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def usage(self, team_id: str, user_id: str, day: str) -> Usage:
        counts = []
        for key in (self._usage_key(team_id, user_id, day), self._usage_key(team_id, None, day)):
            item = self.client.get_item(TableName=self.table_name, Key={"id": {"S": key}},
                                        ConsistentRead=True).get("Item", {})
            counts.append(max(0, int(item.get("images", {}).get("N", "0"))))
        return Usage(*counts)

    def _add(self, key: str, count: int, limit: int) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"id": {"S": key}},
            "UpdateExpression": "ADD images :n SET expiration = :expires",
            # Counters are kept two days (TTL), long enough to answer "usage today".
            "ExpressionAttributeValues": {":n": {"N": str(count)},
                                          ":expires": {"N": str(int(time.time()) + 2 * 86400)}},
        }
        if limit:
            update["ConditionExpression"] = "attribute_not_exists(images) OR images <= :room"
            update["ExpressionAttributeValues"][":room"] = {"N": str(limit - count)}
        return update

    @staticmethod
    def _usage_key(team_id: str, user_id: str | None, day: str) -> str:
        return f"usage#{day}#{team_id}" + (f"#{user_id}" if user_id else "")
