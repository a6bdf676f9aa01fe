"""A batch's objects in S3: where they live, staging photos, streaming uploads, starting the state machine.

Layout under the stack's catalogue bucket (the lifecycle rule expires ``batches/``):

    batches/<id>/photos/<name>             photos staged from a ZIP (the Distributed Map's prefix)
    batches/<id>/results/<name>/<output>   each photo's results
    batches/<id>/rows/<sha1 of key>.json   each photo's report row (with its contact-sheet thumbnails)
    batches/<id>/report.csv, <name>-results.zip, contact-sheet.png
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bot.catalogue.archive import Photo, Skipped
from bot.catalogue.results import skipped_row

PART_BYTES = 8 * 1024 * 1024  # S3 multipart parts: at least 5 MB except the last


@dataclass(frozen=True)
class BatchSpec:
    """Everything the state machine and its steps need to know about one batch (no image bytes)."""

    id: str
    name: str  # shown to people and used for <name>-results.zip
    command: str
    request: dict[str, Any]
    team_id: str
    channel_id: str
    user_id: str
    thread_ts: str | None
    progress_ts: str | None
    total: int
    results_bucket: str
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchSpec:
        return cls(**data)


@dataclass(frozen=True)
class BatchLayout:
    """Keys of one batch's objects."""

    batch_id: str

    @property
    def root(self) -> str:
        return f"batches/{self.batch_id}/"

    @property
    def photos_prefix(self) -> str:
        return f"{self.root}photos/"

    @property
    def rows_prefix(self) -> str:
        return f"{self.root}rows/"

    def photo_key(self, name: str) -> str:
        return self.photos_prefix + name

    def result_key(self, photo: str, output: str) -> str:
        return f"{self.root}results/{photo}/{output}"

    def row_key(self, source_key: str) -> str:
        # Source keys may be long or odd; the row only needs to be unique per photo.
        return f"{self.rows_prefix}{hashlib.sha1(source_key.encode()).hexdigest()}.json"

    @property
    def report_key(self) -> str:
        return f"{self.root}report.csv"

    def zip_key(self, zip_name: str) -> str:
        return self.root + zip_name

    @property
    def sheet_key(self) -> str:
        return f"{self.root}contact-sheet.png"


def stage_photos(s3: Any, bucket: str, layout: BatchLayout, photos: Iterable[Photo]) -> int:
    """Put each photo under the batch's photos prefix as it is read (one in memory at a time)."""
    count = 0
    for photo in photos:
        s3.put_object(Bucket=bucket, Key=layout.photo_key(photo.name), Body=photo.data)
        count += 1
    return count


def put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(value, separators=(",", ":")).encode(),
                  ContentType="application/json")


def put_skipped_row(s3: Any, bucket: str, layout: BatchLayout, entry: Skipped) -> None:
    """A skipped file's row, which the report step picks up with the photos' own (the photo step never
    sees these keys, and skipped files are not counted as photos)."""
    put_json(s3, bucket, layout.row_key(f"skipped:{entry.name}"),
             {**asdict(skipped_row(entry.name, entry.reason)), "outputs": []})


def execution_input(spec: BatchSpec, source_bucket: str, source_prefix: str, folder: bool = False) -> dict[str, Any]:
    """The state machine's input: the batch, and the S3 prefix its Distributed Map lists.

    ``folder``: the prefix is a person's S3 folder, read where it is (not photos staged from a ZIP),
    so the photo step goes by each key's name first (``folder_skip_reason``).
    """
    source: dict[str, Any] = {"bucket": source_bucket, "prefix": source_prefix}
    if folder:
        source["folder"] = True
    return {"batch": asdict(spec), "source": source}


def start_batch(sfn: Any, state_machine_arn: str, spec: BatchSpec, source_bucket: str, source_prefix: str) -> None:
    """Start the batch's execution (see ``start_execution``)."""
    start_execution(sfn, state_machine_arn, execution_input(spec, source_bucket, source_prefix))


def start_execution(sfn: Any, state_machine_arn: str, execution: dict[str, Any]) -> None:
    """Start an execution, named after its batch so a retried start is not a second batch.

    Step Functions answers a second start with the same name and input as the running
    execution with that execution, and ``ExecutionAlreadyExists`` once it has ended:
    either way the batch has run or runs.
    """
    try:
        sfn.start_execution(stateMachineArn=state_machine_arn, name=str(execution["batch"]["id"])[:80],
                            input=json.dumps(execution))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise


class S3MultipartWriter(io.RawIOBase):
    """A write-only, non-seekable file that uploads to S3 in parts as it fills.

    ``zipfile`` writes to it directly (it switches to data descriptors when it
    cannot seek), so a results ZIP of any size needs one part of memory and no disk.
    """

    def __init__(self, s3: Any, bucket: str, key: str, content_type: str = "application/zip") -> None:
        super().__init__()
        self.s3, self.bucket, self.key = s3, bucket, key
        self._upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"]
        self._parts: list[dict[str, Any]] = []
        self._buffer = bytearray()
        self._written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._buffer += chunk
        self._written += len(chunk)
        if len(self._buffer) >= PART_BYTES:
            self._flush_part()
        return len(chunk)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._buffer or not self._parts:
                self._flush_part()
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload,
                                              MultipartUpload={"Parts": self._parts})
        except BaseException:
            self.abort()
            raise
        finally:
            super().close()

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        elif not self.closed:
            # A half-written ZIP must not become an object people download.
            self.abort()
            super().close()

    def abort(self) -> None:
        """Drop the parts uploaded so far (S3 would otherwise bill for them)."""
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload)

    def _flush_part(self) -> None:
        number = len(self._parts) + 1
        etag = self.s3.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self._upload, PartNumber=number,
                                   Body=bytes(self._buffer))["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer.clear()
