"""Rules of the codebase that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.commands.table import COMMANDS
from bot.slack.manifest import http_manifest, load_manifest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_HANDLERS = ("bot", "slack_bolt", "slack_sdk")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_flow_from_bot_to_handlers_only() -> None:
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for module in imported_modules(path):
            root = module.split(".")[0]
            assert root not in FORBIDDEN_IN_HANDLERS, f"{path.name} imports {module}"


def test_handlers_never_read_the_environment_or_build_clients() -> None:
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        source = path.read_text()
        assert "os.environ" not in source and "getenv" not in source, path.name
        assert "boto3.client(" not in source and "boto3.Session(" not in source, path.name


def test_manifest_declares_every_command_the_app_serves() -> None:
    manifest = load_manifest()
    declared = {entry["command"].lstrip("/") for entry in manifest["features"]["slash_commands"]}
    assert {name for name, command in COMMANDS.items() if command.slash} == declared
    shortcuts = {entry["callback_id"] for entry in manifest["features"]["shortcuts"]}
    assert shortcuts == {"replace_background", "describe_image", "remove_background"}


def test_http_manifest_points_every_request_at_the_url() -> None:
    url = "https://abc.lambda-url.us-east-1.on.aws/slack/events"
    manifest = http_manifest(url)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {command["url"] for command in manifest["features"]["slash_commands"]} == {url}
    assert load_manifest()["settings"]["socket_mode_enabled"] is True, "the shipped file is unchanged"


# Each layer may import the layers after it and the shared modules (settings, errors, messages,
# jobs, store...), never a layer before it. The entry points and the start-up model check sit
# with the runtimes; the worker context (Slack I/O, clients) with the flows that use it.
LAYERS = (
    ("bot.runtime", "bot.bootstrap", "bot.__main__", "bot.doctor"),
    ("bot.listeners",),
    ("bot.commands",),
    ("bot.flows", "bot.context"),
    ("bot.slack",),
)
# The wording reads each command's usage, example and verb from its row in the table, the one
# place they are written; the table imports no wording, so this is no cycle.
KNOWN_UPWARD = {("bot.messages", "bot.commands.table")}


def _layer(module: str) -> int:
    """The module's layer (0 = the runtimes); shared modules come last."""
    for index, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    return len(LAYERS)


def test_imports_flow_one_way_from_runtime_to_slack() -> None:
    upward = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        layer = _layer(module)
        for imported in imported_modules(path):
            allowed = any(module.startswith(importer) and imported == target for importer, target in KNOWN_UPWARD)
            if imported.startswith("bot.") and _layer(imported) < layer and not allowed:
                upward.append(f"{module} imports {imported}")
    assert upward == []
