"""A brand logo: checked once when it is stored, then placed in a corner of every result."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

from handlers.errors import InvalidImage, InvalidLogo
from handlers.images import encode, open_image

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
DEFAULT_CORNER = "bottom-right"
# The logo covers this share of the image's area, like a watermark people notice but look past.
DEFAULT_AREA = 0.02
# ... but never more than this share of the image's width or height (a long wordmark on a banner).
MAX_WIDTH_SHARE, MAX_HEIGHT_SHARE = 0.35, 0.2
# Gap to the edges, as a share of the image's shorter side.
DEFAULT_MARGIN = 0.03
# A smaller logo would be enlarged into a blur on a 1080 px result.
MIN_LOGO_EDGE = 100


@dataclass(frozen=True)
class Logo:
    """A checked logo: RGBA PNG bytes (transparency kept) and whether it has any transparency."""

    png: bytes
    width: int
    height: int
    transparent: bool


def prepare_logo(data: bytes) -> Logo:
    """Check an uploaded logo and normalise it to an RGBA PNG.

    Raises ``InvalidLogo``: ``not_image`` (``detail`` is the ``InvalidImage`` code)
    or ``too_small`` (the longer side is under ``MIN_LOGO_EDGE``).
    """
    try:
        with open_image(data) as image:
            image.seek(0)  # an animated file: its first frame
            rgba = image.convert("RGBA")
    except InvalidImage as error:
        raise InvalidLogo("not_image", detail=error.code) from error
    except (OSError, ValueError, SyntaxError) as error:
        raise InvalidLogo("not_image", detail="damaged") from error
    if max(rgba.size) < MIN_LOGO_EDGE:
        raise InvalidLogo("too_small", width=rgba.width, height=rgba.height, min_edge=MIN_LOGO_EDGE)
    alpha = rgba.getchannel("A")
    low, _ = alpha.getextrema()
    trimmed = rgba.crop(alpha.getbbox() or (0, 0, rgba.width, rgba.height))
    return Logo(encode(trimmed, "png").data, trimmed.width, trimmed.height, transparent=low != 255)


def logo_box(image_size: tuple[int, int], logo_size: tuple[int, int], corner: str = DEFAULT_CORNER,
             area: float = DEFAULT_AREA, margin: float = DEFAULT_MARGIN) -> tuple[int, int, int, int]:
    """Where the logo goes: its box on an image of ``image_size``, sized to the image, ``margin`` from the corner."""
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
    width, height = image_size
    logo_w, logo_h = logo_size
    scale = min(math.sqrt(area * width * height / (logo_w * logo_h)),
                MAX_WIDTH_SHARE * width / logo_w, MAX_HEIGHT_SHARE * height / logo_h)
    box_w, box_h = max(1, round(logo_w * scale)), max(1, round(logo_h * scale))
    gap = round(margin * min(width, height))
    x = gap if corner.endswith("left") else width - gap - box_w
    y = gap if corner.startswith("top") else height - gap - box_h
    return x, y, x + box_w, y + box_h


def place_logo(image_png: bytes, logo: Logo, corner: str = DEFAULT_CORNER, area: float = DEFAULT_AREA,
               margin: float = DEFAULT_MARGIN) -> bytes:
    """``image_png`` with ``logo`` in ``corner``, as PNG; an image with transparency keeps it."""
    with Image.open(io.BytesIO(image_png)) as opened:
        image = opened.convert("RGBA" if _has_alpha(opened) else "RGB")
    with Image.open(io.BytesIO(logo.png)) as opened:
        mark = opened.convert("RGBA")
    x0, y0, x1, y1 = logo_box(image.size, mark.size, corner, area, margin)
    mark = mark.resize((x1 - x0, y1 - y0), Image.Resampling.LANCZOS)
    if image.mode == "RGBA":
        image.alpha_composite(mark, (x0, y0))
    else:
        image.paste(mark, (x0, y0), mark)
    return encode(image, "png").data


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
