"""A ZIP batch's contact sheet: the first photos' thumbnails, kept as results arrive, drawn at the end.

Photos finish in any order and a batch may hold thousands, so only the
thumbnails (a few KB each) of the first ``limit`` photos in the report's order
(by name) are kept: memory stays flat in the number of photos. Locally the
batch offers each photo as it finishes; on AWS each photo's step stores its
thumbnails in its row in S3 and the report step offers the rows as it reads them.
Skipped files are not photos that ran: the report lists them, the sheet does not.
"""

from __future__ import annotations

import base64
import bisect
import logging
from dataclasses import asdict, dataclass

from bot import messages
from bot.catalogue.results import ReportRow
from handlers.contact_sheet import MAX_ENTRIES, SheetEntry, contact_sheet, thumbnail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thumbs:
    """One photo's before/after thumbnails (None where there is none: a placeholder on the sheet)."""

    before: bytes | None = None
    after: bytes | None = None

    @classmethod
    def of(cls, photo: bytes | None, result: bytes | None) -> Thumbs:
        """Thumbnails of the photo and its first result image (either may be missing or unreadable)."""
        return cls(_thumbnail(photo), _thumbnail(result))

    def to_json(self) -> dict[str, str]:
        sides = {"before": self.before, "after": self.after}
        return {side: base64.b64encode(data).decode() for side, data in sides.items() if data}

    @classmethod
    def from_json(cls, value: object) -> Thumbs:
        """From ``to_json``'s output; anything else (an older row, no thumbnails) gives placeholders."""
        if not isinstance(value, dict):
            return cls()
        before, after = value.get("before"), value.get("after")
        return cls(base64.b64decode(before) if isinstance(before, str) else None,
                   base64.b64decode(after) if isinstance(after, str) else None)


def _thumbnail(data: bytes | None) -> bytes | None:
    if not data:
        return None
    try:
        return thumbnail(data)
    except Exception:  # noqa: BLE001 - the sheet is a bonus: a photo's row and results must still be recorded
        log.warning("could not make a contact-sheet thumbnail", exc_info=True)
        return None


class SheetPicks:
    """The first ``limit`` photos by name, with their thumbnails, from rows offered in any order
    (``command`` words each photo's outcome).

    ``offer`` is called by one thread; ``wants`` may be called from others (it
    reads one attribute, and the cut-off only ever moves earlier, so a stale read
    costs at most a thumbnail that is then dropped).
    """

    def __init__(self, command: str, limit: int = MAX_ENTRIES) -> None:
        self.command = command
        self.limit = limit
        self.photos = 0  # every photo offered, kept or not
        self._kept: list[tuple[str, int, ReportRow, Thumbs]] = []  # by name, then by arrival
        self._cutoff: str | None = None  # once full: a photo named this or later is not kept

    def wants(self, name: str) -> bool:
        """Whether a photo called ``name`` could still be on the sheet (worth making its thumbnails)."""
        cutoff = self._cutoff
        return cutoff is None or name < cutoff

    def offer(self, row: ReportRow, thumbs: Thumbs | None) -> None:
        """Count a photo that ran, keeping it if it is among the first ``limit``; skipped files are ignored."""
        if row.outcome == "skipped":
            return
        self.photos += 1
        if not self.wants(row.photo):
            return
        bisect.insort(self._kept, (row.photo, self.photos, row, thumbs or Thumbs()), key=lambda kept: kept[:2])
        if len(self._kept) > self.limit:
            self._kept.pop()
        if len(self._kept) == self.limit:
            self._cutoff = self._kept[-1][0]

    @property
    def shown(self) -> int:
        return len(self._kept)

    def png(self) -> bytes | None:
        """The contact sheet (its ``+N`` counts the photos left off), or None when no photo made an image
        (nothing ran, every photo failed, or the command's results are words: /describe alt's are in the
        report) or when it could not be drawn: the results and the report go out without it."""
        if not any(thumbs.after for _, _, _, thumbs in self._kept):
            return None
        entries = [SheetEntry(name=row.photo, before=thumbs.before, after=thumbs.after,
                              outcome=messages.sheet_outcome(asdict(row), self.command), failed=row.outcome != "done")
                   for _, _, row, thumbs in self._kept]
        try:
            return contact_sheet(entries, more=self.photos - len(entries))
        except Exception:  # noqa: BLE001 - a bonus: never worth losing the batch's results over
            log.exception("could not draw the contact sheet")
            return None

    def alt_text(self) -> str:
        return messages.contact_sheet_alt([asdict(row) for _, _, row, _ in self._kept], total=self.photos)

    def note(self) -> str:
        """A sentence for the batch's comment when the sheet could not show every photo (else empty)."""
        return messages.zip_sheet_shows_first(self.shown, self.photos) if self.photos > self.shown else ""
