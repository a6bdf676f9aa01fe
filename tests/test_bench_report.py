"""The benchmark table: every goal judged, context figures shown without a verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report


def test_figures_are_judged_against_their_goals() -> None:
    results = report.rows("ingress", {"ingress_cold_import_ratio": 1.2, "ingress_warm_ack_p99_ms": 4.0,
                                      "ingress_cold_import_median_ms": 600.0})
    assert [(row.goal, row.passed) for row in results] == [("≤ 1.1", False), ("≤ 50", True), (None, None)]
    lines = report.table(results).splitlines()
    assert lines[0].split() == ["figure", "goal", "measured", "result"]
    assert lines[1].split()[-1] == "FAIL" and lines[2].split()[-1] == "pass"
    assert lines[3].split() == ["ingress_cold_import_median_ms", "–", "600"]


def test_a_run_is_kept_as_json_for_comparison(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    path = report.save(report.rows("batch", {"batch_20_photos_amazon_s": 6.5}))
    record = json.loads(path.read_text())
    assert record["figures"] == [{"bench": "batch", "figure": "batch_20_photos_amazon_s", "measured": 6.5,
                                  "goal": "≤ 6.6", "passed": True}]
    assert {"time", "commit", "python", "cpus", "load_average"} <= set(record)


def test_batch_goals_are_ten_percent_over_the_floor() -> None:
    from bench.batch import floor_seconds

    for stack in ("amazon", "stability"):
        assert report.GOALS[f"batch_20_photos_{stack}_s"].limit == pytest.approx(1.1 * floor_seconds(stack))
