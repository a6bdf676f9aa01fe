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
