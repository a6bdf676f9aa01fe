"""Batch: 20 photos, a simulated model latency of 2 s, 8 workers, end to end locally."""

from __future__ import annotations

import time

from bench.common import bench_settings, camera_photo, fakes, studio_process
from tests.conftest import post
from tests.fakes.slack import event_body, signed_headers

PHOTOS = 20
MODEL_LATENCY_SECONDS = 2.0
CONCURRENCY = 8


def batch_end_to_end(keep: str = "bag") -> dict[str, float]:
    """Seconds from the mention to the report being posted (``keep=auto`` adds one vision call per photo)."""
    photo = camera_photo(12)
    with fakes() as (slack, bedrock):
        bedrock.latency = MODEL_LATENCY_SECONDS
        bedrock.converse_answer = "leather handbag"
        settings = bench_settings(slack, bedrock, worker_concurrency=CONCURRENCY)
        with studio_process(settings) as url:
            parent = slack.post_user_message("C1", "U1", "shoot")
            for index in range(PHOTOS):
                slack.post_user_message("C1", "U1", "", thread_ts=parent,
                                        files=[slack.add_file(photo, name=f"shot-{index}.jpg")])
            ask = slack.post_user_message("C1", "U1", f"<@UBOT> replace-bg keep={keep} a london street",
                                          thread_ts=parent)
            body = event_body(slack.message_event("C1", ask, event_type="app_mention"))
            started = time.monotonic()
            assert post(url, body, signed_headers(body, content_type="application/json"))[0] == 200
            slack.wait_for(lambda: any(u["filename"].endswith(".csv") for u in slack.uploads), timeout=120)
            elapsed = time.monotonic() - started
        results = [u for u in slack.uploads if u["filename"].endswith(".png")]
        assert len(results) == PHOTOS, f"{len(results)} results"
    return {f"batch_{PHOTOS}_photos_keep_{keep}_s": elapsed}


def batch_both() -> dict[str, float]:
    """The target case (named subject: one model call per photo) and keep=auto (two calls per photo)."""
    return {**batch_end_to_end("bag"), **batch_end_to_end("auto")}
