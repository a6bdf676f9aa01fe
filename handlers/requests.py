"""The parsed request of every command.

Each is a frozen dataclass of plain values, so a job can carry it through a
queue as JSON. This module imports nothing heavy: the Slack ingress uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO_SUBJECT = "auto"
# The /describe presets (their prompts are in handlers.describe, their names in bot.messages).
DESCRIBE_PRESETS = ("caption", "detail", "alt", "objects", "classify", "subject", "story", "text", "social")


@dataclass(frozen=True)
class ImagineRequest:
    """A validated /imagine request; sizes are already fitted to the model."""

    prompt: str
    width: int
    height: int
    negative: str = ""
    count: int = 1
    seed: int | None = None
    quality: str = "standard"
    cfg_scale: float | None = None
    # The shape the person asked for (``ar=`` or ``size=``), to say so when the model offers another.
    asked_ratio: str = ""
    # False (``brand=off``): ignore the channel's brand kit.
    brand: bool = True
    # ``on``/``off`` (``logo=``): place the kit's logo or not; empty: as the kit says.
    logo: str = ""
    # Ask the text model for a richer prompt first; ``enhanced`` is its answer once written,
    # so a retry or Re-roll sends the same prompt again.
    enhance: bool = False
    enhanced: str = ""

    @property
    def final_prompt(self) -> str:
        """The prompt the image model is given."""
        return self.enhanced or self.prompt


@dataclass(frozen=True)
class ReplaceBackgroundRequest:
    """Keep ``keep`` (a mask prompt, or ``auto``) and paint ``prompt`` around it."""

    prompt: str
    keep: str = AUTO_SUBJECT
    precise: bool = False
    negative: str = ""
    count: int = 1
    seed: int | None = None


@dataclass(frozen=True)
class DescribeRequest:
    """A preset (``caption``, ``alt``, ...) or a free ``question`` about the image."""

    preset: str = "caption"
    question: str = ""
    language: str = ""


@dataclass(frozen=True)
class EditRequest:
    """Repaint the part named by ``mask`` (or the second image as mask) with ``prompt``."""

    prompt: str
    mask: str = ""
    negative: str = ""
    count: int = 1
    seed: int | None = None


@dataclass(frozen=True)
class ExtendRequest:
    """Outpaint the photo to ``ratio_w:ratio_h`` with ``prompt`` as the new surroundings."""

    prompt: str
    ratio_w: int
    ratio_h: int
    negative: str = ""
    count: int = 1
    seed: int | None = None


@dataclass(frozen=True)
class RemoveBackgroundRequest:
    """Cut the subject out onto a transparent background."""


@dataclass(frozen=True)
class VariationsRequest:
    """New images in the spirit of a result; ``prompt`` guides them if known.

    Titan/Nova take ``similarity`` (higher keeps more); Stability's image-to-image
    takes ``strength`` (higher moves further from the image).
    """

    prompt: str = ""
    count: int = 1
    seed: int | None = None
    similarity: float = 0.7
    strength: float = 0.6


UPSCALE_MODES = ("fast", "conservative", "creative")


@dataclass(frozen=True)
class UpscaleRequest:
    """Enlarge the photo: ``fast`` (4x), ``conservative`` (to ~4 MP) or ``creative``; ``prompt`` guides the last two."""

    mode: str = "fast"
    prompt: str = ""
    seed: int | None = None


BRAND_ACTIONS = ("show", "style", "logo", "clear", "lock", "unlock")
# ``/brand logo=…``: the logo on every /imagine result of the channel, or only with ``logo=on``.
LOGO_MODES = ("always", "optional")


@dataclass(frozen=True)
class BrandRequest:
    """A /brand subcommand (``BRAND_ACTIONS``), or ``logo_mode`` to change when the logo is placed."""

    action: str = "show"
    logo_mode: str = ""


@dataclass(frozen=True)
class FormatsRequest:
    """Every format of the photo: ``formats`` are ``name=WxH`` entries (``story=1080x1920``), in order.

    The sizes travel with the job, so a change to ``STUDIO_FORMATS`` meanwhile does not change what is made.
    """

    formats: tuple[str, ...] = ()
    seed: int | None = None
