"""Brand logo: checked when stored, placed in a corner with a margin, sized to the image."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from handlers.errors import InvalidLogo
from handlers.logo import CORNERS, MAX_HEIGHT_SHARE, MAX_WIDTH_SHARE, logo_box, place_logo, prepare_logo
from tests.photos import encode


def logo_png(width: int = 400, height: int = 200) -> bytes:
    """A blue disc on a transparent square, inside a transparent border the logo check trims."""
    image = Image.new("RGBA", (width + 40, height + 40), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (20, 20, 20 + width, 20 + height))
    image.paste((0, 0, 0, 0), (20, 20, 40, 40))  # a transparent notch inside the logo itself
    return encode(image, "PNG")


def result_png(width: int, height: int, mode: str = "RGB") -> bytes:
    return encode(Image.new(mode, (width, height), (200, 200, 200) if mode == "RGB" else (200, 200, 200, 0)), "PNG")


def test_prepare_logo_keeps_transparency_and_trims_the_empty_border() -> None:
    logo = prepare_logo(logo_png())
    assert (logo.width, logo.height, logo.transparent) == (400, 200, True)
    with Image.open(io.BytesIO(logo.png)) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((5, 5))[3] == 0 and image.getpixel((100, 100)) == (0, 0, 255, 255)


def test_a_jpeg_logo_is_accepted_as_opaque() -> None:
    logo = prepare_logo(encode(Image.new("RGB", (300, 120), (9, 9, 9)), "JPEG"))
    assert (logo.width, logo.height, logo.transparent) == (300, 120, False)


@pytest.mark.parametrize(("data", "detail"), [
    (b"", "empty"),
    (b"%PDF-1.7 a brochure", "pdf"),
    (b"<!DOCTYPE html><html>login</html>", "login_page"),
    (b"\x89PNG\r\n\x1a\n garbage", "unreadable"),
])
def test_not_an_image_is_a_typed_error(data: bytes, detail: str) -> None:
    with pytest.raises(InvalidLogo) as caught:
        prepare_logo(data)
    assert (caught.value.reason, caught.value.detail) == ("not_image", detail)


def test_a_tiny_logo_is_refused_with_its_size() -> None:
    with pytest.raises(InvalidLogo) as caught:
        prepare_logo(encode(Image.new("RGBA", (64, 32), (0, 0, 255, 255)), "PNG"))
    error = caught.value
    assert (error.reason, error.width, error.height, error.min_edge) == ("too_small", 64, 32, 100)


@pytest.mark.parametrize("corner", CORNERS)
@pytest.mark.parametrize("size", [(1080, 1080), (1080, 1920), (1584, 396), (4000, 3000)])
def test_logo_box_sits_in_its_corner_with_a_margin_and_keeps_its_shape(corner: str, size: tuple[int, int]) -> None:
    width, height = size
    x0, y0, x1, y1 = logo_box(size, (400, 200), corner)
    gap = round(0.03 * min(width, height))
    assert (x0 == gap) if corner.endswith("left") else (x1 == width - gap)
    assert (y0 == gap) if corner.startswith("top") else (y1 == height - gap)
    assert (x1 - x0) / (y1 - y0) == pytest.approx(2, rel=0.02)
    assert (x1 - x0) <= MAX_WIDTH_SHARE * width + 1 and (y1 - y0) <= MAX_HEIGHT_SHARE * height + 1
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_logo_grows_with_the_image() -> None:
    small = logo_box((1080, 1080), (400, 200))
    large = logo_box((2160, 2160), (400, 200))
    assert large[2] - large[0] == pytest.approx(2 * (small[2] - small[0]), abs=1)
    with pytest.raises(ValueError):
        logo_box((1080, 1080), (400, 200), "middle")


def test_place_logo_pastes_with_transparency() -> None:
    logo = prepare_logo(logo_png())
    out = place_logo(result_png(1080, 1080), logo, "top-left")
    x0, y0, x1, y1 = logo_box((1080, 1080), (logo.width, logo.height), "top-left")
    with Image.open(io.BytesIO(out)) as image:
        assert image.size == (1080, 1080) and image.mode == "RGB"
        assert image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == (0, 0, 255)  # the logo
        assert image.getpixel((x0 + 1, y0 + 1)) == (200, 200, 200)  # its transparent notch shows the image
        assert image.getpixel((x0 - 2, y0 - 2)) == (200, 200, 200)  # the margin is untouched
        assert image.getpixel((1000, 1000)) == (200, 200, 200)


def test_place_logo_on_a_cutout_keeps_its_transparency() -> None:
    out = place_logo(result_png(800, 600, "RGBA"), prepare_logo(logo_png()), "bottom-right")
    with Image.open(io.BytesIO(out)) as image:
        assert image.mode == "RGBA" and image.getpixel((10, 10))[3] == 0
        assert image.getpixel((760, 560))[3] == 255
