"""Where a photo job's photos come from, and how its result files are named."""

from __future__ import annotations

from collections.abc import Sequence

from bot.errors import NoImageFound
from bot.jobs import Job
from bot.slack.io import Upload
from bot.slack.photo_refs import Photo
from bot.slack.photos import PhotoFinder


def locate_photos(job: Job, finder: PhotoFinder, archives: bool = False) -> list[Photo]:
    """The photos the job is about, from wherever its ``image_source`` says.

    ZIPs (catalogue batches) are kept only for commands that take them (``archives``).
    """
    photos = _located(job, finder)
    if archives:
        return photos
    single = [photo for photo in photos if not photo.is_archive]
    if not single:
        raise NoImageFound("zip_not_supported", photos[0].name)
    return single


def _located(job: Job, finder: PhotoFinder) -> list[Photo]:
    if job.image_source == "files":
        return finder.by_ids(job.file_ids, job.thread_ts or "")
    if job.image_source == "thread" and job.thread_ts:
        return finder.newest_in_thread(job.channel_id, job.thread_ts)
    if job.image_source == "thread_all" and job.thread_ts:
        return finder.all_in_thread(job.channel_id, job.thread_ts)
    return finder.newest_from_user(job.channel_id, job.user_id)


def result_uploads(images: Sequence[bytes], stem: str, suffix: str, title: str, alt: str) -> list[Upload]:
    """Uploads for a result's PNGs, named after the photo they came from."""
    return [
        Upload(content=png, filename=f"{stem}-{suffix}-{index}.png", title=title, alt_text=alt)
        for index, png in enumerate(images, start=1)
    ]
