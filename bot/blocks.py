"""Pure Block Kit builders: data in, blocks out; no Slack calls."""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]


def text_blocks(text: str, context: str | None = None) -> list[Block]:
    """A markdown section, optionally followed by a small grey context line."""
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]})
    return blocks


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _text_input(block_id: str, label: str, placeholder: str, optional: bool = False,
                multiline: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline,
                    "placeholder": _plain(placeholder)},
    }


def _select(block_id: str, label: str, options: list[tuple[str, str]]) -> Block:
    choices = [_option(value, text) for value, text in options]
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {"type": "static_select", "action_id": "value", "options": choices, "initial_option": choices[0]},
    }


def _modal(callback_id: str, title: str, submit: str, metadata: str, blocks: list[Block]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def replace_background_modal(metadata: str) -> dict[str, Any]:
    """The modal the "Replace background…" shortcut opens."""
    return _modal("replace_background_modal", "Replace background", "Replace", metadata, [
        _text_input("background", "New background", "beach at sunset", multiline=True),
        _text_input("keep", "What to keep", "leave empty and Studio finds the subject", optional=True),
        _select("mode", "Mode", [("default", "Default"), ("precise", "Precise (sharper subject edges)")]),
    ])


def describe_modal(metadata: str, presets: dict[str, str]) -> dict[str, Any]:
    """The modal the "Describe image" shortcut opens."""
    return _modal("describe_modal", "Describe image", "Describe", metadata, [
        _select("preset", "What do you need?", list(presets.items())),
        _text_input("question", "…or ask a question", "what colour is the car?", optional=True),
        _text_input("language", "…or translate the text in it into", "German", optional=True),
    ])


def modal_values(view: dict[str, Any]) -> dict[str, str]:
    """The submitted values of a modal built here, by block id."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        field = actions.get("value", {})
        chosen = field.get("selected_option") or {}
        values[block_id] = (field.get("value") or chosen.get("value") or "").strip()
    return values


def home_view(usage: str, help_text: str) -> dict[str, Any]:
    """The App Home tab: the person's usage today, then how to use Studio."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": _plain("Studio")},
            {"type": "section", "text": {"type": "mrkdwn", "text": usage[:3000]}},
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": help_text[:3000]}},
        ],
    }
