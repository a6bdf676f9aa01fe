"""Batch: 20 photos, a simulated model latency of 2 s, 8 model calls at once, end to end locally."""

from __future__ import annotations

import math
import time

from bench.common import bench_settings, camera_photo, fakes, studio_process
from tests.conftest import post
from tests.fakes.slack import event_body, signed_headers

PHOTOS = 20
MODEL_LATENCY_SECONDS = 2.0
CONCURRENCY = 8
# Model calls one photo waits for, one after the other: Titan replaces the background in one call;
# Stability removes it, then inpaints (the vision check runs beside the inpaint call).
SEQUENTIAL_CALLS = {"amazon": 1, "stability": 2}


def floor_seconds(model_stack: str) -> float:
    """The least a batch can take: full rounds of ``CONCURRENCY`` photos, each waiting for its calls in turn."""
    return math.ceil(PHOTOS / CONCURRENCY) * SEQUENTIAL_CALLS[model_stack] * MODEL_LATENCY_SECONDS


def batch_end_to_end(model_stack: str) -> dict[str, float]:
    """Seconds from the mention to the batch's report being posted, with the given model stack."""
    photo = camera_photo(12)
    with fakes() as (slack, bedrock):
        bedrock.latency = MODEL_LATENCY_SECONDS
        bedrock.converse_answer = "yes; leather handbag"
        settings = bench_settings(slack, bedrock, worker_concurrency=CONCURRENCY, model_stack=model_stack)
        with studio_process(settings) as url:
            parent = slack.post_user_message("C1", "U1", "shoot")
            for index in range(PHOTOS):
                slack.post_user_message("C1", "U1", "", thread_ts=parent,
                                        files=[slack.add_file(photo, name=f"shot-{index}.jpg")])
            ask = slack.post_user_message("C1", "U1", "<@UBOT> replace-bg keep=bag a london street",
                                          thread_ts=parent)
            body = event_body(slack.message_event("C1", ask, event_type="app_mention"))
            started = time.monotonic()
            assert post(url, body, signed_headers(body, content_type="application/json"))[0] == 200
            slack.wait_for(lambda: any(u["filename"].endswith(".csv") for u in slack.uploads), timeout=120)
            elapsed = time.monotonic() - started
        results = [u for u in slack.uploads if "-new-background-" in u["filename"]]  # not the contact sheet
        assert len(results) == PHOTOS, f"{len(results)} results"
    return {f"batch_{PHOTOS}_photos_{model_stack}_s": elapsed}


def batch_both() -> dict[str, float]:
    """Both model stacks with a named subject (``keep=bag``)."""
    return {**batch_end_to_end("amazon"), **batch_end_to_end("stability")}
