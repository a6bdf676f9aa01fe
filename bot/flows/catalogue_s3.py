"""A catalogue batch over an S3 folder (``/replace-bg s3://bucket/prefix/ keep=auto …``), on Step Functions.

The folder is read where it is, never copied: the Distributed Map lists the
prefix and each photo step reads its photo from the source bucket (the stack may
list and read the buckets in ``CatalogueReadableBuckets``, nothing else of them).
Before anything runs the folder is listed once, so the batch is refused whole
when it holds no photo, more photos than one batch takes, or more images than
the person has left today; keys that are not photos become skipped rows of the
report, like a ZIP's unreadable entries. Then it starts, or waits its turn
behind the same person's running batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bot.catalogue.archive import QUIET_REASONS, ArchiveLimits, Skipped, folder_skip_reason
from bot.catalogue.plan import check_batch_quota
from bot.catalogue.s3_batch import BatchLayout
from bot.catalogue.source import FolderUnreadable, NotABatchCommand, PrefixTooLarge, check_s3_source, folder_name
from bot.context import WorkerContext
from bot.errors import NoImageFound
from bot.flows.catalogue import batch_id_of, launch_on_aws
from bot.flows.catalogue_aws import ZIP_BATCHES
from bot.flows.progress import start_progress
from bot.jobs import Job
from bot.messages import progress_text


@dataclass
class FolderListing:
    """What listing a folder found: photos to run, and the keys worth a skipped row."""

    photos: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def run_s3_batch(job: Job, ctx: WorkerContext) -> None:
    """Run the job's command on every photo under its ``s3://`` folder (refused up front when it cannot)."""
    uri = str(job.s3_uri)
    make_batch = ZIP_BATCHES.get(job.command)
    if make_batch is None:
        raise NotABatchCommand(job.command)
    aws = ctx.catalogue
    bucket, prefix = check_s3_source(uri, aws is not None, ctx.settings.catalogue_readable_buckets)
    assert aws is not None
    batch = make_batch(job.request)
    listing = list_folder(aws.s3, uri, bucket, prefix, ctx.settings.catalogue_max_photos)
    if listing.photos == 0:
        raise NoImageFound("none_in_folder", uri)
    check_batch_quota(ctx.quota, job.team_id, job.user_id, listing.photos, batch.images_per_photo, source="folder")
    heading = batch.heading(job.user_id, uri, listing.photos)
    progress = start_progress(job, ctx, heading, status=progress_text(0, listing.photos))
    launch_on_aws(job, ctx, progress, batch, BatchLayout(batch_id_of(job)), folder_name(bucket, prefix),
                  listing.photos, listing.skipped, (bucket, prefix), folder=True)


def list_folder(s3: Any, uri: str, bucket: str, prefix: str, max_photos: int,
                max_keys: int = ArchiveLimits().max_entries) -> FolderListing:
    """Count the photos under ``prefix`` by name (nothing is read); ``PrefixTooLarge`` past either limit."""
    listing = FolderListing()
    keys = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                keys += 1
                name = str(entry["Key"])[len(prefix):]
                reason = folder_skip_reason(name)
                if reason is None:
                    listing.photos += 1
                elif reason not in QUIET_REASONS:
                    listing.skipped.append(Skipped(name, reason))
                # Every key is a child of the map, photo or not: a folder of mostly other files is refused too.
                if listing.photos > max_photos or keys > max_keys:
                    raise PrefixTooLarge(uri, max_photos)
    except ClientError as error:
        raise FolderUnreadable(uri, error.response["Error"]["Code"]) from error
    return listing
