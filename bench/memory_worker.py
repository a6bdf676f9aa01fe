"""A worker process that runs one /replace-bg job and reports its peak memory (used by bench.photo)."""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import asdict
from pathlib import Path

from bot.bootstrap import worker_context
from bot.jobs import Job
from bot.runtime.sqlite_state import SqliteState
from bot.runtime.worker import Outcome, run_job
from bot.settings import Settings
from handlers.requests import ReplaceBackgroundRequest
from tests.fakes.slack import BOT_TOKEN


def main() -> None:
    config = json.loads(sys.argv[1])
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=config["slack_api_url"],
                        bedrock_endpoint_url=config["bedrock"], state_path=":memory:")
    ctx = worker_context(settings, SqliteState(":memory:"))
    request = ReplaceBackgroundRequest(prompt="beach at sunset", keep="car", seed=1)
    job = Job(id="m", command="replace-bg", request=asdict(request), team_id="T", channel_id="C1", user_id="U1")
    assert run_job(job, ctx) is Outcome.SUCCEEDED
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own peak RSS.

    getrusage's ru_maxrss would also count the parent's memory at fork time,
    so read the per-address-space high-water mark instead.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
