"""Results that buttons can act on, stored under a short reference.

A button carries only that reference (Slack caps button values at 2000
characters, and a job's request can be long); the record keeps the job that
made the result, the uploaded file ids and the thread they are in.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from bot.jobs import Job
from bot.store import StateStore

RESULT_TTL_SECONDS = 30 * 86400


@dataclass(frozen=True)
class Result:
    """A finished result: the job that made it, its files and its thread."""

    job: Job
    file_ids: tuple[str, ...]
    thread_ts: str


def save_result(store: StateStore, result: Result) -> str:
    """Store ``result``; returns the reference the buttons carry."""
    ref = uuid.uuid4().hex[:16]
    record = {"job": result.job.to_json(), "files": list(result.file_ids), "thread": result.thread_ts}
    store.put(f"result:{ref}", json.dumps(record), RESULT_TTL_SECONDS)
    return ref


def load_result(store: StateStore, ref: str) -> Result | None:
    """The result behind a button's reference, or None once it has expired."""
    raw = store.get(f"result:{ref}")
    if raw is None:
        return None
    record = json.loads(raw)
    return Result(Job.from_json(record["job"]), tuple(record["files"]), record["thread"])
