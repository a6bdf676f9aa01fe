"""An ``s3://bucket/prefix/`` as a batch's photos: what it names, and whether the stack may read it.

Light on purpose (no Pillow, no boto3): the Slack ingress checks the folder
while it parses the command, so a person hears at once, privately, that S3
folders need the AWS stack or that the bucket is not one the stack may read.
The worker checks again before it lists anything: it is the one with the role.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.errors import StudioError

# The stack parameter an AWS admin changes to let Studio read a bucket (and its environment variable).
READABLE_BUCKETS_PARAMETER = "CatalogueReadableBuckets"
READABLE_BUCKETS_SETTING = "STUDIO_CATALOGUE_READABLE_BUCKETS"


class PrefixNotAllowed(StudioError):
    """An ``s3://`` prefix outside the buckets the stack may read (``CatalogueReadableBuckets``)."""

    def __init__(self, uri: str, allowed: Collection[str]) -> None:
        super().__init__(f"{uri} is not in an allowed bucket")
        self.uri = uri
        self.allowed = sorted(allowed)


class S3NeedsAws(StudioError):
    """An ``s3://`` batch where Studio runs without its AWS stack (the local runtime)."""

    def __init__(self, uri: str) -> None:
        super().__init__(f"{uri}: S3 batches need the AWS stack")
        self.uri = uri


class PrefixTooLarge(StudioError):
    """More photos under the prefix than one batch takes (``STUDIO_CATALOGUE_MAX_PHOTOS``); nothing ran."""

    def __init__(self, uri: str, limit: int) -> None:
        super().__init__(f"{uri} holds more than {limit} photos")
        self.uri = uri
        self.limit = limit


class FolderUnreadable(StudioError):
    """S3 refused to list an allowed folder (``code``: NoSuchBucket, AccessDenied, ...)."""

    def __init__(self, uri: str, code: str) -> None:
        super().__init__(f"{uri}: {code}")
        self.uri = uri
        self.code = code


class NotABatchCommand(StudioError):
    """``s3://`` on a command that has no batch form."""

    def __init__(self, command: str) -> None:
        super().__init__(f"/{command} takes no batch")
        self.command = command


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → (``bucket``, ``some/prefix/``); a non-empty prefix ends with ``/``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def readable_buckets(setting: str) -> frozenset[str]:
    """The stack parameter's comma-separated bucket names (``STUDIO_CATALOGUE_READABLE_BUCKETS``)."""
    return frozenset(name.strip() for name in setting.split(",") if name.strip())


def check_readable(uri: str, allowed: Collection[str]) -> tuple[str, str]:
    """(bucket, prefix) of ``uri`` if the stack may read that bucket, else ``PrefixNotAllowed``."""
    bucket, prefix = parse_s3_uri(uri)
    if bucket not in allowed:
        raise PrefixNotAllowed(uri, allowed)
    return bucket, prefix


def check_s3_source(uri: str, on_aws: bool, allowed: Collection[str]) -> tuple[str, str]:
    """(bucket, prefix) of a batch's ``s3://`` folder, or why Studio will not read it (before anything runs)."""
    if not on_aws:
        raise S3NeedsAws(uri)
    return check_readable(uri, allowed)


def folder_name(bucket: str, prefix: str) -> str:
    """What a folder batch is called in its results' names: the prefix's last folder (else the bucket)."""
    return prefix.rstrip("/").rsplit("/", 1)[-1] or bucket
