"""Studio as a separate process (`python -m bot`), the way the README runs it, against the local fakes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def studio_env(home: Path, slack: FakeSlack, bedrock: FakeBedrock, port: int, **extra: str) -> dict[str, str]:
    """The environment of a Studio process that talks to the fakes and serves HTTP on ``port``."""
    return {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(home),
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
        "PORT": str(port), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url, "AWS_ENDPOINT_URL_BEDROCK": bedrock.url, **extra,
    }


def start_studio(env: dict[str, str], cwd: Path, timeout: float = 30) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m bot`` and wait until it answers HTTP; returns the process and its events URL."""
    popen = subprocess.Popen([sys.executable, "-m", "bot"], env=env, cwd=cwd, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{env['PORT']}/slack/events"
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url.replace("/slack/events", "/"), timeout=1)
        except urllib.error.HTTPError:
            return popen, url  # it answers (404 for /): it is up
        except OSError:
            if popen.poll() is not None or time.monotonic() > deadline:
                popen.kill()
                raise AssertionError(f"Studio did not start: {popen.communicate()[1][-2000:]}") from None
            time.sleep(0.1)
