"""Test photos: real camera-like JPEGs and the catalogue of bad files."""

from __future__ import annotations

import io
import random
import struct
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw


def camera_jpeg(width: int = 4000, height: int = 3000, orientation: int | None = None, quality: int = 90) -> bytes:
    """A photo-like JPEG (gradient plus shapes) with an optional EXIF orientation tag."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(200, 30, 30))
    draw.rectangle((width // 2, height // 2, width * 3 // 4, height * 3 // 4), fill=(30, 30, 200))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


@lru_cache(maxsize=8)
def small_jpeg(width: int = 800, height: int = 600) -> bytes:
    """A small photo for flow tests (fast to decode)."""
    return camera_jpeg(width, height)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def noisy_png() -> bytes:
    """A PNG that does not compress, so cutting it really loses pixel data."""
    return encode(Image.frombytes("RGB", (200, 200), random.Random(7).randbytes(200 * 200 * 3)), "PNG")


def animated_gif() -> bytes:
    frames = [Image.new("P", (640, 480), color) for color in (1, 2, 3)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def rgba_png() -> bytes:
    image = Image.new("RGBA", (640, 480), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 100, 400, 400), fill=(255, 0, 0, 255))
    return encode(image, "PNG")


def sixteen_bit_png() -> bytes:
    image = Image.linear_gradient("L").resize((640, 480)).convert("I;16")
    return encode(image, "PNG")


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (640, 480), (0, 128, 128, 0)), "JPEG")


BAD_FILES: dict[str, tuple[bytes, str, str]] = {
    # name: (bytes, Slack mimetype, words the person must see)
    "zero bytes": (b"", "image/jpeg", "The file is empty"),
    "corrupt jpeg": (b"\xff\xd8\xff\xe0" + b"garbage" * 100, "image/jpeg", "not an image Studio can read"),
    "truncated jpeg": (camera_jpeg(640, 480)[:4000], "image/jpeg", "damaged or incomplete"),
    "truncated png": (noisy_png()[:20_000], "image/png", "damaged or incomplete"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "image/jpeg", "is a PDF"),
    "html login page": (b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>",
                        "image/jpeg", "files:read"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "image/heic", "HEIC"),
    "100 MP image": (png_claiming_size(10_000, 10_000), "image/png", "too large"),
    # Slack labels files it cannot type application/octet-stream; the bytes decide.
    "zip labelled octet-stream": (b"PK\x03\x04" + b"\x00" * 200, "application/octet-stream",
                                  "not an image Studio can read"),
}

GOOD_ODD_FILES: dict[str, tuple[bytes, str, tuple[int, int]]] = {
    # name: (bytes, mimetype, upright size of the source)
    "animated gif": (animated_gif(), "image/gif", (640, 480)),
    "cmyk jpeg": (cmyk_jpeg(), "image/jpeg", (640, 480)),
    "16-bit png": (sixteen_bit_png(), "image/png", (640, 480)),
    "rgba png": (rgba_png(), "image/png", (640, 480)),
    "exif-rotated portrait": (camera_jpeg(800, 600, orientation=6), "image/jpeg", (600, 800)),
    "jpeg labelled octet-stream": (camera_jpeg(640, 480), "application/octet-stream", (640, 480)),
    "png with no mimetype": (rgba_png(), "", (640, 480)),
}
