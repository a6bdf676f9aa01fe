"""Pure Block Kit builders: data in, blocks out; no Slack calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.errors import OutOfDate

Block = dict[str, Any]


SECTION_LIMIT = 3000  # characters in one section block
MAX_SECTIONS = 40  # of Slack's 50 blocks per message, leaving room for context and buttons
# Images a result shows in the message itself (like Midjourney's grid); every file is in the thread.
MAX_INLINE_IMAGES = 4
# An image to show inline: (Slack file id, alt text).
InlineImage = tuple[str, str]


def text_blocks(text: str, context: str | None = None, images: Sequence[InlineImage] = ()) -> list[Block]:
    """Markdown sections (long text split at line breaks), the first few ``images``, then an optional
    grey context line."""
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _split(text)[:MAX_SECTIONS]
    ]
    blocks += image_blocks(images)
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]})
    return blocks


def image_blocks(images: Sequence[InlineImage]) -> list[Block]:
    """Image blocks showing uploaded files by id (Slack must have processed them; see ``SlackIO.finish``)."""
    return [{"type": "image", "slack_file": {"id": file_id}, "alt_text": (alt or "Image")[:2000]}
            for file_id, alt in images[:MAX_INLINE_IMAGES]]


def _split(text: str) -> list[str]:
    parts: list[str] = []
    while len(text) > SECTION_LIMIT:
        cut = text.rfind("\n", 0, SECTION_LIMIT)
        cut = cut if cut > 0 else SECTION_LIMIT
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text] if text or not parts else parts


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


def form_metadata(view: dict[str, Any], **fields: type) -> dict[str, Any]:
    """A form's ``private_metadata`` as Studio wrote it, with ``fields`` of the given types.

    Raises ``OutOfDate`` for anything else (an old form, a garbled request).
    """
    try:
        metadata = json.loads(view.get("private_metadata") or "")
    except ValueError:
        raise OutOfDate("form") from None
    if not isinstance(metadata, dict) or not all(isinstance(metadata.get(k), t) for k, t in fields.items()):
        raise OutOfDate("form")
    return metadata


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


# What a result's buttons do, in the order they are shown.
IMAGE_ACTIONS: dict[str, str] = {
    "variations": "Variations",
    "remove-bg": "Remove background",
    "upscale": "Upscale",
    "extend": "Extend…",
    "formats": "All formats",
    "describe": "Describe",
}
ACTION_PREFIX = "studio_"
# Beyond this (a batch), per-image menus would crowd the message; use the photos' own shortcuts.
MAX_IMAGE_MENUS = 5


def action_value(action: str, ref: str, index: int = 0) -> str:
    """The compact value a result button carries: what to do, to which result, to which image."""
    return f"{action}|{ref}|{index}"


def parse_action_value(value: str) -> tuple[str, str, int]:
    """``action_value`` read back; raises ValueError for anything else (an old or garbled button)."""
    action, ref, index = value.split("|")
    if action not in ("reroll", "enhance", *IMAGE_ACTIONS) or not ref or not index.isdigit():
        raise ValueError(f"not a Studio button value: {value[:40]!r}")
    return action, ref, int(index)


def result_blocks(text: str, context: str, ref: str, image_count: int, rerollable: bool,
                  enhanceable: bool = False, images: Sequence[InlineImage] = ()) -> list[Block]:
    """A result message: what was asked, the first ``images`` inline, how it was made, and buttons for the next step.

    One image gets a button per action; several get a menu per image, so each
    image can be varied, cut out, extended or described on its own. ``enhanceable``
    adds Enhance prompt (the same request again, with a richer prompt).
    """
    elements: list[dict[str, Any]] = []
    if rerollable:
        elements.append(_button("reroll", "Re-roll", action_value("reroll", ref)))
    if enhanceable:
        elements.append(_button("enhance", "Enhance prompt", action_value("enhance", ref)))
    if image_count == 1:
        elements += [_button(action, label, action_value(action, ref)) for action, label in IMAGE_ACTIONS.items()]
    elif image_count <= MAX_IMAGE_MENUS:
        for index in range(image_count):
            elements.append({
                "type": "static_select",
                "action_id": f"{ACTION_PREFIX}image_{index + 1}",
                "placeholder": _plain(f"Image {index + 1}…"),
                "options": [_option(action_value(action, ref, index), label)
                            for action, label in IMAGE_ACTIONS.items()],
            })
    if not elements:
        return text_blocks(text, context, images)
    return [*text_blocks(text, context, images),
            {"type": "actions", "block_id": "result_actions", "elements": elements}]


def _button(action: str, label: str, value: str) -> dict[str, Any]:
    return {"type": "button", "action_id": f"{ACTION_PREFIX}{action}", "text": _plain(label), "value": value}


def extend_modal(metadata: str) -> dict[str, Any]:
    """The modal the Extend button opens: which format, and what to paint around."""
    return _modal("extend_modal", "Extend image", "Extend", metadata, [
        _select("format", "New format", [
            ("story", "Story 9:16"), ("square", "Square 1:1"), ("banner", "Banner 16:9"),
            ("portrait", "Portrait 4:5"), ("4:3", "Landscape 4:3"),
        ]),
        _text_input("prompt", "New surroundings", "city street at dusk", multiline=True),
    ])
