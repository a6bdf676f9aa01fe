"""Photo normalisation: orientation, modes, draft decoding, model input rules."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PIL.JpegImagePlugin import JpegImageFile

from bot.messages import error_message
from handlers.errors import InvalidImage
from handlers.images import cutout_preview, decode_for_model, decode_rgb, model_input, prepare_for_vision
from handlers.models import NOVA_CANVAS, TITAN_V2
from tests.photos import BAD_FILES, GOOD_ODD_FILES, camera_jpeg


def test_exif_rotation_is_applied() -> None:
    image = decode_rgb(camera_jpeg(800, 600, orientation=6))
    assert image.size == (600, 800)
    # The red ellipse sits in the upper-left quarter before rotating 90° clockwise: upper-right after.
    red, green, _ = image.getpixel((600 * 5 // 8, 800 * 3 // 8))
    assert red > 150 and green < 100


def test_large_jpeg_is_draft_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[tuple[int, int]] = []
    original = JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        requested.append(size)
        return original(self, mode, size)

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    image = decode_for_model(camera_jpeg(4000, 3000), TITAN_V2)
    assert requested == [(1408, 1056)]
    assert image.size == (1408, 1056)


@pytest.mark.parametrize("case", list(GOOD_ODD_FILES))
def test_odd_modes_become_upright_rgb(case: str) -> None:
    content, _, size = GOOD_ODD_FILES[case]
    image = decode_rgb(content)
    assert image.mode == "RGB" and image.size == size


def test_transparency_is_composited_on_white() -> None:
    image = decode_rgb(GOOD_ODD_FILES["rgba png"][0])
    assert image.getpixel((5, 5)) == (255, 255, 255)
    assert image.getpixel((250, 250)) == (255, 0, 0)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_invalid_image(case: str) -> None:
    content, _, expected = BAD_FILES[case]
    with pytest.raises(InvalidImage) as caught:
        decode_rgb(content)
    assert expected in error_message(caught.value)


def test_nova_inputs_snap_to_multiples_of_16_and_minimum_side() -> None:
    prepared = model_input(decode_for_model(camera_jpeg(1000, 750), NOVA_CANVAS), NOVA_CANVAS)
    assert (prepared.width % 16, prepared.height % 16) == (0, 0)
    tiny = model_input(decode_for_model(camera_jpeg(200, 150), NOVA_CANVAS), NOVA_CANVAS)
    assert min(tiny.width, tiny.height) >= 320 and tiny.width % 16 == 0


def test_too_wide_photo_is_refused_for_nova() -> None:
    with pytest.raises(InvalidImage) as caught:
        model_input(decode_for_model(camera_jpeg(2000, 400), NOVA_CANVAS), NOVA_CANVAS)
    assert "too narrow or too wide (5.0:1)" in error_message(caught.value)


def test_vision_input_is_a_real_jpeg_within_claude_limits() -> None:
    prepared = prepare_for_vision(camera_jpeg(4000, 3000))
    image = Image.open(io.BytesIO(prepared.data))
    assert prepared.format == "jpeg" and image.format == "JPEG"
    assert max(image.size) <= 1568 and image.width * image.height <= 1_150_000


def test_cutout_preview_shows_the_subject_on_white_within_claude_limits() -> None:
    cutout = Image.new("RGBA", (1664, 1216), (0, 0, 0, 0))
    cutout.paste((200, 0, 0, 255), (400, 300, 1200, 900))
    buffer = io.BytesIO()
    cutout.save(buffer, "PNG")
    prepared = cutout_preview(buffer.getvalue())
    image = Image.open(io.BytesIO(prepared.data))
    assert prepared.format == "jpeg" and image.format == "JPEG"
    assert max(image.size) <= 1568 and image.width * image.height <= 1_150_000
    corner, centre = image.convert("RGB").getpixel((5, 5)), image.convert("RGB").getpixel((400, 300))
    assert min(corner) > 240  # the transparent background is white
    assert centre[0] > 150 and centre[1] < 60
