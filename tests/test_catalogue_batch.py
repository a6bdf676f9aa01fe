"""bot.catalogue planning, progress and results: quota up front, paced progress line, ZIP and CSV."""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile

import pytest

from bot.catalogue.plan import BatchTooBig, check_batch_quota, images_needed
from bot.catalogue.progress import ProgressPacer
from bot.catalogue.results import CSV_COLUMNS, ReportRow, ResultsZip, csv_bytes, results_zip_name
from bot.messages import progress_text
from bot.quota import Quota
from bot.runtime.sqlite_state import SqliteState


@pytest.fixture
def state() -> SqliteState:
    return SqliteState(":memory:")


def test_images_needed_counts_every_output_of_every_photo() -> None:
    assert images_needed(1000, 1) == 1000
    assert images_needed(30, 4) == 120  # e.g. /formats with four formats
    assert images_needed(0, 3) == 0


def test_a_batch_beyond_what_is_left_is_refused_with_what_is_left(state: SqliteState) -> None:
    quota = Quota(state, per_user=50, per_team=1000)
    quota.take("T1", "U1", 20)
    with pytest.raises(BatchTooBig) as refused:
        check_batch_quota(quota, "T1", "U1", photos=31)
    assert (refused.value.needed, refused.value.left, refused.value.scope) == (31, 30, "user")
    assert quota.usage("T1", "U1").user == 20, "a refusal takes nothing"
    plan = check_batch_quota(quota, "T1", "U1", photos=30)
    assert (plan.images, plan.left_after) == (30, 0)


def test_the_tighter_limit_decides_and_admins_and_unlimited_pass(state: SqliteState) -> None:
    quota = Quota(state, per_user=0, per_team=100, admins=frozenset({"UADMIN"}))
    quota.take("T1", "U2", 90)
    with pytest.raises(BatchTooBig) as refused:
        check_batch_quota(quota, "T1", "U1", photos=6, images_per_photo=2)
    assert (refused.value.needed, refused.value.left, refused.value.scope) == (12, 10, "team")
    assert check_batch_quota(quota, "T1", "UADMIN", photos=2000).left_after is None
    assert check_batch_quota(Quota(state), "T1", "U1", photos=2000).images == 2000


def test_progress_text_reads_like_the_design() -> None:
    assert progress_text(312, 1000, 3, 6 * 60 - 20) == "312/1,000 done, 3 failed, ~6 min left"
    assert progress_text(0, 40) == "0/40 done"
    assert progress_text(40, 40, 2, 100) == "40/40 done, 2 failed"  # no time left when finished
    assert progress_text(10, 20, 0, 20) == "10/20 done, under a minute left"  # not "~under"
    assert progress_text(10, 2000, 0, 2 * 3600 + 60) == "10/2,000 done, ~2 h 1 min left"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_pacer_lets_one_edit_through_every_interval_and_always_the_last() -> None:
    clock = FakeClock()
    pacer = ProgressPacer(total=100, interval=5, clock=clock)
    assert pacer.update(0) == "0/100 done"
    clock.now += 1
    assert pacer.update(1) is None
    clock.now += 4
    # 5 s for 1 photo: 99 to go, about 8 min.
    assert pacer.update(1, failed=1) == "1/100 done, 1 failed, ~9 min left"
    clock.now += 0.5
    assert pacer.update(2) is None
    clock.now += 0.5
    assert pacer.update(100, failed=1) == "100/100 done, 1 failed"


def test_results_zip_names_and_dedupes() -> None:
    assert results_zip_name("spring 2027/shoes") == "spring-2027-shoes-results.zip"
    assert results_zip_name("../..") == "batch-results.zip"
    buffer = io.BytesIO()
    with ResultsZip(buffer) as results:
        assert results.add("a/shoe.png", b"1") == "a/shoe.png"
        assert results.add("a/shoe.png", b"2") == "a/shoe-2.png"
        assert results.add("/abs.png", b"3") == "abs.png"
        results.add("report.csv", b"photo\n")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as written:
        assert written.namelist() == ["a/shoe.png", "a/shoe-2.png", "abs.png", "report.csv"]
        assert written.read("a/shoe-2.png") == b"2"
        assert written.getinfo("a/shoe.png").compress_type == zipfile.ZIP_STORED
        assert written.getinfo("report.csv").compress_type == zipfile.ZIP_DEFLATED


def test_results_zip_streams_each_result_to_the_file() -> None:
    result = bytes(range(256)) * 2000  # ~0.5 MB
    with open("/dev/null", "wb") as sink, ResultsZip(sink) as results:
        tracemalloc.start()
        try:
            for i in range(40):
                results.add(f"r{i}.png", result)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * len(result), peak  # 40 results held would be 20 MB


def test_csv_report_has_the_columns_and_defuses_formulas() -> None:
    rows = [ReportRow("shoe.jpg", "red sneaker", "done", "", 4.25),
            ReportRow("=HYPERLINK(\"x\").jpg", "@cmd", "failed", "model_blocked", 1.0),
            ReportRow("smörgås.jpg", "", "skipped", "not_an_image", 0)]
    data = csv_bytes(rows)
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(parsed[0]) == CSV_COLUMNS == ("photo", "subject", "outcome", "reason", "seconds")
    assert parsed[1] == ["shoe.jpg", "red sneaker", "done", "", "4.2"]
    assert parsed[2][:2] == ["'=HYPERLINK(\"x\").jpg", "'@cmd"]
    assert parsed[3] == ["smörgås.jpg", "", "skipped", "not_an_image", "0.0"]
