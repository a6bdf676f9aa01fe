"""Load: 200 slash commands at once against the local HTTP server, Bedrock throttling 30% of calls.

As in production, Slack and Bedrock are not on Studio's machine: Studio runs in
its own process (``studio_process``), the fakes in this one, and the 200 requests
are sent by a third, a single asyncio loop, so that neither the fakes' work nor
200 client threads compete with Studio for an interpreter.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import time
from typing import Any
from urllib.parse import urlsplit

from bench.common import bench_settings, fakes, percentile_ms, studio_process
from tests.fakes.slack import FakeSlack, signed_headers, slash_command_body

COMMANDS = 200
THROTTLE_FRACTION = 0.3
MODEL_LATENCY_SECONDS = 0.2


def load_test() -> dict[str, float]:
    """Ack times of 200 commands sent at once; every job finished exactly once, no result posted twice."""
    with fakes() as (slack, bedrock):
        bedrock.throttle_fraction = THROTTLE_FRACTION
        bedrock.latency = MODEL_LATENCY_SECONDS
        settings = bench_settings(slack, bedrock, worker_concurrency=8, retry_base_seconds=0.2, job_retries=6)
        with studio_process(settings) as url:
            requests = [_signed_command(slack, url, index) for index in range(COMMANDS)]
            started = time.monotonic()
            acks = send_at_once(url, requests)
            acked = time.monotonic()
            slack.wait_for(lambda: len(slack.uploads) >= COMMANDS, timeout=300)
            finished = time.monotonic()
        headings = [m for m in slack.bot_messages("C1") if "asked for" in m.get("text", "")]
        per_thread = collections.Counter(upload["thread_ts"] for upload in slack.uploads)
        # The default stack's generator (Stable Image Core) takes the prompt as ``prompt``.
        prompts = collections.Counter(call.body["prompt"] for call in bedrock.invocations() if call.ok)
        throttled = sum(1 for call in bedrock.calls if call.error_code == "ThrottlingException")
        failures = [n for key, notes in slack.responses.items() for n in notes if "Working on" not in n.get("text", "")]
        latencies = [seconds for _, seconds in acks]
        assert all(status == 200 for status, _ in acks), "every command acked"
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


def _signed_command(slack: FakeSlack, url: str, index: int) -> bytes:
    """One ``/imagine`` as Slack sends it: a signed HTTP request, ready to write to the socket."""
    body = slash_command_body("/imagine", f"load test poster {index}", user_id=f"U{index:04d}",
                              response_url=slack.response_url(f"r{index}"))
    parts = urlsplit(url)
    headers = {**signed_headers(body), "Host": str(parts.netloc), "Content-Length": str(len(body.encode())),
               "Connection": "close"}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {parts.path} HTTP/1.1\r\n{head}\r\n{body}".encode()


def send_at_once(url: str, requests: list[bytes]) -> list[tuple[int, float]]:
    """Send every request at the same moment from another process; (HTTP status, seconds to answer) each."""
    context = multiprocessing.get_context("fork")
    results, child_end = context.Pipe()
    sender = context.Process(target=_sender, args=(url, requests, child_end), daemon=True)
    sender.start()
    try:
        answers: list[tuple[int, float]] = results.recv()
        return answers
    finally:
        sender.join(timeout=30)


def _sender(url: str, requests: list[bytes], results: Any) -> None:
    parts = urlsplit(url)

    async def one(raw: bytes) -> tuple[int, float]:
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(raw)
        answer = await reader.read()  # the server closes the connection after its answer
        elapsed = time.perf_counter() - started
        writer.close()
        return int(answer.split(b" ", 2)[1]), elapsed

    async def everything() -> list[tuple[int, float]]:
        return list(await asyncio.gather(*(one(raw) for raw in requests)))

    results.send(asyncio.run(everything()))
