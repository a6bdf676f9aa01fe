"""Making text from people and models safe inside Studio's Slack messages."""

from __future__ import annotations

import datetime as dt


def escape(text: str) -> str:
    """Text from people or models made inert for Slack: no mentions, links or broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

def quote(text: str) -> str:
    """Quote user text safely inside a Slack blockquote."""
    return escape(text).replace("\n", "\n> ")

def until(moment: dt.datetime) -> str:
    """How long until ``moment``: ``in 3 h 05 min``."""
    minutes = max(0, int((moment - dt.datetime.now(dt.UTC)).total_seconds() // 60))
    return f"in {minutes // 60} h {minutes % 60:02d} min"
