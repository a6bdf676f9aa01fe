"""Serve the fake Slack and fake Bedrock for trying Studio by hand: ``python -m tests.fakes``.

It prints the settings that point Studio at them; paste them into a shell (or
``--env-file`` writes them), then run ``python -m bot doctor`` or
``python -m bot run ...`` in that shell. ``--retire MODEL`` makes Bedrock answer
that model with its end-of-life error, to see how Studio explains it.
"""

from __future__ import annotations

import argparse
import shlex
import threading
from pathlib import Path

from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__.splitlines()[0])
    parser.add_argument("--retire", action="append", default=[], metavar="MODEL",
                        help="answer this model id as retired (repeatable)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every Bedrock answer takes")
    parser.add_argument("--env-file", type=Path, help="also write the settings to this file")
    args = parser.parse_args(argv)
    with FakeSlack() as slack, FakeBedrock() as bedrock:
        slack.add_channel("C1", "general", bot_member=True)
        bedrock.latency = args.latency
        for model in args.retire:
            bedrock.retire(model)
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
               **bedrock.env()}
        lines = [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
        if args.env_file:
            args.env_file.write_text("\n".join(lines) + "\n")
        print("\n".join(lines), flush=True)
        print("# serving; Ctrl-C stops", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
