"""A batch's contact sheet: before/after thumbnails in a grid, each with its photo's name and outcome."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from handlers.errors import InvalidImage
from handlers.images import decode_rgb, encode

MAX_ENTRIES = 100
# Thumbnail side: larger while a sheet is short, smaller once it would run to many rows.
THUMB, THUMB_MANY = 200, 128
GAP = 12  # between the two thumbnails of a cell and around cells
TEXT_LINES, LINE_HEIGHT, FONT_SIZE = 2, 17, 13
BACKGROUND = (255, 255, 255)
PLACEHOLDER = (226, 226, 226)  # where a thumbnail is missing (failed, or unreadable)
INK, FAILED_INK, MUTED_INK = (29, 28, 29), (224, 30, 90), (97, 96, 97)


@dataclass(frozen=True)
class SheetEntry:
    """One photo of a batch: its name, the photo, the result (None when it failed) and the outcome in words."""

    name: str
    before: bytes | None
    after: bytes | None
    outcome: str
    failed: bool = False


def contact_sheet(entries: Sequence[SheetEntry], columns: int | None = None, more: int = 0) -> bytes:
    """A PNG grid of ``entries`` (at most ``MAX_ENTRIES`` shown; a last line ``+N`` counts the rest).

    ``more`` counts photos of the batch the caller left out of ``entries`` (a
    large batch keeps only its first photos' thumbnails); the ``+N`` counts them too.

    Each cell shows the photo and its result side by side, then the name and the
    outcome, worded by the caller (in red for a failure, whose result is a grey
    placeholder). A photo that cannot be read gets a placeholder too.
    """
    if not entries:
        raise ValueError("a contact sheet needs at least one entry")
    shown = list(entries[:MAX_ENTRIES])
    layout = _Layout.for_count(len(shown), columns)
    hidden = len(entries) - len(shown) + more
    footer = LINE_HEIGHT + GAP if hidden > 0 else 0
    sheet = Image.new("RGB", (layout.width, layout.height + footer), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=FONT_SIZE)
    thumb, text_width = layout.thumb, layout.cell_width
    for index, entry in enumerate(shown):
        x, y = layout.origin(index)
        _paste_thumb(sheet, entry.before, (x, y), thumb)
        _paste_thumb(sheet, None if entry.failed else entry.after, (x + thumb + GAP, y), thumb)
        text_y = y + thumb + GAP // 2
        draw.text((x, text_y), _fit(draw, entry.name, font, text_width), fill=INK, font=font)
        draw.text((x, text_y + LINE_HEIGHT), _fit(draw, entry.outcome, font, text_width),
                  fill=FAILED_INK if entry.failed else MUTED_INK, font=font)
    if footer:
        # A number, not a sentence: every sentence a person reads lives in bot.messages.
        draw.text((GAP, layout.height), f"+{hidden:,}", fill=MUTED_INK, font=font)
    return encode(sheet, "png").data


@dataclass(frozen=True)
class _Layout:
    """The grid: thumbnail side, columns and rows."""

    thumb: int
    columns: int
    rows: int

    @classmethod
    def for_count(cls, count: int, columns: int | None = None) -> _Layout:
        thumb = THUMB if count <= 12 else THUMB_MANY
        columns = max(1, columns or min(count, 4 if thumb == THUMB else 6))
        return cls(thumb, columns, math.ceil(count / columns))

    @property
    def cell_width(self) -> int:
        return 2 * self.thumb + GAP

    @property
    def cell_height(self) -> int:
        return self.thumb + GAP // 2 + TEXT_LINES * LINE_HEIGHT

    @property
    def width(self) -> int:
        return GAP + self.columns * (self.cell_width + GAP)

    @property
    def height(self) -> int:
        return GAP + self.rows * (self.cell_height + GAP)

    def origin(self, index: int) -> tuple[int, int]:
        return (GAP + (index % self.columns) * (self.cell_width + GAP),
                GAP + (index // self.columns) * (self.cell_height + GAP))


def thumbnail(data: bytes, side: int = THUMB) -> bytes | None:
    """A JPEG of at most ``side`` px a side (a few KB), to keep per photo until the sheet is drawn;
    None when ``data`` is not a readable image."""
    try:
        image = decode_rgb(data, max_edge=side)
    except (InvalidImage, UnidentifiedImageError, OSError):
        return None
    return encode(image, "jpeg").data


def cell_origin(index: int, count: int, columns: int | None = None) -> tuple[int, int, int]:
    """Where entry ``index`` of a ``count``-entry sheet starts (x, y), and its thumbnail side."""
    layout = _Layout.for_count(min(count, MAX_ENTRIES), columns)
    return (*layout.origin(index), layout.thumb)


def _paste_thumb(sheet: Image.Image, data: bytes | None, origin: tuple[int, int], thumb: int) -> None:
    """The image shrunk into a ``thumb`` square (centred), or a grey placeholder when there is none."""
    image = None
    if data is not None:
        try:
            # JPEG draft decoding makes a thumbnail of a 12 MP photo cheap.
            image = decode_rgb(data, max_edge=thumb)
        except (InvalidImage, UnidentifiedImageError, OSError):
            image = None
    if image is None:
        sheet.paste(PLACEHOLDER, (origin[0], origin[1], origin[0] + thumb, origin[1] + thumb))
        return
    image.thumbnail((thumb, thumb))
    sheet.paste(image, (origin[0] + (thumb - image.width) // 2, origin[1] + (thumb - image.height) // 2))


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """``text`` on one line, cut with an ellipsis to fit ``width`` pixels."""
    text = " ".join(text.split())
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"
