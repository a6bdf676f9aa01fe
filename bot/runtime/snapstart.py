"""Lambda SnapStart: refresh, in every restored environment, what a snapshot must not share.

With SnapStart, Lambda runs a version's init once, snapshots the memory, and
resumes every new environment from that snapshot. Whatever init left behind is
then identical everywhere: the ``random`` module's state (so each environment
would draw the same image seeds, and two people asking for the same prompt
would get the same picture) and any pooled connection (long closed by the
server when the snapshot is restored).

Conversely, whatever init leaves out is paid after every restore. Modules the
ingress imports on first use (to keep a cold start without SnapStart short) are
imported before the snapshot by ``warm_before_snapshot``, so no restored
environment pays for them inside Slack's 3-second ack.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any

try:
    # Part of Lambda's Python runtime (not on PyPI's dependency list here): absent locally and in tests.
    from snapshot_restore_py import register_after_restore as _register
    from snapshot_restore_py import register_before_snapshot as _register_before
except ImportError:
    _register = _register_before = None


def refresh(clients: tuple[Any, ...]) -> None:
    """Reseed ``random`` from the OS and drop the botocore ``clients``' pooled connections.

    Clearing a pool keeps the client usable: its next call opens a fresh connection.
    """
    random.seed()
    for client in clients:
        client._endpoint.http_session.close()


def refresh_after_restore(*clients: Any, register: Callable[..., Any] | None = None) -> bool:
    """Have ``refresh(clients)`` run after each SnapStart restore; False where there are no snapshots."""
    register = register or _register
    if register is None:
        return False
    register(lambda: refresh(clients))
    return True


def warm_before_snapshot(modules: tuple[str, ...], clients: tuple[Any, ...] = (),
                         register: Callable[..., Any] | None = None) -> bool:
    """Have ``modules`` imported, and lazily built ``clients`` (``bot.clients.LazyClient``) built, just
    before the snapshot is taken; False where there are no snapshots.

    Lambda runs before-snapshot hooks once per published version, after init: the
    snapshot then holds them, and restored environments never pay for them.
    """
    register = register or _register_before
    if register is None:
        return False

    def warm() -> None:
        for name in modules:
            importlib.import_module(name)
        for client in clients:
            client.build()

    register(warm)
    return True
