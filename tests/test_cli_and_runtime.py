"""The command line and the local runtime's lifecycle."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

from PIL import Image

from bot.jobs import Job
from bot.runtime.local import build_runtime
from bot.runtime.pool import PoolClosed, WorkerPool
from bot.settings import Settings
from tests.fakes.bedrock import FakeBedrock
from tests.processes import ROOT, free_port, start_studio, studio_env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=60,
    )


def test_missing_settings_are_named_with_where_to_find_them(tmp_path: Path) -> None:
    result = run_cli([], {}, tmp_path)
    assert result.returncode == 2
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN (Socket Mode", "or SLACK_SIGNING_SECRET (HTTP mode)"):
        assert name in result.stderr
    assert "OAuth & Permissions" in result.stderr
    assert "No AWS credentials found" in result.stderr and "AWS_PROFILE" in result.stderr


def test_an_aws_profile_that_does_not_exist_is_named(tmp_path: Path) -> None:
    """Regression: botocore's ProfileNotFound escaped as a traceback from serve, run and doctor."""
    env = {"AWS_PROFILE": "studio-typo", "AWS_EC2_METADATA_DISABLED": "true"}  # no Slack token: no network
    for args, code in (([], 2), (["run", "/imagine a red car"], 2), (["doctor"], 1)):
        result = run_cli(args, env, tmp_path)
        output = result.stderr + result.stdout
        assert result.returncode == code and "Traceback" not in output, output
        assert "AWS_PROFILE=studio-typo" in output and "aws configure --profile studio-typo" in output, output


def test_a_setting_that_does_not_parse_is_named(tmp_path: Path) -> None:
    """Regression: int("abc") and FormatSettingError escaped as tracebacks before anything could start."""
    for env, words in (({"STUDIO_WORKERS": "four"}, "STUDIO_WORKERS must be a whole number, not 'four'"),
                       ({"STUDIO_RETRY_BASE_SECONDS": "2s"}, "STUDIO_RETRY_BASE_SECONDS must be a number, not '2s'"),
                       ({"STUDIO_FORMATS": "pin=10x10"}, "STUDIO_FORMATS: 'pin=10x10' needs sides of 64-4096 px")):
        for args in ([], ["run", "/imagine a red car"], ["doctor"]):
            result = run_cli(args, env, tmp_path)
            assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
            assert f"Studio cannot start: {words}" in result.stderr, result.stderr


def test_slack_tokens_of_the_wrong_kind_are_named_without_their_values(tmp_path: Path) -> None:
    # Pasted into each other's setting, they started Studio, which then failed on every Slack call.
    env = {"SLACK_BOT_TOKEN": "xapp-1-A0-123-secretapp", "SLACK_APP_TOKEN": "xoxb-123-secretbot",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_REGION": "us-east-1"}
    result = run_cli([], env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "SLACK_BOT_TOKEN is not a bot token (xoxb-…)" in result.stderr
    assert "SLACK_APP_TOKEN is not an app-level token (xapp-…)" in result.stderr
    assert "secret" not in result.stderr + result.stdout


def test_a_rotating_bot_token_is_a_bot_token() -> None:
    Settings(slack_bot_token="xoxe.xoxb-1-abc", slack_signing_secret="s").require_slack()


def test_run_help_says_where_results_go_by_default(tmp_path: Path) -> None:
    result = run_cli(["run", "--help"], {}, tmp_path)
    assert result.returncode == 0 and "default: studio-out" in " ".join(result.stdout.split()), result.stdout


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    result = run_cli([], {}, tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN:" not in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "xoxb-from-dotenv" not in result.stderr + result.stdout


def test_run_writes_images_without_slack(tmp_path: Path, bedrock: FakeBedrock) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
    }
    result = run_cli(["run", "/imagine a red car ar=16:9 n=2", "--out", str(tmp_path / "out")], env, tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").glob("*.png"))
    assert len(files) == 2
    assert Image.open(files[0]).size == (1344, 768)  # Stable Image Core's 16:9
    assert "seeds " in result.stdout and "Generating…" in result.stderr  # outcome on stdout, progress on stderr


def test_run_enhances_the_prompt_when_asked(tmp_path: Path, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "A red car on a coastal road at golden hour, 50 mm lens"
    env = {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
    }
    result = run_cli(["run", "/imagine a red car enhance", "--out", str(tmp_path / "out")], env, tmp_path)
    assert result.returncode == 0, result.stderr
    # The result (on stdout, as the flow would post it) shows the richer prompt beside the person's own.
    assert "Enhanced prompt: _A red car on a coastal road" in result.stdout, result.stdout
    [call] = bedrock.invocations()
    assert call.body["prompt"] == "A red car on a coastal road at golden hour, 50 mm lens"


def test_run_reports_usage_errors_without_calling_bedrock(tmp_path: Path, bedrock: FakeBedrock) -> None:
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url}
    result = run_cli(["run", "/imagine a red car sed=4"], env, tmp_path)
    assert result.returncode == 1
    assert "Did you mean `seed=`?" in result.stderr
    assert bedrock.calls == []


def job(number: int) -> Job:
    return Job(id=f"job{number}", command="imagine", request={}, team_id="T", channel_id="C1", user_id="U1")


def test_shutdown_finishes_running_jobs_and_reports_queued_ones() -> None:
    release = threading.Event()
    started = threading.Event()
    finished: list[str] = []
    dropped: list[str] = []

    def run(item: Job) -> None:
        started.set()
        release.wait(5)
        finished.append(item.id)

    pool = WorkerPool(run, concurrency=1, on_dropped=lambda items: dropped.extend(item.id for item in items))
    for number in range(3):
        pool.submit(job(number))
    started.wait(5)
    threading.Timer(0.2, release.set).start()
    pool.shutdown()
    assert finished == ["job0"]
    assert dropped == ["job1", "job2"]
    try:
        pool.submit(job(9))
    except PoolClosed:
        pass
    else:
        raise AssertionError("a closed pool must refuse jobs")


def test_settings_repr_hides_secrets() -> None:
    settings = Settings(slack_bot_token="xoxb-secret", slack_signing_secret="shh", slack_app_token="xapp-secret")
    assert "secret" not in repr(settings) and "shh" not in repr(settings)


def test_python_m_bot_serves_http_and_stops_cleanly_on_ctrl_c(tmp_path: Path, slack, bedrock) -> None:
    """The README's run command end to end: HTTP mode, a signed /imagine, Ctrl-C."""
    import signal

    from tests.conftest import post
    from tests.fakes.slack import BOT_TOKEN, signed_headers, slash_command_body

    server, url = start_studio(studio_env(tmp_path, slack, bedrock, free_port()), tmp_path)
    try:
        body = slash_command_body("/imagine", "a lighthouse", response_url=slack.response_url("r1"))
        status, ack = post(url, body, signed_headers(body))
        assert status == 200 and "Working on your image" in ack
        slack.wait_for(lambda: len(slack.uploads) == 1, timeout=20)
        assert post(url, body, signed_headers(body, secret="wrong"))[0] == 401
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=20)
    assert server.returncode == 0, stderr
    assert "listening on" in stderr and "stopping" in stderr
    assert BOT_TOKEN not in stderr


def test_a_runtime_that_never_served_closes_at_once(settings: Settings) -> None:
    # Stopped (Ctrl-C, SIGTERM) before its server loop ran: closing must not wait for that loop.
    runtime = build_runtime(replace(settings, shutdown_grace_seconds=1), host="127.0.0.1")
    closer = threading.Thread(target=runtime.close, daemon=True)
    closer.start()
    closer.join(timeout=5)
    assert not closer.is_alive(), "close() hung waiting for a server loop that never started"
