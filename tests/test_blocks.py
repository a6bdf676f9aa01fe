"""Every payload ``bot.slack.blocks`` builds is valid Block Kit, within Slack's published limits.

Slack answers an over-long text or a duplicate action id with ``invalid_blocks``
and the person sees nothing, so the limits are checked here, on the real
builders with the real texts, at their largest inputs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import messages
from bot.slack.blocks import (
    IMAGE_ACTIONS,
    MAX_IMAGE_MENUS,
    MAX_INLINE_IMAGES,
    SECTION_LIMIT,
    action_value,
    describe_modal,
    extend_modal,
    home_view,
    parse_action_value,
    replace_background_modal,
    result_blocks,
    text_blocks,
)
from tests.fakes.slack import validate_blocks

# https://docs.slack.dev/reference/block-kit/ (blocks, block elements, composition objects, views)
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255  # action_id, block_id, callback_id
MAX_SELECT_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_HEADER_TEXT = 150
MAX_INPUT_LABEL = 2000
MAX_VIEW_TITLE = 24  # also the submit and close buttons
MAX_PRIVATE_METADATA = 3000
MAX_ALT_TEXT = 2000

REF = "0123456789abcdef"  # the length save_result gives a reference


def plain_text(obj: dict[str, Any], limit: int) -> None:
    assert obj["type"] == "plain_text", obj
    assert 0 < len(obj["text"]) <= limit, obj


def check_option(option: dict[str, Any]) -> None:
    plain_text(option["text"], MAX_OPTION_TEXT)
    assert 0 < len(option["value"]) <= MAX_OPTION_VALUE, option


def check_element(element: dict[str, Any], action_ids: list[str]) -> None:
    action_ids.append(element["action_id"])
    assert 0 < len(element["action_id"]) <= MAX_ID
    if element["type"] == "button":
        plain_text(element["text"], MAX_BUTTON_TEXT)
        assert 0 < len(element["value"]) <= MAX_BUTTON_VALUE
    elif element["type"] == "static_select":
        assert 0 < len(element["options"]) <= MAX_SELECT_OPTIONS
        for option in element["options"]:
            check_option(option)
        if "initial_option" in element:
            assert element["initial_option"] in element["options"]
        if "placeholder" in element:
            plain_text(element["placeholder"], MAX_PLACEHOLDER)
    elif element["type"] == "plain_text_input":
        plain_text(element["placeholder"], MAX_PLACEHOLDER)
    else:
        raise AssertionError(f"unexpected element {element['type']}")


def check_blocks(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    """Structure and limits of a block list; action ids unique per block, block ids unique overall."""
    assert 0 < len(blocks) <= max_blocks
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), block_ids
    assert all(0 < len(block_id) <= MAX_ID for block_id in block_ids)
    for block in blocks:
        action_ids: list[str] = []
        kind = block["type"]
        if kind == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
        elif kind == "context":
            assert 0 < len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            assert all(0 < len(element["text"]) <= MAX_CONTEXT_TEXT for element in block["elements"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= MAX_ACTIONS_ELEMENTS
            for element in block["elements"]:
                check_element(element, action_ids)
        elif kind == "input":
            plain_text(block["label"], MAX_INPUT_LABEL)
            check_element(block["element"], action_ids)
        elif kind == "header":
            plain_text(block["text"], MAX_HEADER_TEXT)
        elif kind == "image":
            # Exactly one source; a Slack file by id (https://docs.slack.dev/reference/block-kit/blocks/image-block).
            assert set(block) == {"type", "slack_file", "alt_text"} and set(block["slack_file"]) == {"id"}, block
            assert 0 < len(block["alt_text"]) <= MAX_ALT_TEXT
        else:
            assert kind == "divider", kind
        assert len(action_ids) == len(set(action_ids)), action_ids


def check_message(blocks: list[dict[str, Any]]) -> None:
    check_blocks(blocks, MAX_MESSAGE_BLOCKS)
    # Slack wants action ids unique across the whole message, not only within a block.
    action_ids = [element["action_id"] for block in blocks for element in block.get("elements", [])
                  if "action_id" in element]
    assert len(action_ids) == len(set(action_ids)), action_ids


def check_modal(view: dict[str, Any]) -> None:
    assert view["type"] == "modal"
    for key in ("title", "submit", "close"):
        plain_text(view[key], MAX_VIEW_TITLE)
    assert 0 < len(view["callback_id"]) <= MAX_ID
    assert len(view["private_metadata"]) <= MAX_PRIVATE_METADATA
    check_blocks(view["blocks"], MAX_VIEW_BLOCKS)


# --- messages --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "short",
    "x" * SECTION_LIMIT,
    "x" * (SECTION_LIMIT + 1),  # no line break to cut at
    ("a line of an answer\n" * 2000),  # 40,000 characters, cut at line breaks
    "y" * 200_000,  # far beyond what fits in one message
], ids=["short", "exactly-one-section", "one-over", "many-lines", "huge"])
@pytest.mark.parametrize("context", [None, "Working…", "c" * 5000], ids=["no-context", "context", "long-context"])
def test_text_blocks_are_valid_at_any_length(text: str, context: str | None) -> None:
    blocks = text_blocks(text, context)
    check_message(blocks)
    assert (blocks[-1]["type"] == "context") is bool(context)


def test_text_blocks_keep_the_whole_text_while_it_fits() -> None:
    text = "a line of an answer\n" * 2000
    sections = [block["text"]["text"] for block in text_blocks(text)]
    assert len(sections) > 1
    assert "\n".join(sections).strip() == text.strip()


@pytest.mark.parametrize("image_count", [0, 1, 2, MAX_IMAGE_MENUS, MAX_IMAGE_MENUS + 1, 20])
@pytest.mark.parametrize("rerollable", [True, False])
def test_result_blocks_are_valid_for_any_number_of_images(image_count: int, rerollable: bool) -> None:
    blocks = result_blocks("<@U1> asked for " + "a red car " * 400, "c" * 4000, REF, image_count, rerollable)
    check_message(blocks)


@pytest.mark.parametrize("shown", [1, 2, MAX_INLINE_IMAGES, 20])
def test_result_blocks_show_at_most_four_images_inline_and_stay_valid(shown: int) -> None:
    images = [(f"F{index:09d}", "Generated image: " + "a red car " * 400) for index in range(shown)]
    blocks = result_blocks("<@U1> asked for " + "a red car " * 4000, "c" * 4000, REF, shown, True, images=images)
    check_message(blocks)
    inline = [block for block in blocks if block["type"] == "image"]
    assert [block["slack_file"]["id"] for block in inline] == [file_id for file_id, _ in images[:MAX_INLINE_IMAGES]]
    kinds = [block["type"] for block in blocks]
    assert kinds.index("context") > kinds.index("image") > kinds.index("section"), "images under the heading"
    assert validate_blocks(blocks) == []


def test_each_image_of_a_result_gets_its_own_menu() -> None:
    [actions] = [block for block in result_blocks("heading", "how", REF, 3, True) if block["type"] == "actions"]
    reroll, *menus = actions["elements"]
    assert parse_action_value(reroll["value"]) == ("reroll", REF, 0)
    assert len(menus) == 3
    for index, menu in enumerate(menus):
        assert [parse_action_value(option["value"]) for option in menu["options"]] == [
            (action, REF, index) for action in IMAGE_ACTIONS]


def test_a_single_image_gets_one_button_per_action() -> None:
    [actions] = [block for block in result_blocks("heading", "how", REF, 1, False) if block["type"] == "actions"]
    assert [parse_action_value(button["value"])[0] for button in actions["elements"]] == list(IMAGE_ACTIONS)


def test_action_values_fit_an_option_and_read_back() -> None:
    value = action_value("remove-bg", REF, MAX_IMAGE_MENUS - 1)
    assert len(value) <= MAX_OPTION_VALUE
    assert parse_action_value(value) == ("remove-bg", REF, MAX_IMAGE_MENUS - 1)


@pytest.mark.parametrize("value", ["", "reroll", "nuke|abc|0", "reroll||0", "reroll|abc|x", "a|b|c|d"])
def test_garbled_action_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_action_value(value)


# --- views -----------------------------------------------------------------------------------

def _shortcut_metadata(files: int) -> str:
    """The largest metadata a shortcut writes: a message with Slack's maximum of files."""
    return json.dumps({
        "channel_id": "C0123456789",
        "message": {"ts": "1700000000.123456", "thread_ts": "1700000000.000100", "files": [
            {"id": f"F{index:010d}", "mimetype": "image/jpeg"} for index in range(files)]},
        "response_url": "https://hooks.slack.com/app/T0123456789/1234567890123/" + "x" * 24,
    })


def test_replace_background_modal_is_valid() -> None:
    check_modal(replace_background_modal(_shortcut_metadata(10)))


def test_describe_modal_is_valid_with_every_preset() -> None:
    view = describe_modal(_shortcut_metadata(10), messages.DESCRIBE_CHOICES)
    check_modal(view)
    [preset] = [block for block in view["blocks"] if block["block_id"] == "preset"]
    assert [option["value"] for option in preset["element"]["options"]] == list(messages.DESCRIBE_CHOICES)


def test_extend_modal_is_valid() -> None:
    check_modal(extend_modal(json.dumps({"ref": REF, "index": MAX_IMAGE_MENUS - 1})))


@pytest.mark.parametrize("usage", ["You made 3 of 50 images today.", "u" * 5000])
def test_home_view_is_valid(usage: str) -> None:
    view = home_view(usage, messages.home_help())
    assert view["type"] == "home"
    check_blocks(view["blocks"], MAX_VIEW_BLOCKS)
