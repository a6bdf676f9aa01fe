"""The batch's deliverables: a results ZIP written as results arrive, and a CSV report."""

from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from typing import IO

from bot import messages


@dataclass(frozen=True)
class ReportRow:
    """One photo's line in the CSV report."""

    photo: str
    subject: str
    outcome: str  # "done", "failed" or "skipped"
    reason: str
    seconds: float


CSV_COLUMNS = tuple(f.name for f in fields(ReportRow))


def skipped_row(name: str, reason: str) -> ReportRow:
    """The report's line for a file the batch did not process (``reason``: a ``Skipped`` code, worded here)."""
    return ReportRow(name, "", "skipped", messages.skipped_reason(reason), 0.0)


def results_zip_name(batch_name: str) -> str:
    """``<batch>-results.zip``, with the batch name made safe for a file name."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in batch_name).strip("-.") or "batch"
    return f"{safe[:80]}-results.zip"


class ResultsZip:
    """Writes result files into a ZIP one at a time, so only one result is in memory.

    ``file`` is any writable binary file (a temporary file, or an S3 upload
    stream); names are de-duplicated so two photos called ``a.jpg`` in
    different folders both survive. Already compressed images are stored.
    """

    def __init__(self, file: IO[bytes] | io.RawIOBase) -> None:
        self._zip = zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self._names: set[str] = set()
        self.count = 0

    def add(self, name: str, data: bytes) -> str:
        """Add one result; returns the name it got inside the ZIP."""
        unique = self._unique(name)
        compress = zipfile.ZIP_DEFLATED if unique.lower().endswith((".csv", ".txt", ".json")) else zipfile.ZIP_STORED
        self._zip.writestr(unique, data, compress_type=compress)
        self.count += 1
        return unique

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ResultsZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unique(self, name: str) -> str:
        stem, suffix = posixpath.splitext(name.replace("\\", "/").lstrip("/"))
        candidate, n = f"{stem}{suffix}", 2
        while candidate in self._names:
            candidate, n = f"{stem}-{n}{suffix}", n + 1
        self._names.add(candidate)
        return candidate


def write_csv(rows: Iterable[ReportRow], file: IO[str], subject_column: str = "subject") -> int:
    """Write the report (header + one line per row); returns the rows written.

    ``subject_column`` heads the second column, which says what the command found
    in each photo (the kept subject; the alt text for /describe alt).
    """
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow([subject_column if column == "subject" else column for column in CSV_COLUMNS])
    count = 0
    for row in rows:
        photo, subject, outcome, reason, seconds = astuple(row)
        writer.writerow([_cell(photo), _cell(subject), outcome, _cell(reason), f"{seconds:.1f}"])
        count += 1
    return count


def csv_bytes(rows: Iterable[ReportRow], subject_column: str = "subject") -> bytes:
    """The report as UTF-8 with a BOM, so Excel shows accented names correctly."""
    text = io.StringIO()
    write_csv(rows, text, subject_column)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def _cell(value: str) -> str:
    # Photo names and subjects come from the person's ZIP and the model: a cell
    # starting with = + - @ would run as a formula in Excel or Sheets.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
