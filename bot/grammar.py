"""The command grammar shared by slash commands, mentions and modals.

``key=value`` tokens anywhere in the text are options (values may be quoted);
Midjourney-style ``--key value`` means the same. Everything else is the prompt.
A ``key=`` token whose key is unknown is always an error, so a typo such as
``kep=car`` never ends up silently inside the prompt.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UsageError
from bot.messages import problem

# Slack turns typed quotes into typographic ones; treat them all alike.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_SLACK_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")  # <url|label> -> label
_SLACK_MARKUP = re.compile(r"<([^<>]+)>")  # <url>, <@U123> -> inner text
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")
# Control characters (other than whitespace) are never part of a prompt; models reject some.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TOKEN = re.compile(
    r"""
      (?P<key>[A-Za-z][\w-]*)=(?P<value>"[^"]*"|'[^']*'|\S*)
    | --(?P<flag>[A-Za-z][\w-]*)
    | (?P<quoted>"[^"]*")
    | (?P<word>\S+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Option:
    """One ``key=`` option a command accepts."""

    name: str
    example: str
    # Free-text options (``--no people, cars``) take every word up to the next
    # option in the ``--`` spelling; the others take exactly one word.
    free_text: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedText:
    """The prompt and the raw option values, keyed by canonical option name."""

    prompt: str
    options: dict[str, str] = field(default_factory=dict)


def clean_slack_text(text: str) -> str:
    """Strip a leading bot mention and Slack markup, and unescape entities."""
    text = _LEADING_MENTION.sub("", text)
    text = _SLACK_LINK.sub(r"\2", text)
    text = _SLACK_MARKUP.sub(r"\1", text)
    return _CONTROL.sub(" ", html.unescape(text).translate(_QUOTES)).strip()


def parse_text(command: str, text: str, options: Mapping[str, Option]) -> ParsedText:
    """Split ``text`` into prompt words and options for ``command``.

    Raises ``UsageError`` for unknown, repeated or empty options.
    """
    by_name = {alias: spec for spec in options.values() for alias in (spec.name, *spec.aliases)}
    tokens = list(_TOKEN.finditer(clean_slack_text(text)))
    prompt: list[str] = []
    values: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token["key"] is not None:
            spec = _lookup(command, token["key"], "=", by_name)
            _store(command, values, spec, _unquote(token["value"]))
        elif token["flag"] is not None:
            spec = _lookup(command, token["flag"], "", by_name, prefix="--")
            taken = 1 if not spec.free_text else _words_until_option(tokens, index)
            words = [_unquote(t.group(0)) for t in tokens[index : index + taken]]
            if not words or any(t["key"] or t["flag"] for t in tokens[index : index + taken]):
                raise UsageError(command, problem("flag_needs_value", flag=token["flag"], example=spec.example))
            index += taken
            _store(command, values, spec, " ".join(words))
        else:
            prompt.append(_unquote(token.group(0)) if token["quoted"] else token.group(0))
    return ParsedText(prompt=" ".join(prompt), options=values)


def _words_until_option(tokens: list[re.Match[str]], start: int) -> int:
    count = 0
    for token in tokens[start:]:
        if token["key"] is not None or token["flag"] is not None:
            break
        count += 1
    return count


def _lookup(
    command: str, key: str, suffix: str, by_name: Mapping[str, Option], prefix: str = ""
) -> Option:
    spec = by_name.get(key.lower())
    if spec is not None:
        return spec
    shown = f"{prefix}{key}{suffix}"
    close = difflib.get_close_matches(key.lower(), list(by_name), n=1, cutoff=0.6)
    if close:
        hint = by_name[close[0]].name
        raise UsageError(command, problem("unknown_option_hint", shown=shown, hint=hint))
    if not by_name:
        raise UsageError(command, problem("no_options", command=command, shown=shown))
    known = ", ".join(f"`{spec.name}=`" for spec in dict.fromkeys(by_name.values()))
    raise UsageError(command, problem("unknown_option", shown=shown, command=command, known=known))


def _store(command: str, values: dict[str, str], spec: Option, value: str) -> None:
    if spec.name in values:
        raise UsageError(command, problem("option_twice", name=spec.name))
    if not value.strip():
        raise UsageError(command, problem("option_needs_value", name=spec.name, example=spec.example))
    values[spec.name] = value.strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
