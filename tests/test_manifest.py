"""The Slack app manifest: valid by Slack's own schema, and no more scopes than Studio needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.slack.manifest import http_manifest, load_manifest
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import small_jpeg

ROOT = Path(__file__).resolve().parent.parent
# The rules of Slack's published manifest schema for the fields Studio uses (see its $comment).
SCHEMA = json.loads((Path(__file__).parent / "slack_manifest_schema.json").read_text())


def schema_errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in ``value`` breaks ``schema``: the JSON-schema keywords Slack's manifest schema uses.

    ``regex`` is Slack's own spelling of ``pattern`` (on ``background_color``).
    """
    if "$ref" in schema:
        return schema_errors(value, SCHEMA["definitions"][schema["$ref"].rsplit("/", 1)[-1]], where)
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}
    kind = schema.get("type")
    if kind and (not isinstance(value, kinds[kind]) or (kind == "integer" and isinstance(value, bool))):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    errors = [f"{where}: {value!r} is not one of {schema['enum']}"] if "enum" in schema and value not in schema["enum"] else []
    if isinstance(value, str):
        errors += _string_errors(value, schema, where)
    if isinstance(value, list):
        errors += _array_errors(value, schema, where)
    if isinstance(value, dict):
        errors += _object_errors(value, schema, where)
    return errors


def _string_errors(value: str, schema: dict[str, Any], where: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{where}: shorter than {schema['minLength']} characters")
    if len(value) > schema.get("maxLength", len(value)):
        errors.append(f"{where}: longer than {schema['maxLength']} characters")
    for key in ("pattern", "regex"):
        if key in schema and not re.search(schema[key], value):
            errors.append(f"{where}: does not match {schema[key]}")
    return errors


def _array_errors(value: list[Any], schema: dict[str, Any], where: str) -> list[str]:
    errors = []
    if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
        errors.append(f"{where}: {len(value)} items, allowed {schema.get('minItems', 0)}–{schema.get('maxItems')}")
    if schema.get("uniqueItems") and len({json.dumps(item, sort_keys=True) for item in value}) != len(value):
        errors.append(f"{where}: items repeat")
    for index, item in enumerate(value):
        errors += schema_errors(item, schema.get("items", {}), f"{where}[{index}]")
    return errors


def _object_errors(value: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{where}: missing required key {key!r}" for key in schema.get("required", []) if key not in value]
    if schema.get("additionalProperties") is False:
        errors += [f"{where}: unknown key {key!r}" for key in value if key not in properties]
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], f"{where}.{key}")
    return errors


# --- the manifest against Slack's schema ---------------------------------------------------

def test_the_shipped_manifest_follows_slacks_schema() -> None:
    assert schema_errors(load_manifest(), SCHEMA) == []


def test_the_http_manifest_follows_slacks_schema() -> None:
    assert schema_errors(http_manifest("https://abc.lambda-url.us-east-1.on.aws/slack/events"), SCHEMA) == []


@pytest.mark.parametrize(("path", "bad", "expected"), [
    (("features", "slash_commands", 5, "usage_hint"), "", "shorter than 1"),
    (("features", "shortcuts", 0, "name"), "Replace the background, please", "longer than 24"),
    (("features", "shortcuts", 0, "type"), "channel", "is not one of"),
    (("features", "slash_commands", 0, "command"), "imagine", "does not match"),
    (("display_information", "background_color"), "navy", "does not match"),
    (("display_information", "long_description"), "Too short.", "shorter than 175"),
    (("settings", "interactivity", "request_url"), "ftp://x", "does not match"),
    (("features", "bot_user", "always_online"), "yes", "expected boolean"),
    (("settings", "socket_mode"), True, "unknown key"),
])
def test_the_schema_check_catches_what_slack_rejects(path: tuple[Any, ...], bad: Any, expected: str) -> None:
    manifest = load_manifest()
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    errors = schema_errors(manifest, SCHEMA)
    assert len(errors) == 1 and expected in errors[0], errors


# --- scopes ---------------------------------------------------------------------------------

def readme_scopes() -> dict[str, str]:
    """The scope list under "Set up the Slack app" in the README: scope -> why."""
    section = (ROOT / "README.md").read_text().split("## Set up the Slack app", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\s*- `([a-z_.:]+)`[:—–\s-]+(.+)$", section, re.MULTILINE))


def test_every_scope_is_explained_in_the_readme() -> None:
    assert set(readme_scopes()) == set(load_manifest()["oauth_config"]["scopes"]["bot"])


def test_the_manifest_scopes_are_enough(make_studio: Any, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    """Every entry point works with exactly the scopes the manifest asks for, no more."""
    slack.scopes = list(load_manifest()["oauth_config"]["scopes"]["bot"])
    slack.usergroups["S123"] = {"U1"}
    studio: Studio = make_studio(allowed_users=frozenset({"S123"}))
    photo_ts = slack.post_user_message("C1", "U1", "", files=[slack.add_file(small_jpeg())])
    studio.slash("/imagine", "a red car")
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    mention_ts = slack.post_user_message("C1", "U1", "<@UBOT> describe alt", thread_ts=photo_ts)
    studio.event(slack.message_event("C1", mention_ts, event_type="app_mention"))
    studio.interact(slack.message_shortcut_payload("C1", photo_ts, "remove_background"))
    studio.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.2"})
    studio.wait_idle()
    seen = json.dumps(slack.responses) + json.dumps(slack.ephemerals) + json.dumps(slack.updates)
    assert "missing_scope" not in seen and "missing a Slack permission" not in seen
    assert len(slack.uploads) == 3, "imagine, replace-bg and remove-bg each delivered a result"
    assert [c for c in bedrock.calls if c.operation == "Converse"], "the mention in the thread was described"
