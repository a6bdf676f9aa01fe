"""How the local runtime schedules work: Bedrock calls bounded per model, the next job started early."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from bot.clients import MODELS_AT_ONCE, MeteredBedrock, bedrock_runtime
from bot.jobs import Job
from bot.runtime.pool import WorkerPool
from bot.settings import Settings
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock

CORE = "stability.stable-image-core-v1:1"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
WAIT = 10  # seconds before a test gives up on an event that should come at once


def until(condition: threading.Condition, check: Callable[[], bool]) -> None:
    with condition:
        assert condition.wait_for(check, WAIT), "timed out"


def test_model_calls_are_bounded_per_model(settings: Settings, bedrock: FakeBedrock) -> None:
    """Two calls at once per model: a third call to the same model waits, another model's calls do not."""
    changed = threading.Condition()
    holding: Counter[str] = Counter()
    most: Counter[str] = Counter()
    release = threading.Event()
    local = threading.local()

    def on_slot() -> None:
        # Runs while the call holds its slot: keep it until the test lets go.
        with changed:
            holding[local.model] += 1
            most[local.model] = max(most[local.model], holding[local.model])
            changed.notify_all()
        release.wait(WAIT)
        with changed:
            holding[local.model] -= 1
            changed.notify_all()

    client = MeteredBedrock(bedrock_runtime(settings), lambda model, seconds: None, limit=2, on_slot=on_slot)

    def call(model: str) -> None:
        local.model = model
        if model == HAIKU:
            client.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "hi"}]}])
        else:
            client.invoke_model(modelId=CORE, body=json.dumps({"prompt": "a red car"}))

    threads = [threading.Thread(target=call, args=(model,)) for model in (CORE, CORE, CORE, HAIKU, HAIKU)]
    for thread in threads:
        thread.start()
    until(changed, lambda: holding[CORE] == 2 and holding[HAIKU] == 2)
    assert sum(thread.is_alive() for thread in threads) == 5, "the third call to the model waits for a slot"
    release.set()
    for thread in threads:
        thread.join(WAIT)
    assert most == {CORE: 2, HAIKU: 2}
    assert Counter(call.model_id for call in bedrock.calls if call.ok) == {CORE: 3, HAIKU: 2}


def test_every_call_in_flight_keeps_its_connection(settings: Settings, bedrock: FakeBedrock,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """8 workers with three models busy: 24 calls at once, none on a connection thrown away after."""
    bedrock.latency = 0.3
    client = bedrock_runtime(replace(settings, worker_concurrency=8))
    calls = 8 * MODELS_AT_ONCE
    barrier = threading.Barrier(calls)

    def call() -> None:
        barrier.wait(WAIT)
        client.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "hi"}]}])

    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        threads = [threading.Thread(target=call) for _ in range(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    assert sum(call.ok for call in bedrock.calls) == calls
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]


def job(number: int) -> Job:
    return Job(id=f"job{number}", command="replace-bg", request={}, team_id="T", channel_id="C1", user_id="U1")


class PhotoJobs:
    """Jobs that prepare, then wait on Bedrock until the test answers them."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.started: list[str] = []
        self.answered: set[str] = set()
        self.finished: list[str] = []
        self.pool: WorkerPool | None = None

    def run(self, item: Job) -> None:
        with self.changed:
            self.started.append(item.id)
            self.changed.notify_all()
        assert self.pool is not None
        self.pool.reached_model()  # its first Bedrock call has a slot
        with self.changed:
            self.changed.wait_for(lambda: item.id in self.answered, WAIT)
            self.finished.append(item.id)
            self.changed.notify_all()

    def answer(self, job_id: str) -> None:
        with self.changed:
            self.answered.add(job_id)
            self.changed.notify_all()


def test_next_job_starts_as_soon_as_one_reaches_bedrock() -> None:
    """No rounds: while earlier jobs wait on the model, the next ones are started, one lookahead at a time."""
    jobs = PhotoJobs()
    held = threading.Event()
    preparing = threading.Event()
    entered: list[str] = []

    def run(item: Job) -> None:
        entered.append(item.id)
        if item.id == "job0":
            preparing.set()
            held.wait(WAIT)  # still downloading and decoding: the lookahead is full
        jobs.run(item)

    pool = jobs.pool = WorkerPool(run, concurrency=8, on_dropped=lambda items: None, lookahead=1)
    for number in range(4):
        pool.submit(job(number))
    assert preparing.wait(WAIT)
    assert entered == ["job0"], "the others wait until it reaches Bedrock"
    held.set()
    until(jobs.changed, lambda: len(jobs.started) == 4)
    assert jobs.started == ["job0", "job1", "job2", "job3"]
    assert jobs.finished == [], "all four started while the first still waited on Bedrock"
    for number in range(4):
        jobs.answer(f"job{number}")
    pool.shutdown()
    assert sorted(jobs.finished) == ["job0", "job1", "job2", "job3"]


def test_a_job_that_never_calls_bedrock_frees_its_lookahead_when_it_ends() -> None:
    done = threading.Condition()
    ran: list[str] = []

    def run(item: Job) -> None:
        with done:
            ran.append(item.id)
            done.notify_all()

    pool = WorkerPool(run, concurrency=2, on_dropped=lambda items: None, lookahead=1)
    for number in range(3):
        pool.submit(job(number))
    until(done, lambda: len(ran) == 3)
    pool.shutdown()
    assert ran == ["job0", "job1", "job2"]


def test_shutdown_reports_jobs_the_lookahead_had_not_started() -> None:
    jobs = PhotoJobs()
    dropped: list[str] = []
    held = threading.Event()

    def run(item: Job) -> None:
        with jobs.changed:
            jobs.started.append(item.id)
            jobs.changed.notify_all()
        held.wait(WAIT)  # preparing its photo, not yet at Bedrock

    pool = WorkerPool(run, concurrency=4, on_dropped=lambda items: dropped.extend(item.id for item in items),
                      lookahead=1)
    for number in range(3):
        pool.submit(job(number))
    until(jobs.changed, lambda: jobs.started == ["job0"])
    threading.Timer(0.1, held.set).start()
    assert pool.shutdown() == []
    assert jobs.started == ["job0"] and dropped == ["job1", "job2"]
    assert pool.idle()


def test_a_job_waits_for_the_acks_being_answered_then_starts() -> None:
    """Acks first: a job queued while requests are being answered starts once none is (or after the cap)."""
    from bot.runtime.ack_first import AcksFirst

    acks = AcksFirst(max_wait_seconds=WAIT)
    started = threading.Event()
    pool = WorkerPool(lambda job: started.set(), concurrency=2, on_dropped=lambda jobs: None,
                      before_job=acks.wait_for_acks)
    acks.begin()
    acks.begin()  # two requests being answered; one queued the job
    pool.submit(job(1))
    assert not started.wait(0.3), "the job waits while acks are being answered"
    acks.end()
    assert not started.wait(0.2), "one request is still being answered"
    acks.end()
    assert started.wait(WAIT), "then it starts at once"
    pool.shutdown()

    capped = AcksFirst(max_wait_seconds=0.2)
    capped.begin()  # a request that never ends (steady traffic) holds a job back only so long
    started.clear()
    pool = WorkerPool(lambda job: started.set(), concurrency=1, on_dropped=lambda jobs: None,
                      before_job=capped.wait_for_acks)
    pool.submit(job(2))
    assert started.wait(WAIT)
    pool.shutdown()


def test_the_local_server_counts_each_request_until_its_answer_is_out(studio: Studio) -> None:
    from bot.runtime.ack_first import AcksFirst
    from tests.conftest import post
    from tests.fakes.slack import signed_headers, slash_command_body

    server = studio.runtime.server
    assert server is not None and isinstance(server.answering, AcksFirst)
    acks = server.answering
    seen: list[int] = []
    answer = server.answer

    def answer_and_look(*args: Any) -> Any:
        seen.append(acks.in_flight)
        return answer(*args)

    server.answer = answer_and_look  # type: ignore[method-assign]
    body = slash_command_body("/imagine", "usage")
    assert post(studio.runtime.url, body, signed_headers(body))[0] == 200
    assert seen == [1], "counted while it is answered"
    # The server thread lets go of the count just after it closes the connection the client read from.
    deadline = time.monotonic() + WAIT
    while acks.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert acks.in_flight == 0, "and no more once the answer is out"
