"""The Slack app manifest, as shipped (Socket Mode) or pointed at an HTTP request URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "slack" / "manifest.json"


def load_manifest() -> dict[str, Any]:
    """The manifest in ``slack/manifest.json`` (Socket Mode on, no URLs)."""
    manifest: dict[str, Any] = json.loads(MANIFEST_PATH.read_text())
    return manifest


def http_manifest(request_url: str) -> dict[str, Any]:
    """The manifest for HTTP delivery: every request goes to ``request_url``, Socket Mode off."""
    manifest = copy.deepcopy(load_manifest())
    for command in manifest["features"]["slash_commands"]:
        command["url"] = request_url
    settings = manifest["settings"]
    settings["event_subscriptions"]["request_url"] = request_url
    settings["interactivity"]["request_url"] = request_url
    settings["socket_mode_enabled"] = False
    return manifest
