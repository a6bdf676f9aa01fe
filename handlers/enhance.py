"""Prompt help: the text model turns a short /imagine prompt into a richer one, in the same language."""

from __future__ import annotations

import re
from typing import Any

from handlers.describe import ask
from handlers.errors import ModelFailed

# The enhanced prompt stays short enough to show in a message's context line and to
# read back; image models weigh the first words most anyway.
MAX_ENHANCED_CHARS = 600
# What is sent: a prompt longer than this is already rich.
MAX_INPUT_CHARS = 2_000

SYSTEM_PROMPT = (
    "You rewrite short prompts for a text-to-image model used by a marketing team. Keep the subject, "
    "intent and every concrete detail the person gave; add what a photographer would decide: lighting, "
    "lens and camera, composition, setting and mood. Write in the same language as the prompt. Answer "
    "with the rewritten prompt only: one paragraph, no quotes, no title, no explanation."
)
# A label the model may put in front despite the instruction ("Prompt:", "Enhanced prompt -").
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:enhanced|improved|rewritten|new)?\s*prompt\s*(?:\*\*)?\s*[:\-–]\s*(?:\*\*)?\s*", re.I)
_QUOTES = "\"'“”‘’«»„`"


def enhance_prompt(client: Any, model_id: str, prompt: str, max_chars: int = MAX_ENHANCED_CHARS) -> str:
    """A richer version of ``prompt`` (lighting, lens, composition), at most ``max_chars`` characters.

    ``model_id`` is the vision/text model (Claude through Converse). Raises
    ``ModelFailed("empty_answer")`` when nothing usable comes back, and the usual
    model errors (``ModelBlocked`` for a filtered request).
    """
    text = " ".join(prompt.split())[:MAX_INPUT_CHARS]
    if not text:
        raise ValueError("nothing to enhance")
    answer = ask(client, model_id, f"Prompt to enhance (at most {max_chars} characters):\n{text}", [],
                 system=SYSTEM_PROMPT, max_tokens=max(64, max_chars // 2))
    enhanced = clean_answer(answer, max_chars)
    if not enhanced:
        raise ModelFailed("empty_answer")
    return enhanced


def clean_answer(answer: str, max_chars: int) -> str:
    """The prompt alone: first paragraph, no label or quotes, cut at a word within ``max_chars``."""
    paragraph = next((part for part in re.split(r"\n\s*\n", answer.strip()) if part.strip()), "")
    text = _LABEL.sub("", " ".join(paragraph.split())).strip().strip(_QUOTES).strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars + 1].rsplit(" ", 1)[0] if " " in text[:max_chars + 1] else text[:max_chars]
    return cut[:max_chars].rstrip(" ,;:-–")
