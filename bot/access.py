"""Who may use Studio where: allowed channels, allowed users or user groups, admins."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

# Defined with every other error; imported from here too.
from bot.errors import NotAllowed as NotAllowed

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300


@dataclass(frozen=True)
class AccessPolicy:
    """Empty sets mean "everyone" / "everywhere"; admins are always allowed."""

    allowed_channels: frozenset[str] = frozenset()
    # User ids (U…, W…) and user group ids (S…).
    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(entry for entry in self.allowed_users if entry.startswith("S"))


# eq=False: a service (or counter) is equal only to itself; nor is comparison code built at cold start.
@dataclass(eq=False)
class AccessControl:
    """Checks requests against an ``AccessPolicy``, expanding user groups through Slack."""

    policy: AccessPolicy
    client: WebClient | None = None
    _members: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.policy.admins

    def check(self, user_id: str, channel_id: str) -> None:
        """Raise ``NotAllowed`` unless ``user_id`` may use Studio in ``channel_id``."""
        if self.is_admin(user_id):
            return
        admins = tuple(sorted(self.policy.admins))
        if self.policy.allowed_channels and channel_id not in self.policy.allowed_channels:
            raise NotAllowed("channel", admins)
        if self.policy.allowed_users and not self._user_allowed(user_id):
            raise NotAllowed("user", admins)

    def _user_allowed(self, user_id: str) -> bool:
        if user_id in self.policy.allowed_users:
            return True
        return any(user_id in self._group_members(group) for group in sorted(self.policy.group_ids))

    def _group_members(self, group_id: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(group_id)
        if cached and now - cached[0] < GROUP_CACHE_SECONDS:
            return cached[1]
        members: frozenset[str] = frozenset()
        if self.client is not None:
            try:
                response = self.client.usergroups_users_list(usergroup=group_id)
                members = frozenset(response.get("users") or ())
            except SlackApiError as error:
                # Fail closed: an unreadable group admits nobody, and the admin sees why.
                log.warning("cannot read user group %s: %s", group_id, error.response.get("error"))
            except (SlackClientError, OSError) as error:
                log.warning("cannot read user group %s: %s", group_id, type(error).__name__)
        with self._lock:
            self._members[group_id] = (now, members)
        return members
