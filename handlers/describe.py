"""Reading images with Claude through the Converse API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.bedrock import converse
from handlers.errors import ModelBlocked, ModelFailed
from handlers.images import PreparedImage
from handlers.requests import DescribeRequest

SYSTEM_PROMPT = (
    "You help a marketing team work with their product and campaign photos. Answer in plain "
    "text that reads well in Slack: no preamble, no headings, no mention of being an AI."
)

PRESET_PROMPTS: dict[str, str] = {
    "caption": "Write one short, vivid caption for this image (at most 20 words).",
    "detail": (
        "Describe this image in detail: subject, setting, composition, colours, lighting, mood "
        "and anything notable for a marketer. At most 150 words."
    ),
    "alt": (
        "Write alt text for this image for someone using a screen reader: one or two sentences, "
        "under 125 characters, describing what matters. Do not start with 'Image of'."
    ),
    "objects": "List the distinct objects visible in this image as a short bulleted list ('• item').",
    "classify": (
        "Classify this image. Answer with three lines: 'Type:' (product shot, lifestyle, portrait, "
        "landscape, illustration, screenshot, document or other), 'Subject:' and 'Style:'."
    ),
    "subject": "Name the main subject of this image as a short noun phrase (two to five words), nothing else.",
    "story": "Write a short, warm story (about 80 words) inspired by this image, suitable for a brand blog.",
    "text": (
        "Transcribe all text visible in this image exactly, keeping line breaks. "
        "If there is none, say: No text found."
    ),
    "social": (
        "Write a social media post for this image: one or two engaging sentences, then three to "
        "five relevant hashtags on their own line."
    ),
}
# Presets whose answer belongs to one photo each, even when several were posted.
PER_IMAGE_PRESETS = frozenset({"alt", "subject", "text"})
_MAX_SUBJECT_WORDS = 8


def describe(
    client: Any, model_id: str, request: DescribeRequest, images: Sequence[PreparedImage]
) -> list[str]:
    """Answer ``request`` about ``images``: one answer, or one per image for per-image presets."""
    if request.preset in PER_IMAGE_PRESETS and len(images) > 1:
        return [ask(client, model_id, instruction(request, 1), [image]) for image in images]
    return [ask(client, model_id, instruction(request, len(images)), images)]


def name_subject(client: Any, model_id: str, image: PreparedImage) -> str:
    """The main subject of ``image`` as a short noun phrase, usable as a mask prompt."""
    answer = ask(client, model_id, PRESET_PROMPTS["subject"], [image])
    words = re.sub(r"[^\w\s'-]", " ", answer.splitlines()[0] if answer else "").split()
    if not words:
        raise ModelFailed("no_subject")
    return " ".join(words[:_MAX_SUBJECT_WORDS]).lower()


@dataclass(frozen=True)
class SubjectCheck:
    """Whether a cut-out shows what the person asked to keep, and what it does show."""

    matches: bool
    subject: str


def check_subject(client: Any, model_id: str, cutout: PreparedImage, expected: str) -> SubjectCheck:
    """Ask the vision model whether ``cutout`` (the kept subject, on white) is ``expected``."""
    answer = ask(client, model_id, (
        f"This is a subject cut out of a photo, shown on white. Is it (or does it mainly show) {expected!r}? "
        "Answer on one line: 'yes' or 'no', a semicolon, then name what it shows in two to five words."
    ), [cutout])
    verdict, _, named = answer.splitlines()[0].partition(";")
    words = re.sub(r"[^\w\s'-]", " ", named).split()
    # Only a clear "no" counts against the cut-out: an unsure answer must not block the job.
    return SubjectCheck(matches=not verdict.strip().lower().startswith("no"),
                        subject=" ".join(words[:_MAX_SUBJECT_WORDS]).lower() or expected)


def instruction(request: DescribeRequest, image_count: int) -> str:
    """The text instruction sent with the images."""
    if request.preset == "question":
        text = f"Answer this question about the image: {request.question}"
    elif request.preset == "translate":
        text = (
            f"Transcribe the text visible in this image and translate it into {request.language}. "
            "If there is no text, describe the image briefly in that language instead."
        )
    else:
        text = PRESET_PROMPTS[request.preset]
    if image_count > 1:
        text += f" There are {image_count} images; cover them all, referring to them as Image 1, Image 2, and so on."
    return text


def ask(client: Any, model_id: str, text: str, images: Sequence[PreparedImage], system: str = SYSTEM_PROMPT,
        max_tokens: int = 700) -> str:
    """One Converse call with ``images`` and ``text``; returns the answer text."""
    content: list[dict[str, Any]] = [
        {"image": {"format": image.format, "source": {"bytes": image.data}}} for image in images
    ]
    content.append({"text": text})
    response = converse(
        client,
        model_id,
        messages=[{"role": "user", "content": content}],
        system=[{"text": system}],
        # No temperature/top_p: newer Claude models (Haiku 5.5) refuse them, and the
        # defaults read well for captions and answers.
        inferenceConfig={"maxTokens": max_tokens},
    )
    if response.get("stopReason") in ("content_filtered", "guardrail_intervened"):
        raise ModelBlocked("The vision model's content filter blocked this request.")
    blocks = response.get("output", {}).get("message", {}).get("content", [])
    answer = "\n".join(block["text"] for block in blocks if "text" in block).strip()
    if not answer:
        raise ModelFailed("empty_answer")
    return answer
