"""The durable state flows and listeners rely on, whatever keeps it.

The local runtime keeps it in SQLite (``bot.runtime.sqlite_state``), AWS in
DynamoDB (``bot.runtime.dynamo_state``); flows see only these protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.quota import Usage, UsageStore


class StateStore(Protocol):
    """What listeners and workers need from durable state."""

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """Record ``key``; True the first time within ``ttl_seconds``, False for a duplicate."""

    def release(self, key: str) -> None:
        """Forget a claim (the work it guarded could not even start)."""

    def usage(self, team_id: str, user_id: str, day: str) -> Usage: ...

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        """Store ``value`` under ``key`` for ``ttl_seconds``."""

    def get(self, key: str) -> str | None:
        """The value under ``key``, or None if absent or expired."""

    def batch_record(self, batch_id: str, index: int, row: str, total: int) -> BatchProgress:
        """Record photo ``index``'s outcome once (a redelivery is marked ``duplicate``)."""

    def batch_status(self, batch_id: str, total: int) -> BatchProgress:
        """Where the batch stands now (read only)."""


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands after one more photo finished."""

    done: int
    failed: int
    total: int
    # Every photo's row once the batch is complete; otherwise None.
    rows: list[str] | None = None
    # True when this photo had been recorded before (SQS delivered its job again).
    duplicate: bool = False


class KitStore(Protocol):
    """Each channel's brand kit (``bot.brand.BrandKit`` as JSON), kept until it is cleared: no expiry."""

    def load_kit(self, team_id: str, channel_id: str) -> str | None:
        """The channel's kit, or None when it has none."""

    def swap_kit(self, team_id: str, channel_id: str, old: str | None, new: str | None) -> bool:
        """Replace the channel's kit with ``new`` (None: delete it) only if it is still ``old`` (None: none);
        False when someone changed it since it was read."""


class Store(StateStore, UsageStore, KitStore, Protocol):
    """Everything a worker keeps durably: claims, result records, usage counters and brand kits."""
