"""Acks first: a job about to start lets the Slack requests being answered go before it.

Slack waits 3 seconds for each ack; a job can start a few hundred milliseconds
later without anyone noticing. Under one GIL a burst of commands and the jobs
they queue share the CPU, so each job the burst has queued waits, before it
starts, until no request is being answered — for at most ``max_wait_seconds``,
so that steady traffic cannot hold jobs back for longer than that.
"""

from __future__ import annotations

import threading

# Long enough for a burst of a few hundred commands to be acked, short enough to go unnoticed.
MAX_WAIT_SECONDS = 1.0


class AcksFirst:
    """Counts the requests being answered; ``wait_for_acks`` waits for none to be."""

    def __init__(self, max_wait_seconds: float = MAX_WAIT_SECONDS) -> None:
        self.max_wait_seconds = max_wait_seconds
        self._quiet = threading.Condition()
        self._answering = 0

    def begin(self) -> None:
        """A request arrived (counted from its accept, while it waits for a thread too)."""
        with self._quiet:
            self._answering += 1

    def end(self) -> None:
        """Its answer is out."""
        with self._quiet:
            self._answering -= 1
            if self._answering == 0:
                self._quiet.notify_all()

    @property
    def in_flight(self) -> int:
        """Requests arrived and not answered yet."""
        return self._answering

    def wait_for_acks(self) -> None:
        """Return once no request is being answered, or after ``max_wait_seconds``."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._answering == 0, timeout=self.max_wait_seconds)
