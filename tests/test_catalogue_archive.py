"""bot.catalogue.archive: hostile ZIPs are read safely, photos one at a time."""

from __future__ import annotations

import io
import random
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.catalogue.archive import (
    ArchiveLimits,
    ArchiveRefused,
    ArchiveReport,
    count_photos,
    read_photos,
    spool,
)
from tests.photos import small_jpeg

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def noise_jpeg(seed: int = 1, size: int = 96) -> bytes:
    """A small JPEG that does not compress further (like real photos)."""
    pixels = random.Random(seed).randbytes(size * size * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (size, size), pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def build_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def read_all(file: io.BytesIO, limits: ArchiveLimits | None = None) -> tuple[list[str], dict[str, str]]:
    report = ArchiveReport()
    names = [photo.name for photo in read_photos(file, limits or ArchiveLimits(), report)]
    return names, {skipped.name: skipped.reason for skipped in report.skipped}


def test_the_acceptance_archive_processes_the_jpeg_and_lists_the_pdf_and_the_traversal() -> None:
    archive = build_zip([("shoe.jpg", small_jpeg()), ("price-list.pdf", PDF), ("../../etc/passwd", b"root:x:0:0\n")])
    report = ArchiveReport()
    photos = list(read_photos(archive, report=report))
    assert [(p.index, p.name, p.data) for p in photos] == [(0, "shoe.jpg", small_jpeg())]
    assert {s.name: s.reason for s in report.skipped} == {"price-list.pdf": "not_an_image", "../../etc/passwd": "unsafe_name"}
    assert [s.name for s in report.to_tell] == ["price-list.pdf", "../../etc/passwd"]
    assert report.photos == 1 and report.bytes_read == len(small_jpeg())
    assert count_photos(archive) == 1, "counted by name, as an S3 folder's photos are: the PDF is not a photo"


def test_a_file_named_like_a_photo_is_still_checked_by_its_bytes() -> None:
    archive = build_zip([("shoe.jpg", small_jpeg()), ("scan.jpg", PDF)])
    report = ArchiveReport()
    assert [p.name for p in read_photos(archive, report=report)] == ["shoe.jpg"]
    [skipped] = report.skipped
    assert (skipped.name, skipped.reason, skipped.detail) == ("scan.jpg", "not_an_image", "pdf")


@pytest.mark.parametrize("name", ["/etc/x.jpg", "C:/x.jpg", "C:\\Windows\\x.jpg", "a/../../x.jpg", "..\\x.jpg"])
def test_names_that_leave_the_folder_are_skipped(name: str) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # ZipInfo() would normalise some of these; an attacker's archive does not
    _, skipped = read_all(build_zip([(info, small_jpeg())]))
    assert skipped == {name[:255]: "unsafe_name"}


def test_a_symlink_entry_is_skipped_even_when_it_points_at_a_photo() -> None:
    link = zipfile.ZipInfo("link.jpg")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    names, skipped = read_all(build_zip([(link, b"/etc/passwd"), ("real.jpg", small_jpeg())]))
    assert names == ["real.jpg"] and skipped == {"link.jpg": "symlink"}


def test_a_nested_archive_is_never_opened() -> None:
    inner = build_zip([("inside.jpg", small_jpeg())]).getvalue()
    names, skipped = read_all(build_zip([("more.zip", inner), ("renamed.jpg", inner), ("ok.jpg", small_jpeg())]))
    assert names == ["ok.jpg"]
    assert skipped == {"more.zip": "nested_archive", "renamed.jpg": "nested_archive"}


def test_a_bomb_is_stopped_by_its_ratio_while_reading() -> None:
    bomb = b"\0" * (20 * 1024 * 1024)  # 20 MB of zeros deflate to ~20 KB
    names, skipped = read_all(build_zip([("bomb.jpg", bomb), ("ok.jpg", small_jpeg())]))
    assert names == ["ok.jpg"] and skipped == {"bomb.jpg": "zip_bomb"}


def test_a_bomb_whose_header_lies_about_its_size_is_still_stopped() -> None:
    # The local and central headers claim 1 KB; decompression must not trust that.
    archive = build_zip([("liar.jpg", b"\0" * (8 * 1024 * 1024))]).getvalue()
    true_size = struct.pack("<I", 8 * 1024 * 1024)
    lied = archive.replace(true_size, struct.pack("<I", 1024))
    assert lied != archive
    names, skipped = read_all(io.BytesIO(lied))
    assert names == [] and skipped["liar.jpg"] in {"zip_bomb", "damaged"}


def test_the_total_size_limit_is_counted_on_bytes_actually_read() -> None:
    photo = noise_jpeg(seed=1)
    archive = build_zip([(f"p{i}.jpg", photo) for i in range(5)], method=zipfile.ZIP_STORED)
    names, skipped = read_all(archive, ArchiveLimits(max_total_bytes=len(photo) * 3 + 10))
    assert names == ["p0.jpg", "p1.jpg", "p2.jpg"]
    assert skipped == {"p3.jpg": "over_size_limit", "p4.jpg": "over_size_limit"}


def test_photos_past_the_count_limit_are_listed_not_read() -> None:
    names, skipped = read_all(build_zip([(f"p{i}.jpg", small_jpeg()) for i in range(4)]), ArchiveLimits(max_photos=2))
    assert names == ["p0.jpg", "p1.jpg"] and skipped == {"p2.jpg": "over_photo_limit", "p3.jpg": "over_photo_limit"}


def test_folders_and_mac_junk_are_skipped_quietly() -> None:
    report = ArchiveReport()
    archive = build_zip([("shoot/", b""), ("shoot/a.jpg", small_jpeg()), ("__MACOSX/shoot/._a.jpg", b"\0\x05\x16\x07"),
                         ("shoot/.DS_Store", b"Bud1")])
    assert [p.name for p in read_photos(archive, report=report)] == ["shoot/a.jpg"]
    assert {s.reason for s in report.skipped} == {"directory", "macos_junk"}
    assert report.to_tell == []


def test_encrypted_and_oversized_and_damaged_entries_are_skipped() -> None:
    archive = build_zip([("secret.jpg", small_jpeg()), ("huge.jpg", noise_jpeg(seed=1, size=400)),
                         ("ok.jpg", small_jpeg())], method=zipfile.ZIP_STORED)
    data = bytearray(archive.getvalue())
    # Mark secret.jpg encrypted (zipfile cannot write that), in its local and central headers.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        header = data.find(signature)
        data[header + flag_offset] |= 0x1
    # Corrupt one byte of ok.jpg's data: its CRC no longer matches.
    start = data.find(small_jpeg()[200:260], data.find(b"ok.jpg"))
    data[start] ^= 0xFF
    names, skipped = read_all(io.BytesIO(bytes(data)), ArchiveLimits(max_photo_bytes=len(small_jpeg()) + 1))
    assert names == []
    assert skipped == {"secret.jpg": "encrypted", "huge.jpg": "too_large", "ok.jpg": "damaged"}


def test_a_file_that_is_not_a_zip_or_has_too_many_entries_is_refused_up_front() -> None:
    with pytest.raises(ArchiveRefused) as refused:
        list(read_photos(io.BytesIO(PDF)))
    assert refused.value.reason == "not_a_zip"
    many = build_zip([(f"{i}.txt", b"") for i in range(30)])
    with pytest.raises(ArchiveRefused) as refused:
        count_photos(many, ArchiveLimits(max_entries=20))
    assert refused.value.reason == "too_many_entries"


def test_count_photos_reads_only_the_directory() -> None:
    archive = build_zip([("a.jpg", small_jpeg()), ("b/", b""), ("__MACOSX/._a.jpg", b""), ("c.png", b"x"), ("../d.jpg", b"")])
    assert count_photos(archive) == 2  # a.jpg and c.png: content is only judged when read


def test_spool_streams_to_a_temporary_file_and_refuses_past_the_limit(tmp_path: Path) -> None:
    chunks = [b"a" * 1000] * 5
    with spool(iter(chunks), max_bytes=5000, directory=str(tmp_path)) as spooled:
        assert spooled.read() == b"a" * 5000
        assert list(tmp_path.iterdir()) == []  # anonymous: nothing with a name on disk
    with pytest.raises(ArchiveRefused) as refused:
        spool(iter(chunks), max_bytes=4999, directory=str(tmp_path))
    assert refused.value.reason == "too_large"


def peak_while_reading(count: int) -> int:
    photo = noise_jpeg(seed=1, size=128)
    archive = build_zip([(f"p{i}.jpg", photo) for i in range(count)], method=zipfile.ZIP_STORED)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        seen = sum(len(p.data) for p in read_photos(archive))
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert seen == count * len(photo)
    return peak


def test_peak_memory_is_flat_in_the_number_of_photos() -> None:
    small, large = peak_while_reading(20), peak_while_reading(200)
    photo_bytes = len(noise_jpeg(seed=1, size=128))
    # Holding the 180 extra photos would cost 180 x ~photo_bytes; allow only directory entries.
    assert large - small < 30 * photo_bytes, (small, large, photo_bytes)
