"""The Stability payload builders, sent through real boto3 to the fake Bedrock."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from PIL import Image

from handlers import model_table, stability
from handlers.errors import ModelBlocked, ModelFailed
from tests.fakes.bedrock import FakeBedrock


def photo_b64(width: int = 640, height: int = 480, mode: str = "RGB", fmt: str = "JPEG") -> str:
    buf = io.BytesIO()
    Image.new(mode, (width, height), (30, 120, 200) if mode == "RGB" else (30, 120, 200, 255)).save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def invoke(bedrock: FakeBedrock, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = bedrock.client().invoke_model(modelId=model_id, body=json.dumps(body),
                                             contentType="application/json", accept="application/json")
    return json.loads(response["body"].read())


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


@pytest.mark.parametrize("model_id", [model_table.STABLE_IMAGE_CORE, model_table.STABLE_IMAGE_ULTRA,
                                      model_table.SD35_LARGE])
def test_text_to_image_body_is_accepted(bedrock: FakeBedrock, model_id: str) -> None:
    body = stability.text_to_image_body("sneaker on a neon street", "people", "16:9", 7)
    images, filtered = stability.parse_images(invoke(bedrock, model_id, body))

    assert filtered == 0
    assert len(images) == 1
    assert size_of(images[0]) == (1344, 768)


def test_text_to_image_body_omits_empty_negative_and_checks_ranges() -> None:
    body = stability.text_to_image_body("a car", "", "1:1", 0, "jpeg")
    assert body == {"prompt": "a car", "aspect_ratio": "1:1", "seed": 0, "output_format": "jpeg"}
    with pytest.raises(ValueError):
        stability.text_to_image_body("a car", "", "4:3", 0)
    with pytest.raises(ValueError):
        stability.text_to_image_body("a car", "", "1:1", stability.MAX_SEED + 1)
    with pytest.raises(ValueError):
        stability.text_to_image_body("a car", "", "1:1", 1, "webp")


def test_search_replace_body_is_accepted(bedrock: FakeBedrock) -> None:
    body = stability.search_replace_body(photo_b64(), "car", "a horse", "blurry", 3)
    images, _ = stability.parse_images(invoke(bedrock, model_table.STABILITY_SEARCH_REPLACE, body))
    assert size_of(images[0]) == (640, 480)


@pytest.mark.parametrize("with_mask", [True, False])
def test_inpaint_body_is_accepted(bedrock: FakeBedrock, with_mask: bool) -> None:
    titan_mask = Image.new("L", (640, 480), 255)
    titan_mask.paste(0, (0, 0, 320, 480))  # Titan/Nova: black = change
    buf = io.BytesIO()
    titan_mask.save(buf, format="PNG")
    mask = base64.b64encode(stability.invert_mask_png(buf.getvalue())).decode("ascii") if with_mask else None
    body = stability.inpaint_body(photo_b64(), "flowers", mask, "", 5)
    images, _ = stability.parse_images(invoke(bedrock, model_table.STABILITY_INPAINT, body))
    assert size_of(images[0]) == (640, 480)


def test_invert_mask_png_swaps_black_and_white() -> None:
    buf = io.BytesIO()
    Image.new("L", (4, 4), 0).save(buf, format="PNG")
    with Image.open(io.BytesIO(stability.invert_mask_png(buf.getvalue()))) as img:
        assert img.getextrema() == (255, 255)


def test_outpaint_body_is_accepted_and_grows_the_image(bedrock: FakeBedrock) -> None:
    body = stability.outpaint_body(photo_b64(), 200, 200, 0, 0, "a beach", 1)
    assert "up" not in body and "down" not in body
    images, _ = stability.parse_images(invoke(bedrock, model_table.STABILITY_OUTPAINT, body))
    assert size_of(images[0]) == (1040, 480)
    with pytest.raises(ValueError):
        stability.outpaint_body(photo_b64(), 0, 0, 0, 0, "x", 1)
    with pytest.raises(ValueError):
        stability.outpaint_body(photo_b64(), 2001, 0, 0, 0, "x", 1)


def test_remove_background_body_is_accepted(bedrock: FakeBedrock) -> None:
    images, _ = stability.parse_images(invoke(bedrock, model_table.STABILITY_REMOVE_BG,
                                              stability.remove_background_body(photo_b64())))
    with Image.open(io.BytesIO(images[0])) as img:
        assert (img.format, img.mode) == ("PNG", "RGBA")


def test_prompt_filter_becomes_model_blocked(bedrock: FakeBedrock) -> None:
    bedrock.blocked_terms = {"forbidden"}
    response = invoke(bedrock, model_table.STABLE_IMAGE_CORE,
                      stability.text_to_image_body("a forbidden thing", "", "1:1", 1))
    with pytest.raises(ModelBlocked, match="Filter reason: prompt"):
        stability.parse_images(response)


def test_parse_images_counts_filtered_and_reports_other_failures() -> None:
    png = base64.b64encode(b"\x89PNG fake").decode("ascii")
    assert stability.parse_images({"seeds": [1], "finish_reasons": [None], "images": [png]}) == ([b"\x89PNG fake"], 0)
    assert stability.parse_images(
        {"finish_reasons": [None, "Filter reason: output image"], "images": [png, None]}
    ) == ([b"\x89PNG fake"], 1)
    with pytest.raises(ModelBlocked):
        stability.parse_images({"finish_reasons": ["Filter reason: output image"]})
    with pytest.raises(ModelFailed):
        stability.parse_images({"finish_reasons": ["Inference error"]})
    with pytest.raises(ModelFailed):
        stability.parse_images({})


@pytest.mark.parametrize(
    ("size", "ratio"),
    [((1024, 1024), "1:1"), ((1920, 1080), "16:9"), ((1080, 1920), "9:16"), ((4000, 3000), "5:4"),
     ((3000, 4000), "4:5"), ((6000, 4000), "3:2"), ((2560, 1080), "21:9"), ((1000, 3000), "9:21"),
     ((800, 1200), "2:3")],
)
def test_closest_aspect_ratio(size: tuple[int, int], ratio: str) -> None:
    assert stability.closest_aspect_ratio(*size) == ratio
