"""The catalogue's AWS side as one object: the clients, the bucket and the state machine (built by bootstrap).

A ZIP goes from Slack to S3 in parts as it downloads (``upload_zip``), so
neither the Lambda's memory nor its ``/tmp`` has to hold it; ``open_zip`` then
reads it back with ranged GETs, which is all ``zipfile`` needs to find entries.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from bot.catalogue.archive import ArchiveRefused
from bot.catalogue.counters import BatchCounters
from bot.catalogue.links import presigned_url, share_results
from bot.catalogue.s3_batch import BatchLayout, S3MultipartWriter
from bot.catalogue.turns import BatchTurns
from bot.store import StateStore

# Presigned links are SigV4: never valid for more than 7 days.
MAX_LINK_SECONDS = 7 * 86400
# Ranged reads of the staged ZIP: one GET per megabyte read (entries are read sequentially).
READ_BUFFER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CatalogueAws:
    """Where AWS catalogue batches live and run."""

    s3: Any
    sfn: Any
    counters: BatchCounters
    bucket: str
    state_machine_arn: str
    retention_days: int = 7
    # The ingress Function URL, which serves results links (``bot.catalogue.links``); empty outside AWS.
    links_url: str = ""

    @property
    def turns(self) -> BatchTurns:
        """Whose batch runs, and which wait (on the same table as the counters)."""
        return BatchTurns(self.counters.client, self.counters.table_name, self.counters.clock)

    def upload_zip(self, layout: BatchLayout, chunks: Iterable[bytes], max_bytes: int) -> int:
        """Copy a download to ``<batch>/source.zip`` in parts; refuses (and drops the parts) past ``max_bytes``."""
        written = 0
        with S3MultipartWriter(self.s3, self.bucket, source_key(layout)) as writer:
            for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    raise ArchiveRefused("too_large", f"over {max_bytes} bytes")
                writer.write(chunk)
        return written

    def open_zip(self, layout: BatchLayout) -> BinaryIO:
        """The staged ZIP as a seekable, buffered file read with ranged GETs."""
        return io.BufferedReader(S3RangeReader(self.s3, self.bucket, source_key(layout)),
                                 buffer_size=READ_BUFFER_BYTES)

    def link(self, key: str, store: StateStore) -> tuple[str, int]:
        """A download link for ``key`` and the days it works: a Studio link (``links_url``) for as long as the
        results are kept; else an S3 presigned one, SigV4's 7 days at most (needs long-term credentials)."""
        if self.links_url:
            return share_results(store, self.links_url, key, self.retention_days), self.retention_days
        seconds = min(MAX_LINK_SECONDS, max(1, self.retention_days) * 86400)
        return presigned_url(self.s3, self.bucket, key, seconds), seconds // 86400


def source_key(layout: BatchLayout) -> str:
    # Outside photos/, so the Distributed Map (which lists photos/) never sees it.
    return layout.root + "source.zip"


class S3RangeReader(io.RawIOBase):
    """A read-only, seekable view of one S3 object (for ``zipfile``, wrapped in a BufferedReader)."""

    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        super().__init__()
        self.s3, self.bucket, self.key = s3, bucket, key
        self.size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        end = self.position + wanted - 1
        data = self.s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-{end}")[
            "Body"].read()
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)
