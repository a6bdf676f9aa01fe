"""Per-photo costs a catalogue of thousands of photos pays on every photo."""

from __future__ import annotations

import threading

import pytest

from bot.bootstrap import worker_context
from bot.flows.replace_bg import replace_photo
from bot.runtime.sqlite_state import SqliteState
from bot.settings import Settings
from handlers.requests import ReplaceBackgroundRequest
from tests.fakes.bedrock import FakeBedrock
from tests.photos import small_jpeg


def test_stability_photos_start_no_thread_each(settings: Settings, bedrock: FakeBedrock,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The inpaint beside the vision check runs on a kept thread, and one image is called inline."""
    ctx = worker_context(settings, SqliteState(":memory:"))
    request = ReplaceBackgroundRequest(prompt="a beach", keep="auto", seed=1)
    replace_photo(ctx, request, small_jpeg(), lambda call: call())  # connections opened, kept thread started
    started: list[str] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    for _ in range(4):
        _, result = replace_photo(ctx, request, small_jpeg(), lambda call: call())
        assert len(result.images) == 1
    assert len(bedrock.invocations()) == 5 * 2  # the cut-out and the inpaint of each photo
    assert started == []
