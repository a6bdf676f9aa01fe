"""/imagine with a brand style reference, through Stability's Style Guide on the fake Bedrock."""

from __future__ import annotations

import base64
import io
import json

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from handlers import model_table
from handlers.errors import InvalidImage, ModelBlocked, ModelFailed, ModelUnsupported, StyleImageTooSmall
from handlers.requests import ImagineRequest
from handlers.style_guide import imagine_in_style, prepare_style_reference
from tests.fakes.bedrock import STYLE_GUIDE, FakeBedrock
from tests.photos import camera_jpeg, encode

MODEL = model_table.STABILITY_STYLE_GUIDE
YELLOW = (250, 200, 0)


def style_png(width: int = 800, height: int = 600) -> bytes:
    return encode(Image.new("RGB", (width, height), YELLOW), "PNG")


def test_the_model_id_is_the_style_guide_profile() -> None:
    assert MODEL == "us." + STYLE_GUIDE


def test_imagine_in_style_sends_the_reference_and_prompt(bedrock: FakeBedrock) -> None:
    style = prepare_style_reference(style_png(), MODEL)
    request = ImagineRequest(prompt="sneaker on a neon street", width=1344, height=768, negative="people",
                             count=2, seed=40)
    result = imagine_in_style(bedrock.client(), MODEL, request, style, fidelity=0.8)

    assert len(result.images) == 2 and result.seeds == (40, 41) and result.aspect_ratio == "16:9"
    calls = [c for c in bedrock.calls if c.model_id == MODEL]
    assert len(calls) == 2 and all(c.ok for c in calls)
    body = calls[0].body
    assert body["prompt"] == "sneaker on a neon street" and body["negative_prompt"] == "people"
    assert body["fidelity"] == 0.8 and body["aspect_ratio"] == "16:9"
    with Image.open(io.BytesIO(base64.b64decode(body["image"]))) as sent:
        assert sent.size == (800, 600)
    for png in result.images:
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (1344, 768)


def test_a_large_reference_is_shrunk_to_the_model_limit(bedrock: FakeBedrock) -> None:
    style = prepare_style_reference(camera_jpeg(4000, 3000), MODEL)
    assert style.width * style.height <= 9_437_184
    imagine_in_style(bedrock.client(), MODEL, ImagineRequest(prompt="a shoe", width=1024, height=1024), style)
    assert bedrock.calls[-1].ok


@pytest.mark.parametrize("size", [(63, 400), (400, 40)])
def test_a_style_image_too_small_is_refused_before_the_model(bedrock: FakeBedrock, size: tuple[int, int]) -> None:
    with pytest.raises(StyleImageTooSmall) as caught:
        prepare_style_reference(style_png(*size), MODEL)
    assert (caught.value.width, caught.value.height, caught.value.min_side) == (*size, 64)
    assert bedrock.calls == []


def test_a_stretched_or_broken_style_image_is_refused() -> None:
    with pytest.raises(InvalidImage) as caught:
        prepare_style_reference(style_png(1000, 300), MODEL)
    assert caught.value.code == "too_stretched"
    with pytest.raises(InvalidImage):
        prepare_style_reference(b"%PDF-1.4", MODEL)


def test_the_fake_refuses_what_the_real_service_refuses(bedrock: FakeBedrock) -> None:
    # Studio never sends these; the fake must still refuse them, so a regression would show.
    client = bedrock.client()
    too_small = base64.b64encode(style_png(200, 50)).decode()
    body = {"image": too_small, "prompt": "x"}
    with pytest.raises(ClientError) as caught:
        client.invoke_model(modelId=MODEL, body=json.dumps(body))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "every side must be at least 64 pixels" in caught.value.response["Error"]["Message"]


def test_filtered_prompt_is_a_refusal(bedrock: FakeBedrock) -> None:
    bedrock.blocked_terms.add("forbidden")
    style = prepare_style_reference(style_png(), MODEL)
    with pytest.raises(ModelBlocked):
        imagine_in_style(bedrock.client(), MODEL, ImagineRequest(prompt="forbidden", width=1024, height=1024), style)


def test_only_style_guide_models_are_driven() -> None:
    with pytest.raises(ModelUnsupported):
        prepare_style_reference(style_png(), model_table.STABLE_IMAGE_CORE)
    with pytest.raises(ModelFailed):
        prepare_style_reference(style_png(), "acme.painter-v1")
