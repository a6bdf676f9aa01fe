"""Nothing lost, nothing stuck: Slack and Bedrock faults, crashes and shutdowns.

Each test injects a fault the way the real service shows it (tests/fakes) and
asserts what a person would see.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk.http_retry import builtin_handlers

from tests.conftest import Studio, post
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack, event_body, signed_headers, slash_command_body
from tests.photos import small_jpeg
from tests.processes import free_port, start_studio, studio_env

# These scenarios count Titan calls (several images in one call): the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack


@pytest.fixture(autouse=True)
def _no_rate_limit_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk adds up to 1 s of random jitter to every Retry-After wait; tests wait 0 s.
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))


def private_notes(slack: FakeSlack) -> str:
    notes = [r.get("text", "") for rs in slack.responses.values() for r in rs]
    return "\n".join(notes + [e.get("text", "") for e in slack.ephemerals])


# --- 1. rate limits ----------------------------------------------------------------------------

def test_rate_limited_post_is_waited_out(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", n=4, retry_after=0)
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert len(slack.uploads) == 1, "four 429s in a row are waited out, not the end of the job"


def test_result_slack_never_takes_is_told_to_the_person(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", n=100, retry_after=0)
    studio.slash("/imagine", "a red car")
    studio.wait_idle(timeout=30)
    assert slack.uploads == []
    notes = private_notes(slack)
    assert "Slack did not accept the result" in notes and "send it again" in notes
    assert len(slack.responses["r1"]) == 1, "told once"


def test_lambda_knows_the_queues_redrive_limit() -> None:
    import re
    from pathlib import Path

    template = (Path(__file__).resolve().parent.parent / "infra" / "template.yaml").read_text()
    source = (Path(__file__).resolve().parent.parent / "bot" / "runtime" / "lambda_worker.py").read_text()
    [limit] = re.findall(r"maxReceiveCount: (\d+)", template)
    assert f"MAX_RECEIVES = {limit}" in source, "the last delivery must not promise another try"


# --- 2. server errors and dropped connections ----------------------------------------------------

@pytest.mark.parametrize("fault", [
    {"error": "service_unavailable", "status": 503, "html": True, "n": 3},
    {"error": "bad_gateway", "status": 502, "html": True, "n": 1},
    {"error": "internal_error", "status": 500, "n": 3},
    {"error": "disconnect", "n": 3},
], ids=["503-html", "502-html", "500-json", "dropped-connection"])
def test_slack_server_errors_are_transient_and_retried(studio: Studio, slack: FakeSlack, fault: dict) -> None:
    slack.fail_next("chat.postMessage", **fault)
    studio.slash("/imagine", "a red car")
    studio.wait_idle(timeout=30)
    assert len(slack.uploads) == 1


@pytest.mark.parametrize("method", ["chat.postMessage", "files.completeUploadExternal"])
def test_slack_outage_page_is_never_shown_to_a_person(studio: Studio, slack: FakeSlack, method: str) -> None:
    slack.fail_next(method, "service_unavailable", n=100, status=503, html=True)
    studio.slash("/imagine", "a red car")
    studio.wait_idle(timeout=30)
    seen = private_notes(slack) + json.dumps(slack.updates) + json.dumps(slack.bot_messages("C1"))
    assert "Slack did not accept the result" in seen
    for leak in ("<html", "DOCTYPE", "non-JSON", "Server Error"):
        assert leak not in seen


@pytest.mark.parametrize("fault", [{"error": "internal_error", "n": 2}, {"error": "disconnect", "n": 2},
                                   {"error": "ratelimited", "retry_after": 0, "n": 2}], ids=["500", "dropped", "429"])
def test_upload_step_failures_are_retried(studio: Studio, slack: FakeSlack, fault: dict) -> None:
    slack.fail_next("upload", **fault)  # the POST to files.getUploadURLExternal's upload URL
    studio.slash("/imagine", "a red car")
    studio.wait_idle(timeout=30)
    assert len(slack.uploads) == 1


# --- 3. a failed photo download is named as such --------------------------------------------------

def post_photo(slack: FakeSlack, name: str = "car.jpg") -> str:
    photo = slack.add_file(small_jpeg(), name=name)
    return slack.post_user_message("C1", "U1", "", files=[photo])


def thread_text(slack: FakeSlack, thread_ts: str) -> str:
    return json.dumps([m for m in slack.thread_messages("C1", thread_ts) if m.get("bot_id")])


@pytest.fixture
def quick_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.slack.photos.DOWNLOAD_RETRY_SECONDS", (0.0, 0.0), raising=False)


def test_failed_photo_download_says_so(studio: Studio, slack: FakeSlack, quick_downloads: None) -> None:
    ts = post_photo(slack)
    slack.fail_next("download", "internal_error", n=10)
    studio.slash("/describe", "")
    studio.wait_idle()
    shown = thread_text(slack, ts)
    assert "could not download your photo" in shown and "car.jpg" in shown and "try again" in shown
    assert "did not accept the result" not in shown


def test_photo_download_survives_a_slack_hiccup(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                quick_downloads: None) -> None:
    ts = post_photo(slack)
    slack.fail_next("download", "bad_gateway", status=502, html=True)
    slack.fail_next("download", "disconnect")
    studio.slash("/describe", "")
    studio.wait_idle()
    assert len(bedrock.converse_calls()) == 1
    assert "could not download" not in thread_text(slack, ts)


# --- 7. quota counts what was delivered ----------------------------------------------------------

@pytest.mark.parametrize(("command", "text"), [("/imagine", "a red car n=2"), ("/remove-bg", ""),
                                               ("/replace-bg", "keep=car a beach")])
def test_images_slack_did_not_take_are_not_charged(make_studio, slack: FakeSlack, command: str, text: str) -> None:
    studio = make_studio(user_daily_images=10)
    post_photo(slack)
    slack.fail_next("files.completeUploadExternal", "internal_error", n=20)
    studio.slash(command, text)
    studio.wait_idle()
    assert slack.uploads == []
    assert "you: *0 of 10*" in studio.slash("/imagine", "usage")["text"]


# --- 6. the last word on a progress line always arrives --------------------------------------------

def heading_and_thread(slack: FakeSlack) -> tuple[dict, list[dict]]:
    heading = slack.bot_messages("C1")[0]
    return heading, slack.thread_messages("C1", heading["ts"])


def test_failed_final_update_is_retried(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("chat.update", "internal_error")
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    heading, _ = heading_and_thread(slack)
    assert "Generating" not in json.dumps(heading["blocks"]) and "seed" in json.dumps(heading["blocks"])


def test_final_update_slack_keeps_refusing_is_posted_instead(studio: Studio, slack: FakeSlack) -> None:
    slack.fail_next("chat.update", "internal_error", n=100)
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    _, thread = heading_and_thread(slack)
    outcome = [m for m in thread if m.get("bot_id") and "seed" in json.dumps(m.get("blocks"))]
    assert len(outcome) == 1, "the outcome is posted in the thread once"


def test_failure_on_a_line_slack_will_not_update_is_posted(studio: Studio, slack: FakeSlack,
                                                          bedrock: FakeBedrock) -> None:
    ts = post_photo(slack)
    bedrock.blocked_terms.add("beach")
    slack.fail_next("chat.update", "message_not_found", n=100)  # someone deleted the progress line
    studio.slash("/replace-bg", "keep=car a beach")
    studio.wait_idle()
    assert "content filter" in thread_text(slack, ts)


def test_describe_answer_arrives_when_updates_fail(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "A red car on a quiet street."
    ts = post_photo(slack)
    slack.fail_next("chat.update", "internal_error", n=100)
    studio.slash("/describe", "")
    studio.wait_idle()
    assert "A red car on a quiet street." in thread_text(slack, ts)


# --- 8. one billed request per model call --------------------------------------------------------

def test_read_timeout_allows_for_the_slowest_model() -> None:
    from bot import clients

    # Stability Ultra and the upscalers take tens of seconds; a premium batch longer.
    assert clients._BEDROCK_CONFIG.read_timeout >= 300


def test_bedrock_read_timeout_is_not_sent_again(make_studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.config import Config

    from bot import clients

    # A model slower than the (shortened) read timeout: Bedrock still runs, and bills, the request.
    monkeypatch.setattr(clients, "_BEDROCK_CONFIG", clients._BEDROCK_CONFIG.merge(Config(read_timeout=0.3)))
    bedrock.latency = 0.6
    studio = make_studio()
    studio.slash("/imagine", "a red car")
    studio.wait_idle(timeout=60)
    assert len(bedrock.invocations("TEXT_IMAGE")) == 1, "a timed-out request is not sent (and billed) again"
    shown = json.dumps(slack.updates[-1]["blocks"])
    assert "did not answer" in shown and "not send it again" in shown


def test_bedrock_retries_are_logged_and_shown(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    bedrock.fail_next(4, "ThrottlingException")  # botocore: 4 attempts (3 retries), then one job-level retry
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    assert len(slack.uploads) == 1
    quick = [r.getMessage() for r in caplog.records if r.name == "bot.clients" and "retry" in r.getMessage()]
    slow = [r.getMessage() for r in caplog.records if r.name == "bot.flows.retry" and "retry" in r.getMessage()]
    assert len(quick) == 3 and all("ThrottlingException" in line for line in quick), quick  # botocore's own
    assert len(slow) == 1, slow  # the worker's longer, visible one
    assert any("Bedrock is busy" in json.dumps(u["blocks"]) for u in slack.updates)


# --- 4 and 5. kill, restart and shutdown ---------------------------------------------------------

@dataclass
class Process:
    """``python -m bot`` in HTTP mode, as an admin runs it."""

    popen: subprocess.Popen[str]
    url: str

    def slash(self, slack: FakeSlack, text: str, command: str = "/imagine", key: str = "r1") -> None:
        body = slash_command_body(command, text, response_url=slack.response_url(key))
        status, _ = post(self.url, body, signed_headers(body))
        assert status == 200

    def mention(self, slack: FakeSlack, text: str, thread_ts: str) -> None:
        ts = slack.post_user_message("C1", "U1", text, thread_ts=thread_ts)
        body = event_body(slack.message_event("C1", ts, event_type="app_mention"), event_id=f"Ev{ts}")
        assert post(self.url, body, signed_headers(body, content_type="application/json"))[0] == 200

    def stop(self, sig: signal.Signals, timeout: float = 30) -> tuple[int, str]:
        self.popen.send_signal(sig)
        _, stderr = self.popen.communicate(timeout=timeout)
        return self.popen.returncode, stderr


@pytest.fixture
def start_process(tmp_path: Path, slack: FakeSlack, bedrock: FakeBedrock) -> Iterator[Callable[..., Process]]:
    started: list[subprocess.Popen[str]] = []

    def start(**env: str) -> Process:
        environment = studio_env(tmp_path, slack, bedrock, free_port(), STUDIO_STATE_PATH=str(tmp_path / "state.db"),
                                 STUDIO_RETRY_BASE_SECONDS="0.01", STUDIO_MODELS="amazon", **env)
        popen, url = start_studio(environment, tmp_path)
        started.append(popen)
        return Process(popen, url)

    yield start
    for popen in started:
        if popen.poll() is None:
            popen.kill()
            popen.communicate()


def notes_for(slack: FakeSlack, key: str = "r1") -> list[str]:
    return [r.get("text", "") for r in slack.responses.get(key, [])]


def test_restart_after_a_kill_cleans_up_an_unfinished_job(start_process, make_studio, tmp_path: Path,
                                                          slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.latency = 5  # the model is still working when Studio is killed
    studio = start_process(STUDIO_USER_DAILY_IMAGES="10")
    studio.slash(slack, "a red car n=2")
    slack.wait_for(lambda: bool(bedrock.invocations("TEXT_IMAGE")), timeout=20)
    studio.popen.kill()
    studio.popen.communicate()

    bedrock.latency = 0
    again = make_studio(state_path=str(tmp_path / "state.db"), user_daily_images=10)
    [heading] = slack.bot_messages("C1")
    line = json.dumps(heading["blocks"])
    assert "Generating" not in line and "Interrupted" in line and "a red car" in line
    [note] = notes_for(slack)
    assert "did not finish" in note and "a red car" in note
    assert "you: *0 of 10*" in again.slash("/imagine", "usage")["text"], "the reservation is given back"


def test_restart_after_a_kill_finishes_an_interrupted_batch(start_process, make_studio, tmp_path: Path,
                                                            slack: FakeSlack, bedrock: FakeBedrock) -> None:
    parent = slack.post_user_message("C1", "U1", "today's shoot")
    for index in range(3):
        photo = slack.add_file(small_jpeg(640 + index * 16, 480), name=f"shot-{index}.jpg")
        slack.post_user_message("C1", "U1", "", files=[photo], thread_ts=parent)
    bedrock.latency = 5
    studio = start_process(STUDIO_USER_DAILY_IMAGES="10")
    studio.mention(slack, "<@UBOT> replace-bg keep=bag a beach", parent)
    slack.wait_for(lambda: len(bedrock.invocations("OUTPAINTING")) == 3, timeout=30)
    studio.popen.kill()
    studio.popen.communicate()

    bedrock.latency = 0
    again = make_studio(state_path=str(tmp_path / "state.db"), user_daily_images=10)
    progress = [m for m in slack.thread_messages("C1", parent) if "in 3 photos" in m.get("text", "")]
    assert "3/3 done, 3 failed" in json.dumps(progress[-1]["blocks"])
    [report] = [u for u in slack.uploads if u["filename"].endswith(".csv")]
    rows = list(csv.DictReader(io.StringIO(report["content"].decode())))
    assert [(row["photo"], row["outcome"]) for row in rows] == [
        ("shot-0.jpg", "interrupted"), ("shot-1.jpg", "interrupted"), ("shot-2.jpg", "interrupted")]
    [note] = [e["text"] for e in slack.ephemerals if e["user"] == "U1"]
    assert "did not finish" in note and all(f"shot-{index}.jpg" in note for index in range(3)), note
    assert "you: *0 of 10*" in again.slash("/imagine", "usage")["text"]


def test_journal_holds_what_a_running_job_reserved() -> None:
    from bot.quota import today
    from bot.runtime.sqlite_state import SqliteState

    state, day = SqliteState(":memory:"), today()
    with state.running("single"):
        state.reserve_images("T", "U1", day, 3, 0, 0)
        state.release_images("T", "U1", day, 1)  # one image the model did not make
    state.reserve_images("T", "U1", day, 2, 0, 0)  # outside any job (not journaled)
    assert state.usage("T", "U1", day).user == 4
    assert state.release_held("single") == 2 and state.release_held("single") == 0, "given back once"
    assert state.usage("T", "U1", day).user == 2
    with state.running("batch-parent"):
        state.reserve_images("T", "U1", day, 6, 0, 0)
    state.journal_remove("batch-parent")  # it finished: its photos' jobs own the images now
    assert state.release_held("batch-parent") == 0 and state.usage("T", "U1", day).user == 8


def test_a_claim_holds_until_it_expires_or_is_released(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each ack claims its job id: a redelivery is refused while the claim lives, and expired claims are purged."""
    import sqlite3

    from bot.runtime import sqlite_state

    clock = [1000.0]
    monkeypatch.setattr(sqlite_state.time, "time", lambda: clock[0])
    state = sqlite_state.SqliteState(tmp_path / "state.db")
    assert state.claim("job:1", 60) and not state.claim("job:1", 60), "a redelivery within the claim is refused"
    state.release("job:1")
    assert state.claim("job:1", 60), "a released claim can be taken again"
    assert state.claim("job:2", 10)
    clock[0] += 30
    assert state.claim("job:2", 10) and not state.claim("job:1", 60), "only the expired claim is taken over"
    clock[0] += sqlite_state.CLAIM_PURGE_SECONDS + 31  # both expired; the next claim purges them
    assert state.claim("job:3", 10)
    keys = [row[0] for row in sqlite3.connect(tmp_path / "state.db").execute("SELECT key FROM claims")]
    assert keys == ["job:3"]


def test_sigterm_lets_running_jobs_finish(start_process, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.latency = 2
    studio = start_process()
    studio.slash(slack, "a red car")
    slack.wait_for(lambda: bool(bedrock.invocations("TEXT_IMAGE")), timeout=20)
    code, stderr = studio.stop(signal.SIGTERM)  # what systemd, Docker and Kubernetes send
    assert code == 0, stderr
    assert "stopping" in stderr
    assert len(slack.uploads) == 1, "the running job finished before Studio exited"
    assert "seed" in json.dumps(slack.bot_messages("C1")[0]["blocks"])


def test_sigterm_journals_what_outlasts_the_grace_period(start_process, make_studio, tmp_path: Path,
                                                         slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.latency = 8
    studio = start_process(STUDIO_SHUTDOWN_GRACE_SECONDS="1")
    studio.slash(slack, "a red car")
    slack.wait_for(lambda: bool(bedrock.invocations("TEXT_IMAGE")), timeout=20)
    started = time.monotonic()
    code, stderr = studio.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert time.monotonic() - started < 6, "Studio exits after the grace period, not when the job ends"
    assert slack.uploads == []

    bedrock.latency = 0
    make_studio(state_path=str(tmp_path / "state.db"))
    assert "Interrupted" in json.dumps(slack.bot_messages("C1")[0]["blocks"])
    [note] = notes_for(slack)
    assert "did not finish" in note and "a red car" in note


def test_jobs_still_queued_at_shutdown_are_told_once(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.latency = 1
    studio = make_studio(worker_concurrency=1)  # one model call at a time; 5 jobs in progress at most
    for number in range(1, 8):
        studio.slash("/imagine", f"prompt {number}", response_key=f"r{number}")
    studio.runtime.close()
    assert len(slack.uploads) == 5, "running jobs finished"
    notes = [text for number in range(1, 8) for text in notes_for(slack, f"r{number}")]
    assert len(notes) == 1, notes
    assert "prompt 6" in notes[0] and "prompt 7" in notes[0] and "did not finish" in notes[0]
