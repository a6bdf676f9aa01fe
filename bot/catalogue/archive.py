"""Reading photos out of an untrusted ZIP, one at a time, without extracting anything.

The ZIP is a file on disk (streamed there from Slack by ``spool``); photos are
read straight from it into memory one by one, so memory stays flat however many
photos the archive holds and nothing is ever written outside the temporary file.
Every entry that is not a plain photo is skipped with a reason for the report.
Sizes in the headers are only used to refuse early: the limits are enforced on
the bytes actually decompressed.
"""

from __future__ import annotations

import posixpath
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

# Re-exported: the error lives with the others so the wording can name it without importing Pillow.
from bot.errors import ArchiveRefused as ArchiveRefused
from handlers.errors import InvalidImage
from handlers.images import MAX_FILE_BYTES, open_image

_CHUNK = 256 * 1024
# Names that are archives in their own right: never opened (a ZIP inside a ZIP is
# the classic way to multiply a bomb), only reported.
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".apk")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh", b"\xfd7zXZ\x00")
# Photo files by name (an S3 folder's keys); HEIC is one so the report can say how to export it.
_PHOTO_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif")
# Reasons that are housekeeping rather than news to the person (folders, Finder files).
QUIET_REASONS = frozenset({"directory", "macos_junk"})


@dataclass(frozen=True)
class ArchiveLimits:
    """What one batch may hold; every field maps to a setting."""

    max_photos: int = 2_000
    # Slack files go up to 1 GB; this bounds the photos' decompressed bytes in total.
    max_total_bytes: int = 1024**3
    # One photo, decompressed: the same limit as a photo posted on its own.
    max_photo_bytes: int = MAX_FILE_BYTES
    # Photos barely compress (JPEG, PNG are compressed already); a bomb compresses 1000:1.
    max_ratio: float = 50.0
    # Central-directory entries looked at, photos or not (a directory of millions is a bomb too).
    max_entries: int = 20_000


@dataclass(frozen=True)
class Photo:
    """One photo from the archive: its path inside the ZIP and its bytes."""

    index: int  # 0-based, in archive order, counting photos only
    name: str
    data: bytes


@dataclass(frozen=True)
class Skipped:
    """An entry that was not processed, and why (a code worded by the report)."""

    name: str
    reason: str  # directory, macos_junk, unsafe_name, symlink, encrypted, nested_archive, not_an_image,
    #              zip_bomb, too_large, damaged, over_photo_limit, over_size_limit
    detail: str = ""

    @property
    def worth_telling(self) -> bool:
        return self.reason not in QUIET_REASONS


@dataclass
class ArchiveReport:
    """What reading an archive found: photos yielded, bytes read, entries skipped."""

    photos: int = 0
    bytes_read: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # Entries ``count_photos`` counted, skipped once read (a web page named .jpg, an empty file, a bomb).
    dropped: int = 0

    @property
    def to_tell(self) -> list[Skipped]:
        """The skipped entries a person should hear about."""
        return [entry for entry in self.skipped if entry.worth_telling]


def spool(chunks: Iterable[bytes], max_bytes: int, directory: str | None = None) -> IO[bytes]:
    """Write a download to an anonymous temporary file (gone when closed) and rewind it.

    Refuses as soon as more than ``max_bytes`` arrived, so a lying Content-Length
    cannot fill the disk.
    """
    spooled = tempfile.TemporaryFile(dir=directory)
    written = 0
    try:
        for chunk in chunks:
            written += len(chunk)
            if written > max_bytes:
                raise ArchiveRefused("too_large", f"over {max_bytes} bytes")
            spooled.write(chunk)
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return spooled


def count_photos(file: BinaryIO, limits: ArchiveLimits = ArchiveLimits()) -> int:
    """Photos the archive claims to hold, from its directory alone (nothing decompressed).

    For refusing a batch and checking its quota before anything runs; ``read_photos``
    may still skip some of them.
    """
    with _open_zip(file, limits) as archive:
        return sum(1 for info in archive.infolist() if _skip_reason_from_header(info, limits) is None)


def read_photos(file: BinaryIO, limits: ArchiveLimits = ArchiveLimits(),
                report: ArchiveReport | None = None) -> Iterator[Photo]:
    """Yield each readable photo in ``file`` (a seekable ZIP), one at a time.

    Unreadable entries are appended to ``report.skipped``; once a limit is reached
    the remaining photos are listed as skipped too, so the report accounts for
    every entry.
    """
    report = report if report is not None else ArchiveReport()
    archive_size = _size_of(file)
    with _open_zip(file, limits) as archive:
        for info in archive.infolist():
            name = _display_name(info.filename)
            reason = _skip_reason_from_header(info, limits)
            if reason is None and report.photos >= limits.max_photos:
                reason = "over_photo_limit"
            if reason is not None:
                report.skipped.append(Skipped(name, reason))
                continue
            try:
                data = _read_entry(archive, info, limits, archive_size,
                                   room=limits.max_total_bytes - report.bytes_read)
                open_image(data).close()  # the same sniffing and pixel limits as a single photo
            except _EntrySkipped as skipped:
                report.skipped.append(Skipped(name, skipped.reason, skipped.detail))
                report.dropped += 1
                continue
            except InvalidImage as error:
                report.skipped.append(Skipped(name, "not_an_image", error.code))
                report.dropped += 1
                continue
            report.bytes_read += len(data)
            yield Photo(report.photos, name, data)
            report.photos += 1


class _EntrySkipped(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _open_zip(file: BinaryIO, limits: ArchiveLimits) -> zipfile.ZipFile:
    # zipfile builds an object per directory entry, so count them before it does.
    entries = _declared_entries(file)
    if entries is not None and entries > limits.max_entries:
        raise ArchiveRefused("too_many_entries", str(entries))
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ArchiveRefused("not_a_zip", str(error)) from error
    if len(archive.infolist()) > limits.max_entries:
        archive.close()
        raise ArchiveRefused("too_many_entries", str(len(archive.infolist())))
    return archive


def _declared_entries(file: BinaryIO) -> int | None:
    """Total entries from the end-of-central-directory record (Zip64 aware); None if not found."""
    size = _size_of(file)
    tail_size = min(size, 22 + 65_535)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    file.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    entries = struct.unpack_from("<H", tail, at + 10)[0]
    locator = at - 20
    if entries == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == b"PK\x06\x07":
        offset = struct.unpack_from("<Q", tail, locator + 8)[0]
        if offset + 40 <= size:
            file.seek(offset)
            record = file.read(40)
            file.seek(0)
            if record[:4] == b"PK\x06\x06":
                return int(struct.unpack_from("<Q", record, 32)[0])
    return int(entries)


def skip_reason_for_name(name: str) -> str | None:
    """Why a path (in a ZIP or under an S3 prefix) is not a photo to process, from its name alone."""
    if name.endswith("/"):
        return "directory"
    if not _is_safe_name(name):
        return "unsafe_name"
    base = posixpath.basename(name)
    if name.startswith("__MACOSX/") or "/__MACOSX/" in name or base.startswith("._") or base == ".DS_Store":
        return "macos_junk"
    if base.lower().endswith(_ARCHIVE_SUFFIXES):
        return "nested_archive"
    return None


def folder_skip_reason(name: str) -> str | None:
    """Why a key under an S3 folder is not a photo to process, from its name alone.

    Unlike a ZIP entry (whose bytes are read anyway), a key is listed before it
    is read, so its suffix decides: only photo files are counted, checked against
    the quota, and read; the rest are listed in the report as skipped.
    """
    reason = skip_reason_for_name(name)
    if reason is None and not name.lower().endswith(_PHOTO_SUFFIXES):
        return "not_an_image"
    return reason


def _skip_reason_from_header(info: zipfile.ZipInfo, limits: ArchiveLimits) -> str | None:
    if info.is_dir():
        return "directory"
    # By suffix, as for an S3 folder: a PDF is not counted as a photo (for the quota and the progress
    # line) only to be skipped once read; a photo's bytes are still checked when it is read.
    by_name = folder_skip_reason(info.filename)
    if by_name is not None:
        return by_name
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
        return "symlink"  # a Unix symlink's target is stored as its "contents"
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.file_size > limits.max_photo_bytes:
        return "too_large"
    return None


def _is_safe_name(name: str) -> bool:
    """A relative path that stays inside the archive's folder on every platform."""
    if not name or "\x00" in name:
        return False
    normal = name.replace("\\", "/")
    if normal.startswith("/") or re.match(r"^[A-Za-z]:", normal):
        return False
    return ".." not in normal.split("/")


def _display_name(name: str) -> str:
    # Names go into the report and results ZIP: printable and bounded.
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)
    return printable[:255]


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits,
                archive_size: int, room: int) -> bytes:
    """The entry's bytes, decompressed in chunks and stopped as soon as a limit is passed."""
    # A header may claim a huge compressed size to hide a high ratio; it cannot exceed the file.
    compressed = max(1, min(info.compress_size, archive_size))
    budget = min(limits.max_photo_bytes, room)
    parts: list[bytes] = []
    read = 0
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(_CHUNK):
                read += len(chunk)
                if read > compressed * limits.max_ratio and read > _CHUNK:
                    raise _EntrySkipped("zip_bomb", f"ratio over {limits.max_ratio:g}")
                if read > budget:
                    if budget < limits.max_photo_bytes:
                        raise _EntrySkipped("over_size_limit")
                    raise _EntrySkipped("too_large")
                if len(parts) == 0 and _looks_like_archive(chunk):
                    raise _EntrySkipped("nested_archive")
                parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        # Bad CRC (which is also what a header that understates the size produces),
        # an unsupported compression method, or a password we do not have.
        raise _EntrySkipped("damaged", type(error).__name__) from error
    return b"".join(parts)


def _looks_like_archive(head: bytes) -> bool:
    return head.startswith(_ARCHIVE_MAGIC)


def _size_of(file: BinaryIO) -> int:
    position = file.tell()
    file.seek(0, 2)
    size = file.tell()
    file.seek(position)
    return size
