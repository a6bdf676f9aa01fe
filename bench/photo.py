"""Photo pipeline: /replace-bg overhead besides Bedrock, worker peak memory, /describe payload size."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from dataclasses import asdict

from PIL import Image

from bench.common import TimedBedrock, bench_settings, camera_photo, fakes, median_ms, one_core
from bot.bootstrap import worker_context
from bot.clients import bedrock_runtime
from bot.jobs import Job
from bot.runtime.sqlite_state import SqliteState
from bot.runtime.worker import Outcome, run_job
from handlers.requests import DescribeRequest, ReplaceBackgroundRequest

RUNS = 15


def replace_bg_overhead() -> dict[str, float]:
    """Median time of a /replace-bg job minus the time spent waiting for Bedrock (one core), per path."""
    one_core()
    photo = camera_photo(12)
    figures: dict[str, float] = {"photo_bytes": len(photo)}
    paths = (("stability_default", "stability", False), ("stability_precise", "stability", True),
             ("amazon", "amazon", False))
    with fakes() as (slack, bedrock):
        for label, stack, precise in paths:
            settings = bench_settings(slack, bedrock, model_stack=stack)
            timed = TimedBedrock(bedrock_runtime(settings))
            ctx = worker_context(settings, SqliteState(":memory:"), bedrock=timed)
            samples = []
            for run in range(RUNS + 2):
                slack.post_user_message("C1", "U1", "", files=[slack.add_file(photo, name="shoot.jpg")])
                request = ReplaceBackgroundRequest(prompt="beach at sunset", keep="car", seed=run, precise=precise)
                job = Job(id=f"{label}{run}", command="replace-bg", request=asdict(request), team_id="T",
                          channel_id="C1", user_id="U1")
                timed.waited = 0.0
                started = time.perf_counter()
                assert run_job(job, ctx) is Outcome.SUCCEEDED
                if run >= 2:  # the first runs warm up imports and connections
                    samples.append(time.perf_counter() - started - timed.waited)
            figures[f"replace_bg_{label}_overhead_median_ms"] = median_ms(samples)
    return figures


def describe_payload_pixels() -> dict[str, float]:
    """Pixels of the image /describe sends to Claude for a 12 MP photo."""
    with fakes() as (slack, bedrock):
        settings = bench_settings(slack, bedrock)
        ctx = worker_context(settings, SqliteState(":memory:"))
        slack.post_user_message("C1", "U1", "", files=[slack.add_file(camera_photo(12), name="shoot.jpg")])
        job = Job(id="d", command="describe", request=asdict(DescribeRequest()), team_id="T", channel_id="C1",
                  user_id="U1")
        assert run_job(job, ctx) is Outcome.SUCCEEDED
        [call] = [c for c in bedrock.calls if c.operation == "Converse"]
        block = call.body["messages"][0]["content"][0]["image"]
        image = Image.open(io.BytesIO(base64.b64decode(block["source"]["bytes"])))
        return {"describe_payload_megapixels": image.width * image.height / 1e6}


def worker_peak_memory(megapixels: int = 24) -> dict[str, float]:
    """Peak RSS of a separate worker process handling one /replace-bg job on a 24 MP photo."""
    with fakes() as (slack, bedrock):
        slack.post_user_message("C1", "U1", "", files=[slack.add_file(camera_photo(megapixels), name="big.jpg")])
        settings = {"slack_api_url": slack.api_url, "bedrock": bedrock.url}
        output = subprocess.run(
            [sys.executable, "-m", "bench.memory_worker", json.dumps(settings)],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout
    return {f"worker_peak_rss_mb_{megapixels}mp": json.loads(output)["peak_rss_mb"]}
