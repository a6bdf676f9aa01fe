"""Goals of the benchmark figures, the table ``make bench`` prints, and the JSON it keeps."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Goal:
    """An upper bound on a figure (every goal here is "at most")."""

    limit: float

    def met(self, value: float) -> bool:
        return value <= self.limit

    def __str__(self) -> str:
        return f"≤ {self.limit:g}"


# The README's benchmark table states the same goals; figures not named here are context.
GOALS = {
    "replace_bg_stability_default_overhead_median_ms": Goal(250),
    "replace_bg_amazon_overhead_median_ms": Goal(250),
    "describe_payload_megapixels": Goal(1.2),
    "worker_peak_rss_mb_24mp": Goal(300),
    "ingress_cold_import_ratio": Goal(1.10),
    "ingress_warm_ack_p99_ms": Goal(50),
    "ack_max_ms": Goal(3000),  # Slack retries (and eventually disables) what is not acked in 3 s
    "ack_p99_ms": Goal(300),
    # Within 10 % of ceil(20 photos / 8 at once) x model calls in turn x 2 s (bench.batch.floor_seconds).
    "batch_20_photos_amazon_s": Goal(6.6),
    "batch_20_photos_stability_s": Goal(13.2),
    # A ZIP of 1,000 photos, 50 ms per model call (bench/catalogue.py): within 10 % of the concurrency
    # floor (photos x 50 ms / 8 calls at once per model + one more call for the last photo, 6.3 s;
    # bench.catalogue.floor_seconds), little work besides the model per photo, and memory flat in the photos.
    "catalogue_1000_time_over_floor_ratio": Goal(1.10),
    "catalogue_overhead_per_photo_ms": Goal(40),
    "catalogue_1000_peak_rss_mb": Goal(300),
    "catalogue_peak_rss_growth_250_to_1000_mb": Goal(20),
}


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    measured: float
    goal: str | None
    passed: bool | None


def rows(bench: str, figures: dict[str, float]) -> list[Row]:
    out = []
    for figure, value in figures.items():
        goal = GOALS.get(figure)
        out.append(Row(bench, figure, round(value, 3), str(goal) if goal else None,
                       goal.met(value) if goal else None))
    return out


def table(results: list[Row]) -> str:
    """One aligned text table: figure, goal, measured, pass/fail."""
    lines = [("figure", "goal", "measured", "result")]
    for row in results:
        verdict = "" if row.passed is None else ("pass" if row.passed else "FAIL")
        lines.append((row.figure, row.goal or "–", f"{row.measured:g}", verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in lines)


def save(results: list[Row]) -> Path:
    """Write the run to ``bench/results/<UTC time>.json`` (git-ignored), with what makes runs comparable."""
    now = dt.datetime.now(dt.UTC)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=RESULTS.parent).stdout.strip()
    record = {
        "time": now.isoformat(timespec="seconds"), "commit": commit or None, "python": platform.python_version(),
        "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "figures": [asdict(row) for row in results],
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{now:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path
