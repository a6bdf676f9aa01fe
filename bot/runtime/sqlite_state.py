"""Durable state for the local runtime: claims, daily usage and the job journal.

A single SQLite file: atomic, safe across threads and restarts, and part of
the standard library. The AWS runtime keeps the same ``bot.store.Store`` in
DynamoDB (``bot.runtime.dynamo_state``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.jobs import Job
from bot.quota import QuotaExceeded, Usage
from bot.store import BatchProgress


@dataclass(frozen=True)
class ProgressLine:
    """A message a job posted and keeps up to date (its heading or progress line)."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str


@dataclass(frozen=True)
class JournalEntry:
    """A job an earlier run accepted but did not finish, and the lines it had posted."""

    job: Job
    lines: list[ProgressLine]


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, expires REAL NOT NULL)",
    # Purging expired claims reads only those, not every claim of the last hour.
    "CREATE INDEX IF NOT EXISTS claims_by_expiry ON claims (expires)",
    "CREATE TABLE IF NOT EXISTS usage (scope TEXT NOT NULL, day TEXT NOT NULL, images INTEGER NOT NULL,"
    " PRIMARY KEY (scope, day))",
    "CREATE TABLE IF NOT EXISTS journal (id TEXT PRIMARY KEY, job TEXT NOT NULL)",
    # What each unfinished job holds: images reserved (net of what it gave back) and lines posted.
    "CREATE TABLE IF NOT EXISTS journal_holds (job TEXT NOT NULL, team TEXT NOT NULL, user TEXT NOT NULL,"
    " day TEXT NOT NULL, images INTEGER NOT NULL, PRIMARY KEY (job, team, user, day))",
    "CREATE TABLE IF NOT EXISTS journal_lines (job TEXT NOT NULL, channel TEXT NOT NULL, ts TEXT NOT NULL,"
    " thread_ts TEXT, text TEXT NOT NULL, PRIMARY KEY (job, ts))",
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS batch_rows (batch TEXT NOT NULL, idx INTEGER NOT NULL, row TEXT NOT NULL,"
    " failed INTEGER NOT NULL, PRIMARY KEY (batch, idx))",
    "CREATE TABLE IF NOT EXISTS kits (team TEXT NOT NULL, channel TEXT NOT NULL, kit TEXT NOT NULL,"
    " PRIMARY KEY (team, channel))",
)
# Expired claims are purged at most this often (and at start), not on every claim.
CLAIM_PURGE_SECONDS = 60.0


class SqliteState:
    """``bot.store.Store`` and the job journal in a local SQLite file (``:memory:`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by all threads, serialised by a lock: the
        # writes are tiny, and this keeps every check-and-update atomic.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        # The job running on each worker thread, so its reservations and lines are journaled.
        self._local = threading.local()
        self._claims_purged = time.time()
        with self._transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)
            # Keep the file small: drop what has expired (usage is kept a week for "usage today").
            db.execute("DELETE FROM claims WHERE expires < ?", (self._claims_purged,))
            db.execute("DELETE FROM kv WHERE expires < ?", (time.time(),))
            db.execute("DELETE FROM usage WHERE day < date('now', '-7 days')")

    def claim(self, key: str, ttl_seconds: int) -> bool:
        # Every ack claims its job id, so this is one statement: new, or taking over an expired claim.
        now = time.time()
        with self._lock:
            if now - self._claims_purged >= CLAIM_PURGE_SECONDS:
                self._claims_purged = now
                self._db.execute("DELETE FROM claims WHERE expires < ?", (now,))
            cursor = self._db.execute(
                "INSERT INTO claims (key, expires) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE claims.expires < ?",
                (key, now + ttl_seconds, now))
            return cursor.rowcount == 1

    def release(self, key: str) -> None:
        self._statement("DELETE FROM claims WHERE key = ?", (key,))

    def reserve_images(self, team_id: str, user_id: str, day: str, count: int,
                       user_limit: int, team_limit: int) -> Usage:
        with self._transaction() as db:
            usage = self._usage(db, team_id, user_id, day)
            for scope, used, limit in (("user", usage.user, user_limit), ("team", usage.team, team_limit)):
                if limit and used + count > limit:
                    raise QuotaExceeded(scope, used, limit, count)
            for scope in (f"user:{team_id}:{user_id}", f"team:{team_id}"):
                db.execute(
                    "INSERT INTO usage (scope, day, images) VALUES (?, ?, ?) "
                    "ON CONFLICT (scope, day) DO UPDATE SET images = images + excluded.images",
                    (scope, day, count),
                )
            self._hold(db, team_id, user_id, day, count)
            return Usage(usage.user + count, usage.team + count)

    def release_images(self, team_id: str, user_id: str, day: str, count: int) -> None:
        with self._transaction() as db:
            self._release(db, team_id, user_id, day, count)
            self._hold(db, team_id, user_id, day, -count)

    def usage(self, team_id: str, user_id: str, day: str) -> Usage:
        with self._transaction() as db:
            return self._usage(db, team_id, user_id, day)

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO kv (key, value, expires) VALUES (?, ?, ?)",
                       (key, value, time.time() + ttl_seconds))

    def get(self, key: str) -> str | None:
        with self._transaction() as db:
            row = db.execute("SELECT value FROM kv WHERE key = ? AND expires >= ?", (key, time.time())).fetchone()
            return str(row[0]) if row else None

    def load_kit(self, team_id: str, channel_id: str) -> str | None:
        with self._transaction() as db:
            return self._kit(db, team_id, channel_id)

    def swap_kit(self, team_id: str, channel_id: str, old: str | None, new: str | None) -> bool:
        with self._transaction() as db:
            if self._kit(db, team_id, channel_id) != old:
                return False
            if new is None:
                db.execute("DELETE FROM kits WHERE team = ? AND channel = ?", (team_id, channel_id))
            else:
                db.execute("INSERT OR REPLACE INTO kits (team, channel, kit) VALUES (?, ?, ?)",
                           (team_id, channel_id, new))
            return True

    @staticmethod
    def _kit(db: sqlite3.Connection, team_id: str, channel_id: str) -> str | None:
        row = db.execute("SELECT kit FROM kits WHERE team = ? AND channel = ?", (team_id, channel_id)).fetchone()
        return str(row[0]) if row else None

    def batch_record(self, batch_id: str, index: int, row: str, total: int) -> BatchProgress:
        failed = int(json.loads(row).get("outcome") != "done")
        with self._transaction() as db:
            inserted = db.execute("INSERT OR IGNORE INTO batch_rows (batch, idx, row, failed) VALUES (?, ?, ?, ?)",
                                  (batch_id, index, row, failed)).rowcount
            return self._batch_progress(db, batch_id, total, duplicate=not inserted)

    def batch_status(self, batch_id: str, total: int) -> BatchProgress:
        with self._transaction() as db:
            return self._batch_progress(db, batch_id, total)

    @staticmethod
    def _batch_progress(db: sqlite3.Connection, batch_id: str, total: int, duplicate: bool = False) -> BatchProgress:
        done, failures = db.execute("SELECT COUNT(*), SUM(failed) FROM batch_rows WHERE batch = ?",
                                    (batch_id,)).fetchone()
        rows = None
        if done == total:
            rows = [r[0] for r in db.execute("SELECT row FROM batch_rows WHERE batch = ? ORDER BY idx", (batch_id,))]
        return BatchProgress(done=int(done), failed=int(failures or 0), total=total, rows=rows, duplicate=duplicate)

    # The journal lists jobs accepted but not finished, with the images they reserved
    # and the lines they posted, so that after a crash, kill or shutdown the next start
    # can give the images back, finish the lines and tell the people (see bot.runtime.recovery).
    def journal_add(self, job: Job) -> None:
        self._statement("INSERT OR REPLACE INTO journal (id, job) VALUES (?, ?)", (job.id, job.to_json()))

    def journal_remove(self, job_id: str) -> None:
        """Forget a job that ended (what it reserved is settled, or now owned by the jobs it queued)."""
        with self._transaction() as db:
            for table, column in (("journal", "id"), ("journal_holds", "job"), ("journal_lines", "job")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (job_id,))

    @contextmanager
    def running(self, job_id: str) -> Iterator[None]:
        """Journal what this thread reserves and posts as ``job_id``'s, while the block runs."""
        self._local.job_id = job_id
        try:
            yield
        finally:
            self._local.job_id = None

    def journal_line(self, channel: str, ts: str, thread_ts: str | None, text: str) -> None:
        """Note a message the running job posted (no-op outside ``running``)."""
        job_id = getattr(self._local, "job_id", None)
        if job_id is None:
            return
        self._statement("INSERT OR REPLACE INTO journal_lines (job, channel, ts, thread_ts, text) "
                        "VALUES (?, ?, ?, ?, ?)", (job_id, channel, ts, thread_ts, text))

    def journal_entries(self, job_ids: list[str] | None = None) -> list[JournalEntry]:
        """The unfinished jobs (all, or those in ``job_ids``), oldest first, with their lines."""
        with self._transaction() as db:
            jobs = [Job.from_json(row[0]) for row in db.execute("SELECT job FROM journal ORDER BY rowid")]
            entries = []
            for job in jobs:
                if job_ids is not None and job.id not in job_ids:
                    continue
                lines = [ProgressLine(*row) for row in db.execute(
                    "SELECT channel, ts, thread_ts, text FROM journal_lines WHERE job = ? ORDER BY ts", (job.id,))]
                entries.append(JournalEntry(job, lines))
            return entries

    def release_held(self, job_id: str) -> int:
        """Give back what an unfinished job still holds, once; returns the number of images."""
        with self._transaction() as db:
            rows = db.execute("SELECT team, user, day, images FROM journal_holds WHERE job = ? AND images > 0",
                              (job_id,)).fetchall()
            for team_id, user_id, day, images in rows:
                self._release(db, team_id, user_id, day, images)
            db.execute("DELETE FROM journal_holds WHERE job = ?", (job_id,))
            return sum(row[3] for row in rows)

    def _hold(self, db: sqlite3.Connection, team_id: str, user_id: str, day: str, images: int) -> None:
        job_id = getattr(self._local, "job_id", None)
        if job_id is not None:
            db.execute("INSERT INTO journal_holds (job, team, user, day, images) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (job, team, user, day) DO UPDATE SET images = images + excluded.images",
                       (job_id, team_id, user_id, day, images))

    @staticmethod
    def _release(db: sqlite3.Connection, team_id: str, user_id: str, day: str, count: int) -> None:
        for scope in (f"user:{team_id}:{user_id}", f"team:{team_id}"):
            db.execute("UPDATE usage SET images = MAX(0, images - ?) WHERE scope = ? AND day = ?",
                       (count, scope, day))

    @staticmethod
    def _usage(db: sqlite3.Connection, team_id: str, user_id: str, day: str) -> Usage:
        def count(scope: str) -> int:
            row = db.execute("SELECT images FROM usage WHERE scope = ? AND day = ?", (scope, day)).fetchone()
            return int(row[0]) if row else 0

        return Usage(count(f"user:{team_id}:{user_id}"), count(f"team:{team_id}"))

    def _statement(self, sql: str, parameters: tuple[object, ...]) -> None:
        """Run one statement on its own: SQLite makes a lone statement atomic, so it needs no BEGIN and COMMIT.

        Under a burst of acks that matters: each ``execute`` lets go of the GIL, and
        getting it back means waiting behind every busy thread, so 1 beats 3.
        """
        with self._lock:
            self._db.execute(sql, parameters)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
