"""The command grammar shared by slash commands, mentions and modals.

``key=value`` tokens anywhere in the text are options (values may be quoted,
and a comma continues a free-text value: ``no=people, cars``); Midjourney-style
``--key value`` means the same. Everything else is the prompt. An unclosed
quote is an error rather than a guess at where the value ends.
A ``key=`` token whose key is unknown is always an error, so a typo such as
``kep=car`` never ends up silently inside the prompt.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import UsageError

# Slack turns typed quotes into typographic ones; treat them all alike.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_SLACK_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")  # <url|label> -> label
_SLACK_MARKUP = re.compile(r"<([^<>]+)>")  # <url>, <@U123> -> inner text
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")
# Control characters (other than whitespace) are never part of a prompt; models reject some.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# An S3 folder as a word of its own (bare, or as Slack markup ``<s3://…>`` / ``<s3://…|label>``).
_S3_FOLDER = re.compile(r"(?<!\S)<?(s3://[^\s<>|]+)(?:\|[^<>]*)?>?(?!\S)")
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
    # A switch is on when named alone: ``--enhance``, or its name as the text's last word
    # (``/imagine sneaker enhance``); ``enhance=off`` spells it out.
    switch: bool = False


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


def split_s3_folder(command: str, text: str) -> tuple[str | None, str]:
    """The ``s3://bucket/prefix/`` word in ``text`` (a batch's photos, never prompt words) and the rest."""
    folders = _S3_FOLDER.findall(text)
    if len(folders) > 1:
        raise UsageError(command, "one_s3_folder")
    if not folders:
        return None, text
    return folders[0], _S3_FOLDER.sub("", text).strip()


def field_text(fields: Mapping[str, str], name: str) -> str:
    """A form field's text as a value: control characters dropped, never parsed as options."""
    return _CONTROL.sub(" ", fields.get(name, "")).strip()


def parse_text(command: str, text: str, options: Mapping[str, Option]) -> ParsedText:
    """Split ``text`` into prompt words and options for ``command``.

    Raises ``UsageError`` for unknown, repeated or empty options.
    """
    by_name = {alias: spec for spec in options.values() for alias in (spec.name, *spec.aliases)}
    tokens = list(_TOKEN.finditer(clean_slack_text(text)))
    prompt: list[str] = []
    values: dict[str, str] = {}
    index = 0
    last_word_bare = False
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token["key"] is not None:
            index = _key_option(command, tokens, index, by_name, values)
        elif token["flag"] is not None:
            index = _flag_option(command, tokens, index, by_name, values)
        else:
            _check_closed(command, token.group(0), '"')
            prompt.append(_unquote(token.group(0)) if token["quoted"] else token.group(0))
        last_word_bare = token["word"] is not None and index == len(tokens)
    switch = by_name.get(prompt[-1].lower()) if prompt and last_word_bare else None
    if switch is not None and switch.switch and prompt[-1].lower() == switch.name:
        _store(command, values, switch, "on")
        prompt.pop()
    return ParsedText(prompt=" ".join(prompt), options=values)


def _key_option(command: str, tokens: list[re.Match[str]], index: int, by_name: Mapping[str, Option],
                values: dict[str, str]) -> int:
    """Store the ``key=value`` option at ``tokens[index - 1]``; returns the index after its value."""
    token = tokens[index - 1]
    spec = _lookup(command, token["key"], "=", by_name)
    _check_closed(command, token["value"], "\"'")
    taken = _list_continuation(tokens, index) if spec.free_text else 0
    words = [token["value"]] + [t.group(0) for t in tokens[index : index + taken]]
    for word in words[1:]:
        _check_closed(command, word, '"')
    value = " ".join(_unquote(word) for word in words)
    _store(command, values, spec, _tidy_list(value) if spec.free_text else value.strip(" ,"))
    return index + taken


def _flag_option(command: str, tokens: list[re.Match[str]], index: int, by_name: Mapping[str, Option],
                 values: dict[str, str]) -> int:
    """Store the ``--key value`` option at ``tokens[index - 1]``; returns the index after its value."""
    token = tokens[index - 1]
    spec = _lookup(command, token["flag"], "", by_name, prefix="--")
    if spec.switch:
        _store(command, values, spec, "on")
        return index
    taken = 1 if not spec.free_text else _words_until_option(tokens, index)
    value_tokens = tokens[index : index + taken]
    if not value_tokens or any(t["key"] or t["flag"] for t in value_tokens):
        raise UsageError(command, "flag_needs_value", flag=token["flag"], example=spec.example)
    for word in value_tokens:
        _check_closed(command, word.group(0), '"')
    _store(command, values, spec, " ".join(_unquote(t.group(0)) for t in value_tokens))
    return index + taken


def _list_continuation(tokens: list[re.Match[str]], start: int) -> int:
    """How many tokens after ``tokens[start - 1]`` continue its comma-separated list."""
    count = 0
    previous = tokens[start - 1]["value"] or ""
    for token in tokens[start:]:
        word = token.group(0)
        if token["key"] is not None or token["flag"] is not None:
            break
        if not (previous.endswith(",") or word.startswith(",")):
            break
        count += 1
        previous = word
    return count


def _tidy_list(value: str) -> str:
    """``people ,cars,`` -> ``people, cars``: one spelling of a comma-separated list."""
    return ", ".join(part.strip() for part in value.split(",") if part.strip())


def _check_closed(command: str, word: str, quotes: str) -> None:
    """A word that opens a quote the tokenizer could not close means the closing quote is missing."""
    if word and word[0] in quotes and not (len(word) >= 2 and word[-1] == word[0]):
        raise UsageError(command, "unclosed_quote", shown=word[:30])


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
    import difflib  # only for this hint: ~1 ms of the ingress's cold import otherwise (its snapshot imports it)

    close = difflib.get_close_matches(key.lower(), list(by_name), n=1, cutoff=0.6)
    if close:
        hint = by_name[close[0]].name
        raise UsageError(command, "unknown_option_hint", shown=shown, hint=hint)
    if not by_name:
        raise UsageError(command, "no_options", shown=shown)
    known = ", ".join(f"`{spec.name}=`" for spec in dict.fromkeys(by_name.values()))
    raise UsageError(command, "unknown_option", shown=shown, known=known)


def _store(command: str, values: dict[str, str], spec: Option, value: str) -> None:
    if spec.name in values:
        raise UsageError(command, "option_twice", name=spec.name)
    if not value.strip():
        raise UsageError(command, "option_needs_value", name=spec.name, example=spec.example)
    values[spec.name] = value.strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
