"""The command table drives every command's words, and the error registry words every error."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from bot import errors, messages
from bot.commands.intake import parse_request, request_fields
from bot.commands.table import COMMANDS
from bot.errors import KnownError, UsageError
from bot.settings import Settings
from handlers import errors as model_errors

SLASH = [name for name, command in COMMANDS.items() if command.slash]
GENERIC = messages.error_message(RuntimeError("boom"))


@pytest.mark.parametrize("stack", ["stability", "amazon"])
@pytest.mark.parametrize("name", SLASH)
def test_every_example_parses_with_its_own_row(name: str, stack: str) -> None:
    command = COMMANDS[name]
    if stack == "amazon" and command.model_role.name.startswith("UPSCALE"):
        pytest.skip("the Amazon stack has no upscaler")
    text = command.example.removeprefix(f"/{name}")
    if stack == "amazon" and name == "formats":
        with pytest.raises(UsageError) as refused:
            parse_request(name, text, Settings.from_env({"STUDIO_MODELS": stack}))
        assert "needs the Stability stack" in messages.error_message(refused.value)
        return
    request = parse_request(name, text, Settings.from_env({"STUDIO_MODELS": stack}))
    assert isinstance(request, command.request_type)
    # What the job carries: the shallow copy must stay equal to the deep one (plain values only).
    assert request_fields(request) == dataclasses.asdict(request)
    assert command.request_type(**request_fields(request)) == request


@pytest.mark.parametrize("name", SLASH)
def test_help_usage_and_how_tos_come_from_the_row(name: str) -> None:
    command = COMMANDS[name]
    assert command.usage and command.example.startswith(f"/{name}")
    assert messages.usage(name) == f"{command.usage}\nExample: `{command.example}`"
    assert f"@Studio {command.example.lstrip('/')}" in messages.mention_help()
    assert command.example in messages.home_help()


def test_a_missing_prompt_is_asked_for_in_the_commands_words() -> None:
    for name, command in COMMANDS.items():
        if command.prompt_ask:
            problem = messages.usage_problem(UsageError(name, "missing_prompt"))
            assert problem == f"{command.prompt_ask} after `/{name}`."


def test_photo_edits_say_what_was_asked_for() -> None:
    for name in ("edit", "extend", "remove-bg", "upscale", "variations"):
        assert messages.edit_started("U1", name, None) == f"<@U1> asked for {COMMANDS[name].verb}"


def _error_types() -> list[type[KnownError]]:
    found = {kind for module in (errors, model_errors) for _, kind in inspect.getmembers(module, inspect.isclass)
             if issubclass(kind, KnownError)}
    return sorted(found - {KnownError, errors.StudioError, model_errors.ModelError}, key=lambda kind: kind.__name__)


@pytest.mark.parametrize("kind", _error_types(), ids=lambda kind: kind.__name__)
def test_every_error_type_has_its_own_words(kind: type[KnownError]) -> None:
    """A new error class without an entry in the registry would be told as a crash."""
    samples: dict[str, object] = {
        "command": "imagine", "problem": "ar_and_size", "what": "form", "reason": "none_recent", "name": "",
        "code": "empty_answer", "model_id": "m", "region": "r", "profile": "p", "task": "INPAINTING",
        "capable": ("x",), "setting": "STUDIO_UPSCALE_MODEL", "stack": "amazon", "expected": "car", "kept": "cat",
        "seconds": 60.0, "count": 3, "limit": 2, "where": "user", "admins": (), "scope": "user", "used": 1,
        "requested": 2, "status": None, "marketplace": False, "cause": RuntimeError(), "known": ("square",),
        "width": 50, "height": 40, "min_side": 64, "targets": ("story 1080x1920",), "min_width": 540,
        "min_height": 960, "min_edge": 100, "detail": "unreadable",
    }
    samples |= {"InvalidImage": {"code": "empty"}, "ModelUnavailable": {"reason": "end_of_life"},
                "BrandRefused": {"reason": "locked"}}.get(kind.__name__, {})
    parameters = list(inspect.signature(kind.__init__).parameters.values())[1:]
    arguments = {p.name: samples[p.name] for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD}
    error = kind(**arguments)
    if kind is errors.AlreadyReported:
        assert messages.failure_reason(error) == "crash"  # the cause's reason; the flow told the person
        return
    assert messages.error_message(error) != GENERIC
