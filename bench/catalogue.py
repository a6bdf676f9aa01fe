"""Catalogue: a ZIP of 1,000 small photos through /replace-bg locally, the model answering in 50 ms.

The job runs in a worker process of its own (``python -m bench.catalogue <config>``)
so its peak RSS is its own; the fakes run in this process. Figures:

- time against the concurrency floor. Each model takes ``workers`` calls at once
  (``bot.clients.MeteredBedrock``, as in the local runtime) and every photo calls
  each model once (cut-out; then the inpaint beside the vision check), so the
  busiest model needs photos x latency / workers; a photo's models follow each
  other, so the last photo's second call adds one latency:
  photos x latency / workers + (calls on the critical path - 1) x latency.
  (It was photos x 2 calls x latency / workers, true only while all models shared
  one budget of ``workers`` calls: with a limit per model the cut-outs of some
  photos run beside the inpaints of others.)
- overhead per photo besides model time: (elapsed - floor) x workers / photos;
- peak RSS for 1,000 photos, and its growth from 250 (flat = streamed);
- CPU per photo of the worker process and of the fakes (context: unlike the
  time, barely moved by other jobs on the machine; the worker's CPU runs under
  one GIL, so photos x its CPU per photo bounds the time from below).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import asdict

from PIL import Image

from bench.common import fakes

PHOTOS = 1_000
SMALL_BATCH = 250
MODEL_LATENCY_SECONDS = 0.05
WORKERS = 8
# Stability replace-bg: the cut-out, then the inpaint with the subject check beside it.
CALLS_ON_CRITICAL_PATH = 2


def small_photo(index: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (128 + index % 7, 96), (index % 256, 90, 160)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def catalogue_zip(photos: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(photos):
            archive.writestr(f"season/shot-{index:04d}.jpg", small_photo(index))
    return buffer.getvalue()


def run_batch(photos: int) -> dict[str, float]:
    """One ZIP batch end to end in a worker process: seconds and that process's peak RSS."""
    with fakes() as (slack, bedrock):
        bedrock.latency = MODEL_LATENCY_SECONDS
        bedrock.converse_answer = "sneaker"
        upload = slack.add_file(catalogue_zip(photos), name="season.zip", mimetype="application/zip")
        ts = slack.post_user_message("C1", "U1", "", files=[upload])
        config = {"slack_api_url": slack.api_url, "bedrock": bedrock.url, "file_id": upload["id"], "ts": ts}
        fakes_cpu = time.process_time()
        output = subprocess.run([sys.executable, "-m", "bench.catalogue", json.dumps(config)], check=True,
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
        fakes_cpu = time.process_time() - fakes_cpu
        figures = json.loads(output.stdout.strip().splitlines()[-1])
        [results] = [u for u in slack.uploads if u["filename"] == "season-results.zip"]
        with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
            made = sum(name.endswith(".png") for name in archive.namelist())
        assert made == photos, f"{made} of {photos} photos made"
    return {"seconds": float(figures["seconds"]), "peak_rss_mb": float(figures["peak_rss_mb"]),
            "worker_cpu_seconds": float(figures["cpu_seconds"]), "fakes_cpu_seconds": fakes_cpu}


def floor_seconds(photos: int) -> float:
    """The least time the batch can take at ``WORKERS`` calls at once to each model (see the top)."""
    return photos * MODEL_LATENCY_SECONDS / WORKERS + (CALLS_ON_CRITICAL_PATH - 1) * MODEL_LATENCY_SECONDS


def catalogue_1000() -> dict[str, float]:
    """The figures for ``bench.report.GOALS``."""
    small = run_batch(SMALL_BATCH)
    large = run_batch(PHOTOS)
    floor = floor_seconds(PHOTOS)
    return {
        "catalogue_1000_photos_s": large["seconds"],
        "catalogue_1000_photos_floor_s": floor,
        "catalogue_1000_time_over_floor_ratio": large["seconds"] / floor,
        "catalogue_overhead_per_photo_ms": (large["seconds"] - floor) * WORKERS / PHOTOS * 1000,
        "catalogue_1000_peak_rss_mb": large["peak_rss_mb"],
        "catalogue_peak_rss_growth_250_to_1000_mb": large["peak_rss_mb"] - small["peak_rss_mb"],
        "catalogue_worker_cpu_per_photo_ms": large["worker_cpu_seconds"] / PHOTOS * 1000,
        "catalogue_fakes_cpu_per_photo_ms": large["fakes_cpu_seconds"] / PHOTOS * 1000,
    }


def _worker(config: dict[str, str]) -> None:
    """The worker process: one ZIP job, timed from the job's start to the report in Slack."""
    from bench.memory_worker import peak_rss_mb
    from bot.bootstrap import load_model_stack, worker_context
    from bot.jobs import Job
    from bot.runtime.sqlite_state import SqliteState
    from bot.runtime.worker import Outcome, run_job
    from bot.settings import Settings
    from handlers.requests import ReplaceBackgroundRequest
    from tests.fakes.slack import BOT_TOKEN

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=config["slack_api_url"],
                        bedrock_endpoint_url=config["bedrock"], state_path=":memory:", worker_concurrency=WORKERS,
                        user_daily_images=0, team_daily_images=0, retry_base_seconds=0.01)
    load_model_stack()
    # Calls bounded per model, as the local runtime bounds them.
    ctx = worker_context(settings, SqliteState(":memory:"), model_calls=WORKERS)
    request = ReplaceBackgroundRequest(prompt="studio backdrop", keep="auto", seed=1)
    job = Job(id="catalogue", command="replace-bg", request=asdict(request), team_id="T", channel_id="C1",
              user_id="U1", thread_ts=config["ts"], image_source="files", file_ids=(config["file_id"],))
    started, cpu = time.monotonic(), time.process_time()
    assert run_job(job, ctx) is Outcome.SUCCEEDED
    print(json.dumps({"seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
                      "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
