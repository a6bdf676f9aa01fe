"""Lambda SnapStart: refresh, in every restored environment, what a snapshot must not share.

With SnapStart, Lambda runs a version's init once, snapshots the memory, and
resumes every new environment from that snapshot. Whatever init left behind is
then identical everywhere: the ``random`` module's state (so each environment
would draw the same image seeds, and two people asking for the same prompt
would get the same picture) and any pooled connection (long closed by the
server when the snapshot is restored).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

try:
    # Part of Lambda's Python runtime (not on PyPI's dependency list here): absent locally and in tests.
    from snapshot_restore_py import register_after_restore as _register
except ImportError:
    _register = None


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
