"""Durable state for the local runtime: idempotency claims (and quotas).

A single SQLite file: atomic, safe across threads and restarts, and part of
the standard library. The AWS runtime uses DynamoDB with the same interface.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol


class StateStore(Protocol):
    """What listeners and workers need from durable state."""

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """Record ``key``; True the first time within ``ttl_seconds``, False for a duplicate."""


class SqliteState:
    """``StateStore`` in a local SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by all threads, serialised by a lock: the
        # writes are tiny, and this keeps claims strictly atomic.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def claim(self, key: str, ttl_seconds: int) -> bool:
        now = time.time()
        with self._lock:
            self._db.execute("DELETE FROM claims WHERE expires < ?", (now,))
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO claims (key, expires) VALUES (?, ?)", (key, now + ttl_seconds)
            )
            return cursor.rowcount == 1
