"""Load: 200 slash commands at once against the local HTTP server, Bedrock throttling 30% of calls."""

from __future__ import annotations

import collections
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import bench_settings, fakes, percentile_ms
from bot.runtime.local import build_runtime
from tests.conftest import post
from tests.fakes.slack import signed_headers, slash_command_body

COMMANDS = 200
THROTTLE_FRACTION = 0.3
MODEL_LATENCY_SECONDS = 0.2


def load_test() -> dict[str, float]:
    """Every ack within 3 s, every job finished exactly once, no result posted twice."""
    with fakes() as (slack, bedrock):
        bedrock.throttle_fraction = THROTTLE_FRACTION
        bedrock.latency = MODEL_LATENCY_SECONDS
        settings = bench_settings(slack, bedrock, worker_concurrency=8, retry_base_seconds=0.2, job_retries=6)
        runtime = build_runtime(settings, host="127.0.0.1").serve_in_background()
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=COMMANDS) as pool:
                acks = list(pool.map(lambda index: _send(runtime.url, slack.response_url(f"r{index}"), index),
                                     range(COMMANDS)))
            acked = time.monotonic()
            while not runtime.pool.idle():
                time.sleep(0.05)
            finished = time.monotonic()
        finally:
            runtime.close()
        headings = [m for m in slack.bot_messages("C1") if "asked for" in m.get("text", "")]
        per_thread = collections.Counter(upload["thread_ts"] for upload in slack.uploads)
        prompts = collections.Counter(call.body["textToImageParams"]["text"]
                                      for call in bedrock.invocations("TEXT_IMAGE") if call.status == 200)
        throttled = sum(1 for call in bedrock.calls if call.error_code == "ThrottlingException")
        failures = [n for key, notes in slack.responses.items() for n in notes if "Working on" not in n.get("text", "")]
        latencies = [seconds for _, seconds in acks]
        assert all(status == 200 for status, _ in acks), "every command acked"
        assert max(latencies) < 3.0, f"slowest ack {max(latencies):.2f}s"
        assert len(headings) == COMMANDS, f"{len(headings)} heading messages"
        assert set(per_thread.values()) == {1} and len(per_thread) == COMMANDS, "one result per job, none twice"
        assert len(prompts) == COMMANDS and set(prompts.values()) == {1}, "each prompt generated exactly once"
        assert not failures, failures[:3]
        return {
            "commands": COMMANDS,
            "ack_p50_ms": percentile_ms(latencies, 0.5),
            "ack_p99_ms": percentile_ms(latencies, 0.99),
            "ack_max_ms": max(latencies) * 1000,
            "throttled_bedrock_calls": throttled,
            "all_acked_s": acked - started,
            "all_finished_s": finished - started,
        }


def _send(url: str, response_url: str, index: int) -> tuple[int, float]:
    body = slash_command_body("/imagine", f"load test poster {index}", user_id=f"U{index:04d}",
                              response_url=response_url)
    started = time.monotonic()
    status, _ = post(url, body, signed_headers(body))
    return status, time.monotonic() - started
