"""The batch contact sheet: a grid of before/after thumbnails with names and outcomes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from handlers.contact_sheet import MAX_ENTRIES, PLACEHOLDER, THUMB, SheetEntry, cell_origin, contact_sheet, thumbnail
from tests.photos import camera_jpeg, encode

BEFORE, AFTER = (250, 120, 0), (0, 90, 250)


def flat(color: tuple[int, int, int], fmt: str = "PNG", size: tuple[int, int] = (600, 400)) -> bytes:
    return encode(Image.new("RGB", size, color), fmt)


def sheet_image(entries: list[SheetEntry], **options: int) -> Image.Image:
    with Image.open(io.BytesIO(contact_sheet(entries, **options))) as image:
        assert image.format == "PNG"
        return image.convert("RGB")


def centre_of_thumb(index: int, count: int, after: bool) -> tuple[int, int]:
    x, y, thumb = cell_origin(index, count)
    return x + thumb // 2 + (thumb + 12 if after else 0), y + thumb // 2


def has_ink(image: Image.Image, box: tuple[int, int, int, int], color: tuple[int, int, int] | None = None) -> bool:
    region = image.crop(box)
    colours = {c for _, c in region.getcolors(region.width * region.height) or []}
    if color is not None:
        return any(all(abs(a - b) < 40 for a, b in zip(c, color, strict=True)) for c in colours)
    return any(sum(c) < 500 for c in colours)


def test_before_and_after_sit_side_by_side_with_name_and_outcome() -> None:
    entries = [
        SheetEntry("IMG_0001.jpg", flat(BEFORE, "JPEG"), flat(AFTER), "done"),
        SheetEntry("IMG_0002.jpg", flat(BEFORE, "JPEG"), None, "Bedrock refused the prompt", failed=True),
        SheetEntry("broken.heic", b"not an image", None, "not an image", failed=True),
    ]
    image = sheet_image(entries)
    assert image.getpixel(centre_of_thumb(0, 3, after=False)) == pytest.approx(BEFORE, abs=6)
    assert image.getpixel(centre_of_thumb(0, 3, after=True)) == AFTER
    assert image.getpixel(centre_of_thumb(1, 3, after=True)) == PLACEHOLDER  # failed: no result
    assert image.getpixel(centre_of_thumb(2, 3, after=False)) == PLACEHOLDER  # unreadable photo
    x, y, thumb = cell_origin(1, 3)
    text = (x, y + thumb, x + 2 * thumb + 12, y + thumb + 44)
    assert has_ink(image, text)  # the name
    assert has_ink(image, text, (224, 30, 90))  # the reason, in red
    x, y, thumb = cell_origin(0, 3)
    assert not has_ink(image, (x, y + thumb, x + 2 * thumb + 12, y + thumb + 44), (224, 30, 90))


def test_a_camera_photo_keeps_its_shape_in_the_thumbnail() -> None:
    image = sheet_image([SheetEntry("tall.jpg", camera_jpeg(1500, 3000), flat(AFTER, size=(3000, 1500)), "done")])
    x, y, thumb = cell_origin(0, 1)
    # A 1:2 portrait fills the height and half the width, centred; white either side.
    assert image.getpixel((x + 5, y + thumb // 2)) == (255, 255, 255)
    assert image.getpixel((x + thumb // 2, y + 5)) != (255, 255, 255)
    assert image.getpixel((x + thumb + 12 + thumb // 2, y + 5)) == (255, 255, 255)


def test_long_names_are_cut_to_the_cell() -> None:
    name = "a-very-long-campaign-photo-name-that-goes-on-and-on-" * 4 + ".jpg"
    image = sheet_image([SheetEntry(name, flat(BEFORE), flat(AFTER), "done")] * 2, columns=2)
    x, y, thumb = cell_origin(1, 2, columns=2)
    gutter = (x - 10, y + thumb, x - 2, y + thumb + 20)  # between the two cells
    assert not has_ink(image, gutter)


def test_a_hundred_entries_fit_and_more_are_counted() -> None:
    small = flat(BEFORE, size=(64, 48))
    entries = [SheetEntry(f"p{i}.png", small, small, "done") for i in range(MAX_ENTRIES)]
    full = sheet_image(entries)
    more = sheet_image([*entries, *entries[:7]])
    assert full.width == more.width and more.height > full.height  # one more line for "+7"
    last = centre_of_thumb(MAX_ENTRIES - 1, MAX_ENTRIES, after=True)
    assert full.getpixel(last) == BEFORE
    with pytest.raises(ValueError):
        contact_sheet([])


def test_a_thumbnail_of_a_camera_photo_is_a_few_kilobytes() -> None:
    small = thumbnail(camera_jpeg(4000, 3000))
    assert small is not None and len(small) < 30_000
    with Image.open(io.BytesIO(small)) as image:
        assert image.format == "JPEG" and max(image.size) == THUMB
    assert thumbnail(b"not an image") is None
