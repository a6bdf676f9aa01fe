"""How often a batch's progress line may change (its words: ``bot.messages.progress_text``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.messages.progress import progress_text


class ProgressPacer:
    """Decides when the progress line may be edited: at most every ``interval`` seconds.

    Slack rate-limits ``chat.update`` (about one a second per message), and a
    line changing faster than people read helps nobody. The first and last
    counts always go out. ``clock`` is injectable for tests.
    """

    def __init__(self, total: int, interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last_sent: float | None = None

    def seconds_left(self, done: int) -> float | None:
        """Time left at the average pace so far (None until there is a pace)."""
        elapsed = self.clock() - self.started
        if done <= 0 or elapsed <= 0:
            return None
        return elapsed / done * (self.total - done)

    def update(self, done: int, failed: int = 0) -> str | None:
        """The new line if it is due now, else None (skip this edit)."""
        now = self.clock()
        finished = done >= self.total
        if not finished and self._last_sent is not None and now - self._last_sent < self.interval:
            return None
        self._last_sent = now
        return progress_text(done, self.total, failed, self.seconds_left(done))
