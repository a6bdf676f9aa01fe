"""Helpers shared by the benchmarks: fakes, settings, realistic photos, timing."""

from __future__ import annotations

import io
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from PIL import Image, ImageDraw

from bot.clients import MeteredBedrock
from bot.settings import Settings
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack


def camera_photo(megapixels: int = 12, orientation: int = 6) -> bytes:
    """A camera-like JPEG: 4:3, sensor noise (so it compresses like a photo), EXIF rotation."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, noise, 0.3)
    ImageDraw.Draw(image).ellipse((width // 4, height // 4, width // 2, height // 2), fill=(200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


@contextmanager
def fakes() -> Iterator[tuple[FakeSlack, FakeBedrock]]:
    """Both fake servers with a channel C1 the bot is in."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with FakeSlack() as slack, FakeBedrock() as bedrock:
        slack.add_channel("C1", "bench", bot_member=True)
        yield slack, bedrock


def bench_settings(slack: FakeSlack, bedrock: FakeBedrock, **overrides: Any) -> Settings:
    base = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=slack.api_url,
        port=0, bedrock_endpoint_url=bedrock.url, state_path=":memory:", retry_base_seconds=0.01,
    )
    return replace(base, **overrides)


class TimedBedrock(MeteredBedrock):
    """A measured bedrock-runtime client that adds up the time at least one call was in flight.

    Calls that overlap (several images at once, a vision check beside an
    inpaint) count once, so ``waited`` is the time the job spent waiting.
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client, lambda model_id, seconds: None)
        self.waited = 0.0
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy_since = 0.0

    def _measure(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = time.perf_counter()
            self._in_flight += 1
        try:
            return super()._measure(call, **kwargs)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self.waited += time.perf_counter() - self._busy_since


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] * 1000


def one_core() -> None:
    """Pin this process to one core, as the speed targets are stated for one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@contextmanager
def studio_process(settings: Settings) -> Iterator[str]:
    """Run the local runtime in its own process and yield its events URL.

    Slack and Bedrock are remote in production; with the fakes in this process
    and Studio in another, their CPU does not compete for one interpreter.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    stop = context.Event()
    process = context.Process(target=_serve_studio, args=(settings, child_end, stop), daemon=True)
    process.start()
    try:
        yield parent_end.recv()
    finally:
        stop.set()
        process.join(timeout=30)


def _serve_studio(settings: Settings, url_pipe: Any, stop: Any) -> None:
    from bot.runtime.local import build_runtime

    runtime = build_runtime(settings, host="127.0.0.1").serve_in_background()
    url_pipe.send(runtime.url)
    stop.wait()
    runtime.close()
