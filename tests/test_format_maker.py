"""Making every format of a photo against the fake Bedrock (Remove Background once, Outpaint where it grows)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from handlers import model_table
from handlers.errors import ModelUnsupported, PhotoTooSmall
from handlers.format_maker import make_formats, subject_box
from handlers.formats import DEFAULT_FORMATS, FormatTarget, pick_formats
from handlers.images import upright_size
from tests.fakes.bedrock import FakeBedrock
from tests.photos import camera_jpeg

RED = (255, 0, 0)


def photo_with_subject(width: int, height: int) -> tuple[bytes, tuple[int, int, int, int]]:
    """A green photo with a red subject where the fake's Remove Background puts it (the middle two thirds)."""
    image = Image.new("RGB", (width, height), (0, 160, 0))
    box = (width // 6, height // 6, width - width // 6, height - height // 6)
    image.paste(RED, box)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue(), box


def red_box(png: bytes) -> tuple[tuple[int, int], tuple[int, int, int, int] | None]:
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    red, green, blue = rgb.split()
    mask = ImageChops.multiply(red.point(lambda v: 255 if v > 200 else 0),
                               ImageChops.multiply(green.point(lambda v: 255 if v < 60 else 0),
                                                   blue.point(lambda v: 255 if v < 60 else 0)))
    return rgb.size, mask.getbbox()


def make(bedrock: FakeBedrock, photo: bytes, targets: tuple[FormatTarget, ...] = DEFAULT_FORMATS,
         **options: object) -> list:
    return make_formats(bedrock.client(), photo, targets, remove_bg_model=model_table.STABILITY_REMOVE_BG,
                        outpaint_model=model_table.STABILITY_OUTPAINT, seed=11, **options)


@pytest.mark.parametrize("size", [(2000, 1500), (1500, 2000), (2400, 1000)])
def test_every_format_is_exact_and_keeps_the_subject_whole(bedrock: FakeBedrock, size: tuple[int, int]) -> None:
    photo, subject = photo_with_subject(*size)
    results = make(bedrock, photo)

    assert [result.target for result in results] == list(DEFAULT_FORMATS)
    removals = [c for c in bedrock.calls if c.model_id == model_table.STABILITY_REMOVE_BG]
    outpaints = [c for c in bedrock.calls if c.model_id == model_table.STABILITY_OUTPAINT]
    assert len(removals) == 1 and all(c.ok for c in bedrock.calls)
    assert len(outpaints) == sum(result.outpainted for result in results) >= 1
    subject_ratio = (subject[2] - subject[0]) / (subject[3] - subject[1])
    for result in results:
        assert result.png is not None and not result.blocked
        (width, height), box = red_box(result.png)
        assert (width, height) == (result.target.width, result.target.height)
        assert box is not None, result.target
        # Not cut: the subject stays clear of every edge and keeps its shape.
        assert box[0] > 0 and box[1] > 0 and box[2] < width and box[3] < height, (result.target, box)
        assert (box[2] - box[0]) / (box[3] - box[1]) == pytest.approx(subject_ratio, rel=0.03), result.target


def test_outpaint_requests_carry_the_prompt_seed_and_margins(bedrock: FakeBedrock) -> None:
    photo, _ = photo_with_subject(2000, 1500)
    make(bedrock, photo, pick_formats("story"), prompt="a sunny beach")
    [call] = [c for c in bedrock.calls if c.model_id == model_table.STABILITY_OUTPAINT]
    body = call.body
    assert body["prompt"] == "a sunny beach" and body["seed"] == 11 and body["output_format"] == "png"
    assert body["up"] > 0 and body["down"] > 0 and "left" not in body and "right" not in body


def test_a_refused_outpaint_spoils_only_its_own_format(bedrock: FakeBedrock) -> None:
    bedrock.blocked_terms.add("forbidden")
    photo, _ = photo_with_subject(2000, 1500)
    results = {result.target.name: result for result in make(bedrock, photo, prompt="forbidden place")}
    assert results["story"].png is None and "Filter reason" in results["story"].blocked
    assert results["square"].png is not None and not results["square"].outpainted


def test_a_photo_too_small_is_refused_before_any_model_call(bedrock: FakeBedrock) -> None:
    photo, _ = photo_with_subject(800, 600)
    with pytest.raises(PhotoTooSmall):
        make(bedrock, photo)
    assert bedrock.calls == []


def test_titan_outpainting_is_not_offered(bedrock: FakeBedrock) -> None:
    photo, _ = photo_with_subject(2000, 1500)
    with pytest.raises(ModelUnsupported):
        make_formats(bedrock.client(), photo, DEFAULT_FORMATS, remove_bg_model=model_table.STABILITY_REMOVE_BG,
                     outpaint_model=model_table.TITAN_V2)
    assert bedrock.calls == []


def test_subject_box_scales_the_mask_to_the_photo() -> None:
    cutout = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    cutout.paste((9, 9, 9, 255), (10, 5, 30, 20))
    cutout.paste((9, 9, 9, 40), (60, 5, 90, 45))  # faint haze is not subject
    buffer = io.BytesIO()
    cutout.save(buffer, "PNG")
    assert subject_box(buffer.getvalue(), (1000, 500)) == (100, 50, 300, 200)
    assert subject_box(_empty_png(), (1000, 500)) is None


def _empty_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def test_upright_size_reads_the_exif_rotation() -> None:
    assert upright_size(camera_jpeg(400, 300)) == (400, 300)
    assert upright_size(camera_jpeg(400, 300, orientation=6)) == (300, 400)
