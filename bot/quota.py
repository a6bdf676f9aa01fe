"""Daily image quotas per person and per workspace, reserved before Bedrock is called."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

# Defined with every other error; imported from here too.
from bot.errors import QuotaExceeded as QuotaExceeded

if TYPE_CHECKING:
    from bot.settings import Settings


class UsageStore(Protocol):
    """Atomic daily counters (``SqliteState`` locally, ``DynamoState`` on AWS)."""

    def reserve_images(self, team_id: str, user_id: str, day: str, count: int,
                       user_limit: int, team_limit: int) -> Usage:
        """Add ``count`` to both counters if neither limit (0 = none) is passed; else raise ``QuotaExceeded``."""

    def release_images(self, team_id: str, user_id: str, day: str, count: int) -> None:
        """Give back ``count`` reserved images that were not made."""

    def usage(self, team_id: str, user_id: str, day: str) -> Usage:
        """Images counted today for the person and the workspace."""


@dataclass(frozen=True)
class Usage:
    user: int
    team: int


def today(now: dt.datetime | None = None) -> str:
    """The quota day (UTC), e.g. ``2026-11-21``."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d")


def resets_at(now: dt.datetime | None = None) -> dt.datetime:
    """When today's allowance resets: the next midnight UTC."""
    now = now or dt.datetime.now(dt.UTC)
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


# eq=False: a service (or counter) is equal only to itself; nor is comparison code built at cold start.
@dataclass(eq=False)
class Quota:
    """Limits (0 = unlimited) applied to everyone but admins."""

    store: UsageStore
    per_user: int = 0
    per_team: int = 0
    admins: frozenset[str] = frozenset()

    def usage(self, team_id: str, user_id: str) -> Usage:
        return self.store.usage(team_id, user_id, today())

    def take(self, team_id: str, user_id: str, count: int) -> str:
        """Count ``count`` images now, or raise ``QuotaExceeded`` (admins are never limited).

        Returns the day they were counted on: giving back must credit that day,
        even when the work crossed midnight.
        """
        exempt = user_id in self.admins
        day = today()
        self.store.reserve_images(team_id, user_id, day, count,
                                  0 if exempt else self.per_user, 0 if exempt else self.per_team)
        return day

    def give_back(self, team_id: str, user_id: str, count: int, day: str) -> None:
        """Uncount ``count`` images taken on ``day`` but not made."""
        if count > 0:
            self.store.release_images(team_id, user_id, day, count)

    @contextmanager
    def reserve(self, team_id: str, user_id: str, count: int) -> Iterator[Reservation]:
        """Take ``count`` images for a block; whatever it does not ``use`` is given back."""
        day = self.take(team_id, user_id, count)
        reservation = Reservation(count)
        try:
            yield reservation
        finally:
            self.give_back(team_id, user_id, count - reservation.used, day)


# eq=False: a service (or counter) is equal only to itself; nor is comparison code built at cold start.
@dataclass(eq=False)
class Reservation:
    """Images reserved for one model call; ``use`` records how many were delivered."""

    count: int
    used: int = 0

    def use(self, images: int) -> None:
        self.used = min(self.count, self.used + images)


def quota_from(settings: Settings, store: UsageStore) -> Quota:
    """The daily quotas the settings ask for, counted in ``store``."""
    return Quota(store=store, per_user=settings.user_daily_images, per_team=settings.team_daily_images,
                 admins=settings.admins)
