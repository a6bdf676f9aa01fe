"""A channel's brand kit: its style reference and logo (the bot's own Slack files, by id) and their settings.

The image bytes stay in Slack: the bot uploads the checked reference and logo
once, into the thread of the photo they came from, and the kit keeps their
file ids. So no AWS resource holds images, and Slack's own access rules (who
can see that channel's files) apply to them; deleting the file empties that
part of the kit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from bot.store import KitStore


@dataclass(frozen=True)
class BrandKit:
    """What a channel's kit holds; the default is an empty, unlocked kit."""

    # The bot's uploaded style reference (Style Guide input) and the photo it came from.
    style_file: str = ""
    style_name: str = ""
    # The bot's uploaded logo (an RGBA PNG) and the file it came from.
    logo_file: str = ""
    logo_name: str = ""
    # True: the logo goes on every /imagine image of the channel, not only with ``logo=on``.
    logo_always: bool = False
    # Locked by an admin: only admins may change it.
    locked: bool = False
    # Who changed it last.
    changed_by: str = ""

    @property
    def empty(self) -> bool:
        """Nothing to use or to keep (an empty locked kit is kept: the lock is a setting)."""
        return not (self.style_file or self.logo_file or self.logo_always or self.locked)


def load_kit(store: KitStore, team_id: str, channel_id: str) -> BrandKit:
    """The channel's kit (empty when it has none)."""
    return _decoded(store.load_kit(team_id, channel_id))


def update_kit(store: KitStore, team_id: str, channel_id: str, change: Callable[[BrandKit], BrandKit]) -> BrandKit:
    """Apply ``change`` to the channel's kit as it is now, and store the result (an empty kit is deleted).

    Two changes made at once (a slow logo upload and a lock) both count: when the
    kit changed since it was read, ``change`` runs again on the newer kit.
    """
    while True:
        raw = store.load_kit(team_id, channel_id)
        kit = change(_decoded(raw))
        if store.swap_kit(team_id, channel_id, raw, None if kit.empty else _encoded(kit)):
            return kit


def _decoded(raw: str | None) -> BrandKit:
    if not raw:
        return BrandKit()
    known = {field.name for field in fields(BrandKit)}
    return BrandKit(**{key: value for key, value in json.loads(raw).items() if key in known})


def _encoded(kit: BrandKit) -> str:
    return json.dumps(asdict(kit), separators=(",", ":"))
