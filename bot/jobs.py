"""The job: a small, serializable record of one piece of work.

It carries Slack ids and the parsed request, never image bytes, so the same
record goes through the in-process pool or an SQS message unchanged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Job:
    """Where a request came from, where its result goes, and what was asked."""

    id: str
    command: str
    request: dict[str, Any]
    team_id: str
    channel_id: str
    user_id: str
    # The thread the result goes to; None means "start a new parent message".
    thread_ts: str | None = None
    # Where the photo comes from: "files" (file_ids from the message), "thread"
    # (newest image in thread_ts) or "recent" (the user's newest in the channel).
    image_source: str = "recent"
    file_ids: tuple[str, ...] = ()
    # Where private notes to the requester go (slash commands and actions).
    response_url: str | None = None
    # For one photo of a batch: {"id", "index", "total", "progress_ts"}.
    batch: dict[str, Any] | None = None
    # A catalogue batch over an S3 folder (``s3://bucket/prefix/``) instead of photos posted in Slack.
    s3_uri: str | None = None
    created_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """The job as a compact JSON string."""
        # Its fields are JSON values already: ``asdict``'s deep copy would cost more than the dump (every ack).
        return json.dumps(vars(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Job:
        """Rebuild a job from ``to_json`` output; unknown keys are ignored."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        data = {key: value for key, value in data.items() if key in known}
        data["file_ids"] = tuple(data.get("file_ids") or ())
        return cls(**data)
