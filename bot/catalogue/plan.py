"""Checking a whole batch against the daily quotas before any photo runs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import StudioError
from bot.quota import Quota


class BatchTooBig(StudioError):
    """The batch needs more images than the person (or workspace) has left today; nothing ran."""

    def __init__(self, photos: int, needed: int, left: int, scope: str, source: str = "zip") -> None:
        super().__init__(f"batch of {photos} photos needs {needed} images, {scope} has {left} left")
        self.photos = photos
        self.needed = needed
        self.left = left
        self.scope = scope  # "user" or "team": whichever limit is tighter
        self.source = source  # "zip" or "folder" (an S3 prefix): what the person is told to split


@dataclass(frozen=True)
class BatchPlan:
    """What a batch will cost: ``images`` in total, and what is left after it (None = unlimited)."""

    photos: int
    images: int
    left_after: int | None


def images_needed(photos: int, images_per_photo: int) -> int:
    """Images a batch makes: one model result per photo per output (e.g. ``n=`` or each format; none for alt texts)."""
    return max(0, photos) * max(0, images_per_photo)


def check_batch_quota(quota: Quota, team_id: str, user_id: str, photos: int, images_per_photo: int = 1,
                      source: str = "zip") -> BatchPlan:
    """The batch's cost, or ``BatchTooBig`` naming what is left (admins are never limited).

    Only a check: each photo still reserves its own images when it runs, so a
    batch that stops early never holds images it did not make.
    """
    needed = images_needed(photos, images_per_photo)
    if user_id in quota.admins:
        return BatchPlan(photos, needed, None)
    usage = quota.usage(team_id, user_id)
    room = [(scope, limit - used) for scope, limit, used in
            (("user", quota.per_user, usage.user), ("team", quota.per_team, usage.team)) if limit]
    if not room:
        return BatchPlan(photos, needed, None)
    scope, left = min(room, key=lambda item: item[1])
    left = max(0, left)
    if needed > left:
        raise BatchTooBig(photos, needed, left, scope, source)
    return BatchPlan(photos, needed, left - needed)
