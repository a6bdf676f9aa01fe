"""Command line: ``python -m bot`` serves Slack; ``python -m bot run`` tries a command without Slack."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from dotenv import find_dotenv, load_dotenv

from bot.clients import aws_credentials_hint, bedrock_control, slack_web_client
from bot.settings import WHERE_TO_FIND, BadSetting, MissingSettings, Settings
from bot.slack.manifest import http_manifest, load_manifest
from handlers.formats import FormatSettingError
from handlers.model_table import UnknownStack


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Studio, an image studio for Slack.")
    sub = parser.add_subparsers(dest="action")
    sub.add_parser("serve", help="run the Slack bot (the default)")
    run = sub.add_parser("run", help='run one command against Bedrock without Slack, e.g. "/imagine a red car"')
    run.add_argument("command_text", help='the command as typed in Slack, e.g. "/replace-bg keep=car beach"')
    run.add_argument("--image", type=Path, action="append", default=[], dest="images",
                     help="a photo, or a ZIP of photos, for a photo command; repeat it for a /replace-bg batch, "
                          "/describe's photos, or /edit's mask (second)")
    run.add_argument("--out", type=Path, default=Path("studio-out"),
                     help="folder for the images and report.txt (default: studio-out)")
    sub.add_parser("doctor", help="check the Slack token and scopes, model access and model lifecycle")
    manifest = sub.add_parser("manifest", help="print the Slack app manifest (for HTTP mode: --url)")
    manifest.add_argument("--url", help="request URL, e.g. the stack output SlackRequestUrl")
    args = parser.parse_args(argv)
    if args.action == "manifest":
        print(json.dumps(http_manifest(args.url) if args.url else load_manifest(), indent=2, ensure_ascii=False))
        return 0

    # Look for .env where the admin runs the command, not beside this module.
    load_dotenv(find_dotenv(usecwd=True))
    # On the terminal, the flow's own progress lines say what happens; the log only what went wrong.
    level = logging.WARNING if args.action == "run" else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials in …" is noise
    try:
        settings = Settings.from_env()
        settings.models  # noqa: B018 - resolve once, so a wrong STUDIO_MODELS stops here with its reason
    except (BadSetting, FormatSettingError, UnknownStack) as error:
        print(f"Studio cannot start: {error}.", file=sys.stderr)
        return 2
    if args.action == "run":
        return run_once(settings, args.command_text, args.images, args.out)
    if args.action == "doctor":
        return doctor(settings)
    return serve(settings)


def serve(settings: Settings) -> int:
    """Start the bot, or explain exactly which settings are missing."""
    problems: list[str] = []
    try:
        settings.require_slack()
    except (MissingSettings, BadSetting) as error:
        problems.append(str(error))
    aws_hint = aws_credentials_hint(settings)
    if aws_hint:
        problems.append(aws_hint)
    if problems:
        print("\n\n".join(problems), file=sys.stderr)
        print("\nSee README.md → 'Set up the Slack app' for the step-by-step.", file=sys.stderr)
        return 2
    from bot.runtime.local import serve as serve_forever  # Slack libraries load only when serving

    serve_forever(settings)
    return 0


def doctor(settings: Settings) -> int:
    """Print the setup checks as a table; exit 1 if any failed."""
    from bot.doctor import FAIL, Check, model_checks, render, slack_checks

    checks = (
        slack_checks(slack_web_client(settings)) if settings.slack_bot_token
        else [Check("Slack token", FAIL, "SLACK_BOT_TOKEN is not set", WHERE_TO_FIND["SLACK_BOT_TOKEN"])]
    )
    aws_hint = aws_credentials_hint(settings)
    if aws_hint:
        checks.append(Check("AWS credentials", FAIL, "none found", aws_hint))
    else:
        checks += model_checks(settings, bedrock_control(settings))
    print(render(checks))
    return 1 if any(check.status == FAIL for check in checks) else 0


def run_once(settings: Settings, command_text: str, images: list[Path], out_dir: Path) -> int:
    """Run any command's flow against Bedrock on local ``images``; results and report.txt go to ``out_dir``."""
    from bot.runtime.terminal import run_command  # the flows and Pillow load only when running one

    return run_command(settings, command_text, images, out_dir)


if __name__ == "__main__":
    sys.exit(main())
