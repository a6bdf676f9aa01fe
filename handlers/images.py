"""Checking and normalising photos before they go to a model.

Slack photos are typically 12+ MP JPEGs with EXIF rotation. Every input is
sniffed (Slack may hand back an HTML login page), opened with Pillow's
decompression-bomb guard on, oriented, converted to RGB and shrunk to what
the model accepts. JPEG draft decoding lets libjpeg decode at 1/2, 1/4 or 1/8
scale, so a 12 MP photo is never fully decoded just to be shrunk.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from handlers.errors import InvalidImage
from handlers.models import ImageModelSpec

MAX_FILE_BYTES = 30 * 1024 * 1024
# Far above any phone or DSLR photo Studio is meant for, and low enough that a
# worker never holds more than a few hundred MB for one image.
MAX_INPUT_PIXELS = 50_000_000
# Claude: long edge at most 1568 px and about 1.15 MP; larger images are
# downscaled by the service anyway, so sending more only costs time and tokens.
VISION_MAX_EDGE = 1568
VISION_MAX_PIXELS = 1_150_000
_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


@dataclass(frozen=True)
class PreparedImage:
    """Encoded image bytes plus what a model request needs to know about them."""

    data: bytes
    format: str  # "png" or "jpeg"
    width: int
    height: int


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from an image's header (nothing is decoded)."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def upright_size(data: bytes) -> tuple[int, int]:
    """Width and height as the photo is shown, EXIF rotation applied (nothing is decoded)."""
    with open_image(data) as image:
        # Orientations 5-8 turn the picture a quarter, so width and height swap.
        turned = image.getexif().get(0x0112) in (5, 6, 7, 8)
        return (image.height, image.width) if turned else image.size


def looks_like_html(data: bytes) -> bool:
    """Whether ``data`` is a web page (from Slack's file host: its login page) rather than a file's bytes."""
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def sniff(data: bytes) -> None:
    """Refuse bytes that are clearly not a usable image, with a reason a person can act on."""
    if not data:
        raise InvalidImage("empty")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidImage("file_too_large", megabytes=len(data) // 1_048_576, limit=MAX_FILE_BYTES // 1_048_576)
    if looks_like_html(data):
        raise InvalidImage("login_page")
    if data.startswith(b"%PDF"):
        raise InvalidImage("pdf")
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif"):
        raise InvalidImage("heic")


def open_image(data: bytes) -> Image.Image:
    """Open (but do not decode) an image, enforcing the size limits."""
    sniff(data)
    try:
        image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except Image.DecompressionBombError as error:
        raise InvalidImage("too_many_pixels", megapixels="over 179", limit=MAX_INPUT_PIXELS // 1_000_000) from error
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise InvalidImage("unreadable") from error
    if image.width * image.height > MAX_INPUT_PIXELS:
        raise InvalidImage("too_many_pixels", megapixels=round(image.width * image.height / 1e6),
                           limit=MAX_INPUT_PIXELS // 1_000_000)
    return image


def decode_rgb(data: bytes, max_edge: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """Decode to an upright RGB image no larger than the given bounds.

    Transparency is composited on white, which is what image models expect for
    a product shot; palette, CMYK, 16-bit and greyscale images become RGB.
    The image is shrunk before it is rotated, so the rotation moves fewer pixels.
    """
    image = open_image(data)
    scale = _scale_for(image.width, image.height, max_edge, max_pixels)
    if image.format == "JPEG" and scale < 1:
        # Ask libjpeg for the smallest DCT scale that is still at least the target size.
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    exif = image.info.get("exif")
    try:
        image = _to_rgb(image)
    except (OSError, ValueError, SyntaxError) as error:
        raise InvalidImage("damaged") from error
    image = shrink(image, max_edge, max_pixels)
    if exif:
        image.info["exif"] = exif  # conversion and resizing drop it; exif_transpose needs it
    return ImageOps.exif_transpose(image)


def shrink(image: Image.Image, max_edge: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """``image`` scaled down (never up) to fit the bounds.

    The JPEG draft already did the coarse reduction, so what is left is a
    modest downscale, where Pillow's antialiased bilinear filter looks the same
    as bicubic or Lanczos and takes about half the time of bicubic.
    """
    scale = _scale_for(image.width, image.height, max_edge, max_pixels)
    if scale >= 1:
        return image
    # Floor, so that rounding never lands a few pixels over a pixel budget.
    size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


def encode(image: Image.Image, fmt: str = "png") -> PreparedImage:
    """Encode an RGB/RGBA image; PNG at a fast compression level (size matters less than time)."""
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image.save(buffer, "JPEG", quality=90, optimize=False)
    else:
        image.save(buffer, "PNG", compress_level=1)
    return PreparedImage(buffer.getvalue(), fmt, image.width, image.height)


def prepare_for_vision(data: bytes) -> PreparedImage:
    """A JPEG of at most 1568 px / 1.15 MP, whose declared format matches its bytes."""
    return vision_input(decode_rgb(data, max_edge=VISION_MAX_EDGE, max_pixels=VISION_MAX_PIXELS))


def cutout_preview(png: bytes) -> PreparedImage:
    """A Remove Background result on white, small enough for Claude, made cheaply.

    It only has to show what was kept, so an integer box reduction (a fraction
    of a resample's cost) shrinks it before the background is filled in.
    """
    cutout = open_image(png).convert("RGBA")
    scale = _scale_for(cutout.width, cutout.height, VISION_MAX_EDGE, VISION_MAX_PIXELS)
    if scale < 1:
        cutout = cutout.reduce(math.ceil(1 / scale))
    background = Image.new("RGB", cutout.size, (255, 255, 255))
    background.paste(cutout, (0, 0), cutout)
    return encode(background, "jpeg")


def vision_input(image: Image.Image) -> PreparedImage:
    """An already decoded RGB image, shrunk and encoded for Claude."""
    return encode(shrink(image, VISION_MAX_EDGE, VISION_MAX_PIXELS), "jpeg")


def _to_rgb(image: Image.Image) -> Image.Image:
    if getattr(image, "is_animated", False):
        image.seek(0)  # an animated GIF/WebP: its first frame is the picture
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale down to 8 bits rather than clip at 255.
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    image.load()
    return image


def _scale_for(width: int, height: int, max_edge: int | None, max_pixels: int | None) -> float:
    scale = 1.0
    if max_edge is not None:
        scale = min(scale, max_edge / max(width, height))
    if max_pixels is not None:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    return scale


def decode_for_model(data: bytes, spec: ImageModelSpec) -> Image.Image:
    """Decode a photo no larger than ``spec``'s input limits (also fine for ``vision_input``)."""
    return decode_rgb(data, max_edge=spec.max_side, max_pixels=spec.max_pixels - 1)


def model_input(image: Image.Image, spec: ImageModelSpec) -> PreparedImage:
    """An already decoded RGB image, checked, snapped to the model's rules and encoded."""
    check_aspect(image.width, image.height, spec)
    return encode(fit_to_input_rules(image, spec), "jpeg")


def check_aspect(width: int, height: int, spec: ImageModelSpec) -> None:
    """Refuse a photo whose shape the model cannot take."""
    ratio = max(width, height) / min(width, height)
    if ratio > spec.max_aspect:
        raise InvalidImage("too_stretched", ratio=round(ratio, 1), model=spec.label, limit=spec.max_aspect)


def fit_to_input_rules(image: Image.Image, spec: ImageModelSpec) -> Image.Image:
    """Scale up tiny images to the minimum side and snap sides to the required multiple."""
    width, height = image.size
    if min(width, height) < spec.min_side:
        grow = spec.min_side / min(width, height)
        width, height = math.ceil(width * grow), math.ceil(height * grow)
    multiple = spec.side_multiple
    width, height = max(multiple, width // multiple * multiple), max(multiple, height // multiple * multiple)
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.BICUBIC)
    return image


# A mask may differ this much in shape from the photo and still be stretched onto it.
MASK_ASPECT_TOLERANCE = 0.03


def prepare_mask(data: bytes, width: int, height: int) -> PreparedImage:
    """A second uploaded image as a pure black/white PNG mask of exactly ``width`` x ``height``.

    Black marks what to repaint. Greys are thresholded at the midpoint, because
    the models accept only pure black and pure white.
    """
    mask = decode_rgb(data, max_edge=max(width, height) * 2).convert("L")
    if abs(mask.width / mask.height - width / height) > MASK_ASPECT_TOLERANCE * (width / height):
        raise InvalidImage("mask_shape", mask_width=mask.width, mask_height=mask.height, width=width, height=height)
    mask = mask.resize((width, height), Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    low, high = mask.getextrema()
    if low == 255:
        raise InvalidImage("mask_all_white")
    if high == 0:
        raise InvalidImage("mask_all_black")
    return encode(mask.convert("RGB"), "png")


def extend_canvas(image: Image.Image, ratio_w: int, ratio_h: int,
                  spec: ImageModelSpec) -> tuple[PreparedImage, PreparedImage]:
    """The photo centred on a larger canvas of ``ratio_w:ratio_h``, and the mask that protects it.

    The canvas is the smallest of that shape that holds the photo, scaled to the
    model's limits; the mask is black over the photo (kept) and white around
    it (to be painted). The surroundings start neutral grey.
    """
    target = ratio_w / ratio_h
    if image.width / image.height < target:
        canvas_w, canvas_h = image.height * target, float(image.height)
    else:
        canvas_w, canvas_h = float(image.width), image.width / target
    scale = min(1.0, spec.max_side / max(canvas_w, canvas_h), math.sqrt((spec.max_pixels - 1) / (canvas_w * canvas_h)))
    multiple = spec.side_multiple
    width = max(spec.min_side, int(canvas_w * scale) // multiple * multiple)
    height = max(spec.min_side, int(canvas_h * scale) // multiple * multiple)
    photo_scale = min(width / image.width, height / image.height, scale)
    photo = image.resize((max(1, int(image.width * photo_scale)), max(1, int(image.height * photo_scale))),
                         Image.Resampling.BICUBIC)
    left, top = (width - photo.width) // 2, (height - photo.height) // 2
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    canvas.paste(photo, (left, top))
    mask = Image.new("RGB", (width, height), (255, 255, 255))
    mask.paste((0, 0, 0), (left, top, left + photo.width, top + photo.height))
    return encode(canvas, "png"), encode(mask, "png")
