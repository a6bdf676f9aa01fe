"""Tests for the fake Bedrock runtime, driven through the real boto3 client."""

from __future__ import annotations

import io
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from tests.fakes.bedrock import (
    AWS_END_OF_LIFE,
    CLAUDE_HAIKU_4_5,
    CLAUDE_HAIKU_5_5,
    CLAUDE_NO_SAMPLING,
    FakeBedrock,
    decode_image,
    encode_image,
)

TITAN_V1 = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA = "amazon.nova-canvas-v1:0"
SONNET_V2_PROFILE = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[FakeBedrock]:
    with FakeBedrock() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeBedrock) -> Iterator[FakeBedrock]:
    server.reset()
    yield server
    server.reset()


def make_client(url: str, **retries: Any) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries=retries or {"max_attempts": 1}),
    )


@pytest.fixture
def client(fake: FakeBedrock) -> Any:
    """The client configuration the brief prescribes (note: it still retries once)."""
    return make_client(fake.url)


@pytest.fixture
def strict_client(fake: FakeBedrock) -> Any:
    """A client that never retries, for fault-injection assertions."""
    return make_client(fake.url, total_max_attempts=1)


# ----------------------------------------------------------------------------- helpers


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    assert response["contentType"] == "application/json"
    return json.loads(response["body"].read())


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    return {
        "code": info.value.response["Error"]["Code"],
        "message": info.value.response["Error"]["Message"],
        "status": info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def text_image(text: str = "a red sneaker on a neon street", **config: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": text}}
    if config:
        body["imageGenerationConfig"] = config
    return body


def png(width: int, height: int, color: Any = (200, 30, 30), mode: str = "RGB") -> str:
    return encode_image(Image.new(mode, (width, height), color), "PNG")


def jpeg_bytes(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def png_bytes(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 20)).save(buf, format="PNG")
    return buf.getvalue()


def user(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


# ----------------------------------------------------------------------------- Titan text-to-image


def test_titan_text_image_returns_n_pngs_of_requested_size(client: Any, fake: FakeBedrock) -> None:
    out = invoke(client, TITAN_V1, text_image(numberOfImages=3, width=1152, height=640, seed=7, cfgScale=8.0))

    assert out["error"] is None
    assert len(out["images"]) == 3
    for b64 in out["images"]:
        img = decode_image(b64)
        assert img.format == "PNG"
        assert img.size == (1152, 640)
    call = fake.invocations("TEXT_IMAGE")[0]
    assert (call.operation, call.model_id, call.status, call.error_code) == ("InvokeModel", TITAN_V1, 200, None)
    assert call.body["imageGenerationConfig"]["numberOfImages"] == 3


def test_output_is_deterministic_per_seed_and_prompt(client: Any) -> None:
    first = invoke(client, TITAN_V2, text_image(seed=1))["images"]
    again = invoke(client, TITAN_V2, text_image(seed=1))["images"]
    other_seed = invoke(client, TITAN_V2, text_image(seed=2))["images"]
    other_prompt = invoke(client, TITAN_V2, text_image("a blue boot", seed=1))["images"]

    assert first == again
    assert first != other_seed
    assert first != other_prompt
    assert decode_image(first[0]).size == (1024, 1024)  # documented default size


@pytest.mark.parametrize("size", [(1000, 1000), (1024, 768), (1408, 1408), (2048, 2048)])
def test_titan_rejects_sizes_outside_the_documented_list(client: Any, size: tuple[int, int]) -> None:
    err = error_of(lambda: invoke(client, TITAN_V1, text_image(width=size[0], height=size[1])))
    assert (err["code"], err["status"]) == ("ValidationException", 400)
    assert f"{size[0]}x{size[1]}" in err["message"]


def test_titan_prompt_limit_is_512_characters(client: Any) -> None:
    assert invoke(client, TITAN_V1, text_image("x" * 512))["images"]

    err = error_of(lambda: invoke(client, TITAN_V1, text_image("x" * 513)))
    assert err["code"] == "ValidationException"
    assert err["message"] == (
        "Malformed input request: #/textToImageParams/text: expected maxLength: 512, actual: 513, "
        "please reformat your input and try again."
    )
    body = text_image()
    body["textToImageParams"]["negativeText"] = "n" * 513
    assert "negativeText" in error_of(lambda: invoke(client, TITAN_V2, body))["message"]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"cfgScale": 11}, "cfgScale: 11 is not less or equal to 10.0"),
        ({"cfgScale": 1.0}, "cfgScale: 1.0 is not greater or equal to 1.1"),
        ({"seed": 2147483647}, "seed: 2147483647 is not less or equal to 2147483646"),
        ({"seed": -1}, "seed: -1 is not greater or equal to 0"),
        ({"numberOfImages": 6}, "numberOfImages: 6 is not less or equal to 5"),
        ({"numberOfImages": 0}, "numberOfImages: 0 is not greater or equal to 1"),
        ({"quality": "ultra"}, "quality: ultra is not a valid enum value"),
        ({"width": "1024", "height": 1024}, "width: expected type: Integer, found: String"),
        ({"steps": 30}, "extraneous key [steps] is not permitted"),
    ],
)
def test_image_generation_config_ranges(client: Any, config: dict[str, Any], fragment: str) -> None:
    err = error_of(lambda: invoke(client, TITAN_V1, text_image(**config)))
    assert err["code"] == "ValidationException"
    assert fragment in err["message"]


def test_titan_seed_upper_bound_is_accepted(client: Any) -> None:
    assert invoke(client, TITAN_V1, text_image(seed=2147483646))["images"]


def test_missing_or_wrong_task_fields(client: Any) -> None:
    assert "required key [taskType] not found" in error_of(
        lambda: invoke(client, TITAN_V1, {"textToImageParams": {"text": "x"}})
    )["message"]
    assert "required key [textToImageParams] not found" in error_of(
        lambda: invoke(client, TITAN_V1, {"taskType": "TEXT_IMAGE"})
    )["message"]
    assert "extraneous key [negativeTtext]" in error_of(
        lambda: invoke(
            client, TITAN_V1, {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x", "negativeTtext": "y"}}
        )
    )["message"]


def test_non_json_body_is_malformed(client: Any) -> None:
    err = error_of(lambda: client.invoke_model(modelId=TITAN_V1, body=b"not json"))
    assert err["code"] == "ValidationException"
    assert err["message"].startswith("Malformed input request")


# ----------------------------------------------------------------------------- faults


def test_throttling_via_fail_next(client: Any, fake: FakeBedrock) -> None:
    # Config(retries={"max_attempts": 1}) means 2 attempts in botocore's standard mode,
    # so two injected failures are needed to surface the error.
    fake.fail_next(2)
    err = error_of(lambda: invoke(client, TITAN_V1, text_image()))
    assert err == {
        "code": "ThrottlingException",
        "message": "Too many requests, please wait before trying again.",
        "status": 429,
    }
    assert [c.error_code for c in fake.calls] == ["ThrottlingException", "ThrottlingException"]
    assert invoke(client, TITAN_V1, text_image())["images"]  # failures are used up


def test_one_throttle_is_absorbed_by_the_sdk_retry(client: Any, fake: FakeBedrock) -> None:
    fake.fail_next(1)
    assert invoke(client, TITAN_V1, text_image())["images"]
    assert [c.status for c in fake.calls] == [429, 200]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 429),
        ("ModelNotReadyException", 429),
        ("ServiceUnavailableException", 503),
        ("ModelTimeoutException", 408),
        ("InternalServerException", 500),
        ("ModelErrorException", 424),
        ("AccessDeniedException", 403),
        ("ResourceNotFoundException", 404),
        ("ValidationException", 400),
    ],
)
def test_fail_next_codes_map_to_real_statuses(strict_client: Any, fake: FakeBedrock, code: str, status: int) -> None:
    fake.fail_next(1, code, "injected")
    err = error_of(lambda: strict_client.converse(modelId=HAIKU_3, messages=[user({"text": "hi"})]))
    assert err == {"code": code, "message": "injected", "status": status}


def test_denied_model(client: Any, fake: FakeBedrock) -> None:
    fake.denied_models.add(NOVA)
    err = error_of(lambda: invoke(client, NOVA, text_image()))
    assert err == {
        "code": "AccessDeniedException",
        "message": "You don't have access to the model with the specified model ID.",
        "status": 403,
    }
    assert invoke(client, TITAN_V1, text_image())["images"]  # other models unaffected


def test_blocked_term_is_an_input_content_filter_error(client: Any, fake: FakeBedrock) -> None:
    fake.blocked_terms.add("Forbidden")
    err = error_of(lambda: invoke(client, NOVA, text_image("a FORBIDDEN thing")))
    assert err["code"] == "ValidationException"
    assert err["message"] == (
        "This request has been blocked by our content filters. "
        "Please adjust your text prompt to submit a new request."
    )
    titan = error_of(lambda: invoke(client, TITAN_V1, text_image("forbidden fruit")))
    assert "blocked by our content filters" in titan["message"]
    conv = error_of(lambda: client.converse(modelId=HAIKU_3, messages=[user({"text": "forbidden?"})]))
    assert "blocked by our content filters" in conv["message"]


def test_output_blocked_returns_200_with_error_and_fewer_images(client: Any, fake: FakeBedrock) -> None:
    fake.output_blocked_terms.add("beach")
    some = invoke(client, NOVA, text_image("car on a beach", numberOfImages=3))
    assert some["error"] == "Some of the generated images have been blocked by our content filters."
    assert len(some["images"]) == 1

    none = invoke(client, TITAN_V1, text_image("beach", numberOfImages=1))
    assert none["error"] == "All of the generated images have been blocked by our content filters."
    assert none["images"] == []
    assert all(c.status == 200 for c in fake.calls)


def test_nova_success_omits_error_field(client: Any) -> None:
    out = invoke(client, NOVA, text_image(width=1280, height=720))
    assert "error" not in out
    assert decode_image(out["images"][0]).size == (1280, 720)


def test_latency(client: Any, fake: FakeBedrock) -> None:
    fake.latency = 0.3
    started = time.monotonic()
    invoke(client, TITAN_V1, text_image())
    assert time.monotonic() - started >= 0.3


def test_latency_is_all_the_wait(client: Any, fake: FakeBedrock) -> None:
    """Nothing but ``latency`` delays an answer on a kept-alive connection (a small answer's body once
    waited ~40 ms behind its head for the client's delayed ACK)."""
    fake.latency = 0.01
    seconds = []
    for _ in range(15):
        started = time.monotonic()
        client.converse(modelId=HAIKU_3, messages=[user({"text": "hi"})])
        seconds.append(time.monotonic() - started)
    assert sorted(seconds)[7] < 0.04


# ----------------------------------------------------------------------------- model ids


def test_unknown_model_id(client: Any) -> None:
    err = error_of(lambda: invoke(client, "amazon.titan-image-generator-v9", text_image()))
    assert err == {"code": "ValidationException", "message": "The provided model identifier is invalid.", "status": 400}


@pytest.mark.parametrize(
    "model_id",
    [
        "us.amazon.nova-canvas-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-canvas-v1:0",
    ],
)
def test_profile_ids_and_arns_are_url_encoded_and_understood(client: Any, fake: FakeBedrock, model_id: str) -> None:
    assert invoke(client, model_id, text_image(width=512, height=512))["images"]
    assert fake.calls[-1].model_id == model_id


def test_newer_claude_needs_an_inference_profile(client: Any) -> None:
    err = error_of(
        lambda: client.converse(modelId="anthropic.claude-sonnet-4-20250514-v1:0", messages=[user({"text": "hi"})])
    )
    assert err["code"] == "ValidationException"
    assert err["message"] == (
        "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn\u2019t "
        "supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    )
    for model_id in (
        "us.anthropic.claude-sonnet-4-20250514-v1:0",
        "global.anthropic.claude-sonnet-4-20250514-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        HAIKU_3,  # older models still accept the bare id on demand
    ):
        assert client.converse(modelId=model_id, messages=[user({"text": "hi"})])["stopReason"] == "end_turn"


def test_converse_on_an_image_model_is_rejected(client: Any) -> None:
    err = error_of(lambda: client.converse(modelId=NOVA, messages=[user({"text": "hi"})]))
    assert err["code"] == "ValidationException"


# ----------------------------------------------------------------------------- Nova Canvas sizes


@pytest.mark.parametrize("size", [(1280, 720), (320, 1280), (2048, 2048), (4096, 1024), (1024, 1024)])
def test_nova_accepts_valid_sizes(client: Any, size: tuple[int, int]) -> None:
    out = invoke(client, NOVA, text_image(width=size[0], height=size[1]))
    assert decode_image(out["images"][0]).size == size


@pytest.mark.parametrize(
    ("size", "rule"),
    [
        ((304, 512), "between 320-4096"),
        ((4112, 1024), "between 320-4096"),
        ((1000, 1000), "divisible by 16"),
        ((4096, 768), "between 1:4 and 4:1"),
        ((2064, 2064), "4,194,304"),
    ],
)
def test_nova_rejects_invalid_sizes(client: Any, size: tuple[int, int], rule: str) -> None:
    err = error_of(lambda: invoke(client, NOVA, text_image(width=size[0], height=size[1])))
    assert err["code"] == "ValidationException"
    assert rule in err["message"]


def test_nova_prompt_and_seed_limits(client: Any) -> None:
    assert invoke(client, NOVA, text_image("x" * 1024, seed=858993459))["images"]
    assert "maxLength: 1024, actual: 1025" in error_of(lambda: invoke(client, NOVA, text_image("x" * 1025)))["message"]
    assert "858993459" in error_of(lambda: invoke(client, NOVA, text_image(seed=858993460)))["message"]


# ----------------------------------------------------------------------------- editing tasks


def test_background_removal_is_not_available_on_titan_v1(client: Any) -> None:
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": png(512, 512)}}
    err = error_of(lambda: invoke(client, TITAN_V1, body))
    assert err["code"] == "ValidationException"
    assert "BACKGROUND_REMOVAL is not a valid enum value" in err["message"]


@pytest.mark.parametrize("model_id", [TITAN_V2, NOVA])
def test_background_removal_returns_transparent_png_of_input_size(client: Any, model_id: str) -> None:
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": png(640, 480)}}
    out = invoke(client, model_id, body)
    img = decode_image(out["images"][0])
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (640, 480))
    assert img.getpixel((0, 0))[3] == 0  # corner is background
    assert img.getpixel((320, 240))[3] == 255  # centre is kept


def test_titan_input_images_are_limited_to_1408_on_the_long_side(client: Any) -> None:
    ok = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": png(1408, 792)}}
    assert invoke(client, TITAN_V2, ok)["images"]
    too_big = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": png(1409, 792)}}
    err = error_of(lambda: invoke(client, TITAN_V2, too_big))
    assert err["code"] == "ValidationException"
    assert "1408" in err["message"]


def test_input_images_must_be_png_or_jpeg(client: Any) -> None:
    gif = encode_image(Image.new("RGB", (512, 512)), "GIF")
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": gif}}
    assert "PNG and JPEG" in error_of(lambda: invoke(client, NOVA, body))["message"]
    garbage = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "not-base64!"}}
    assert error_of(lambda: invoke(client, NOVA, garbage))["code"] == "ValidationException"


def test_nova_input_images_follow_resolution_rules_and_must_be_opaque(client: Any) -> None:
    small = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": png(300, 512)}}
    assert "320-4096" in error_of(lambda: invoke(client, NOVA, small))["message"]
    translucent = png(512, 512, (10, 10, 10, 128), mode="RGBA")
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": translucent}}
    assert "transparent" in error_of(lambda: invoke(client, NOVA, body))["message"]
    opaque_rgba = png(512, 512, (10, 10, 10, 255), mode="RGBA")
    body = {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": opaque_rgba}}
    assert invoke(client, NOVA, body)["images"]


def outpainting(mask: dict[str, str], **extra: Any) -> dict[str, Any]:
    params = {"image": png(512, 512), "text": "a beach at sunset", "outPaintingMode": "PRECISE", **mask}
    return {"taskType": "OUTPAINTING", "outPaintingParams": params, **extra}


def test_outpainting_with_mask_prompt_keeps_input_size(client: Any) -> None:
    for model_id in (TITAN_V1, NOVA):
        out = invoke(client, model_id, outpainting({"maskPrompt": "car"}, imageGenerationConfig={"numberOfImages": 2}))
        assert [decode_image(b).size for b in out["images"]] == [(512, 512), (512, 512)]


def test_outpainting_with_mask_image(client: Any) -> None:
    mask = Image.new("RGB", (512, 512), (255, 255, 255))
    mask.paste((0, 0, 0), (128, 128, 384, 384))
    out = invoke(client, NOVA, outpainting({"maskImage": encode_image(mask)}))
    img = decode_image(out["images"][0]).convert("RGB")
    assert img.getpixel((256, 256)) == (200, 30, 30)  # black mask area is preserved


@pytest.mark.parametrize(
    ("mask", "fragment"),
    [
        ({}, "maskPrompt or maskImage"),
        ({"maskPrompt": "car", "maskImage": png(512, 512, (0, 0, 0))}, "but not both"),
        ({"maskImage": png(256, 256, (0, 0, 0))}, "same size"),
        ({"maskImage": png(512, 512, (128, 128, 128))}, "pure black"),
    ],
)
def test_mask_rules(client: Any, mask: dict[str, str], fragment: str) -> None:
    err = error_of(lambda: invoke(client, TITAN_V2, outpainting(mask)))
    assert err["code"] == "ValidationException"
    assert fragment in err["message"]


def test_outpainting_mode_and_required_text(client: Any) -> None:
    body = outpainting({"maskPrompt": "car"})
    body["outPaintingParams"]["outPaintingMode"] = "FAST"
    assert "FAST is not a valid enum value" in error_of(lambda: invoke(client, TITAN_V1, body))["message"]
    body = outpainting({"maskPrompt": "car"})
    del body["outPaintingParams"]["text"]
    assert "required key [text] not found" in error_of(lambda: invoke(client, TITAN_V1, body))["message"]


def test_nova_inpainting_rejects_width_and_height(client: Any) -> None:
    body = {
        "taskType": "INPAINTING",
        "inPaintingParams": {"image": png(512, 512), "maskPrompt": "car", "text": "a bike"},
        "imageGenerationConfig": {"width": 512, "height": 512},
    }
    assert error_of(lambda: invoke(client, NOVA, body))["code"] == "ValidationException"
    del body["imageGenerationConfig"]
    assert decode_image(invoke(client, NOVA, body)["images"][0]).size == (512, 512)


def test_image_variation(client: Any, fake: FakeBedrock) -> None:
    body = {
        "taskType": "IMAGE_VARIATION",
        "imageVariationParams": {"images": [png(512, 512)], "similarityStrength": 0.7},
        "imageGenerationConfig": {"numberOfImages": 2, "width": 768, "height": 768},
    }
    out = invoke(client, TITAN_V1, body)
    assert [decode_image(b).size for b in out["images"]] == [(768, 768), (768, 768)]
    body["imageVariationParams"]["similarityStrength"] = 0.1
    assert "similarityStrength" in error_of(lambda: invoke(client, TITAN_V1, body))["message"]
    assert [c.status for c in fake.invocations("IMAGE_VARIATION")] == [200, 400]
    assert fake.invocations("TEXT_IMAGE") == []


# ----------------------------------------------------------------------------- Converse


def test_converse_with_png_and_jpeg(client: Any, fake: FakeBedrock) -> None:
    response = client.converse(
        modelId=SONNET_V2_PROFILE,
        system=[{"text": "You describe images."}],
        inferenceConfig={"maxTokens": 300, "temperature": 0.2},
        messages=[
            user(
                {"text": "Describe these."},
                {"image": {"format": "png", "source": {"bytes": png_bytes(640, 480)}}},
                {"image": {"format": "jpeg", "source": {"bytes": jpeg_bytes(800, 600)}}},
            )
        ],
    )
    text = response["output"]["message"]["content"][0]["text"]
    assert response["output"]["message"]["role"] == "assistant"
    assert "2 images" in text and "640x480" in text and "800x600" in text
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert isinstance(response["metrics"]["latencyMs"], int)
    call = fake.converse_calls()[0]
    assert call.status == 200
    assert decode_image(call.body["messages"][0]["content"][2]["image"]["source"]["bytes"]).size == (800, 600)


def test_converse_answer_can_be_fixed_or_computed(client: Any, fake: FakeBedrock) -> None:
    fake.converse_answer = "A red car."
    out = client.converse(modelId=HAIKU_3, messages=[user({"text": "what?"})])
    assert out["output"]["message"]["content"][0]["text"] == "A red car."
    fake.converse_answer = lambda body: body["messages"][0]["content"][0]["text"].upper()
    out = client.converse(modelId=HAIKU_3, messages=[user({"text": "shout"})])
    assert out["output"]["message"]["content"][0]["text"] == "SHOUT"


def test_converse_rejects_format_mismatch(client: Any) -> None:
    err = error_of(
        lambda: client.converse(
            modelId=SONNET_V2_PROFILE,
            messages=[user({"text": "hi"}, {"image": {"format": "png", "source": {"bytes": jpeg_bytes(64, 64)}}})],
        )
    )
    assert err["code"] == "ValidationException"
    assert err["message"] == (
        "The model returned the following errors: The provided image does not match the specified image format."
    )


def test_converse_image_limits(client: Any) -> None:
    wide = {"image": {"format": "png", "source": {"bytes": png_bytes(8001, 8)}}}
    assert "max pixels" in error_of(lambda: client.converse(modelId=HAIKU_3, messages=[user(wide)]))["message"]

    many = [{"image": {"format": "png", "source": {"bytes": png_bytes(8, 8)}}}] * 21
    assert "Too many images" in error_of(lambda: client.converse(modelId=HAIKU_3, messages=[user(*many)]))["message"]
    assert client.converse(modelId=HAIKU_3, messages=[user(*many[:20])])["stopReason"] == "end_turn"

    noisy = Image.frombytes("RGB", (1200, 1200), random.Random(0).randbytes(1200 * 1200 * 3))
    buf = io.BytesIO()
    noisy.save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) > 3.75 * 1024 * 1024
    big = {"image": {"format": "png", "source": {"bytes": buf.getvalue()}}}
    assert "3.75 MB" in error_of(lambda: client.converse(modelId=HAIKU_3, messages=[user(big)]))["message"]


def test_converse_roles(client: Any) -> None:
    hi = {"text": "hi"}
    image = {"image": {"format": "png", "source": {"bytes": png_bytes(8, 8)}}}
    starts_wrong = error_of(lambda: client.converse(modelId=HAIKU_3, messages=[{"role": "assistant", "content": [hi]}]))
    assert "must start with a user message" in starts_wrong["message"]
    twice = error_of(lambda: client.converse(modelId=HAIKU_3, messages=[user(hi), user(hi)]))
    assert "must alternate between user and assistant" in twice["message"]
    assistant_image = error_of(
        lambda: client.converse(
            modelId=HAIKU_3, messages=[user(hi), {"role": "assistant", "content": [image]}, user(hi)]
        )
    )
    assert "only include images and documents if the role is user" in assistant_image["message"]
    ok = client.converse(modelId=HAIKU_3, messages=[user(hi), {"role": "assistant", "content": [hi]}, user(hi)])
    assert ok["stopReason"] == "end_turn"


# ----------------------------------------------------------------------------- transport


def test_unsigned_requests_are_rejected(fake: FakeBedrock) -> None:
    request = urllib.request.Request(
        f"{fake.url}/model/{NOVA}/invoke", data=json.dumps(text_image()).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-ErrorType"].startswith("MissingAuthenticationTokenException")
    assert json.loads(info.value.read())["message"] == "Missing Authentication Token"
    assert fake.calls[-1].error_code == "MissingAuthenticationTokenException"


def test_env_var_endpoint_and_helpers(fake: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    plain = boto3.client("bedrock-runtime")
    out = invoke(plain, NOVA, text_image(width=512, height=512))
    assert decode_image(out["images"][0]).size == (512, 512)
    assert fake.last_call is not None and fake.last_call.ok
    assert fake.client().converse(modelId=HAIKU_3, messages=[user({"text": "hi"})])["stopReason"] == "end_turn"


def test_reset_clears_calls_and_faults(fake: FakeBedrock, client: Any) -> None:
    fake.fail_next(5)
    fake.blocked_terms.add("x")
    fake.denied_models.add(NOVA)
    fake.latency = 1
    fake.reset()
    assert fake.calls == []
    assert invoke(client, NOVA, text_image("x", width=512, height=512))["images"]


# ----------------------------------------------------------------------------- Stability AI

CORE = "stability.stable-image-core-v1:1"
ULTRA = "stability.stable-image-ultra-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"


@pytest.mark.parametrize("model_id", [CORE, ULTRA, SD35])
@pytest.mark.parametrize(("ratio", "size"), [("1:1", (1024, 1024)), ("16:9", (1344, 768)), ("9:21", (640, 1536))])
def test_stability_text_to_image(client: Any, model_id: str, ratio: str, size: tuple[int, int]) -> None:
    out = invoke(client, model_id, {"prompt": "a red sneaker", "aspect_ratio": ratio, "seed": 7,
                                    "negative_prompt": "people", "output_format": "png"})

    assert out["seeds"] == [7]
    assert out["finish_reasons"] == [None]
    assert len(out["images"]) == 1
    img = decode_image(out["images"][0])
    assert (img.format, img.size) == ("PNG", size)


def test_stability_output_format_and_random_seed(client: Any) -> None:
    out = invoke(client, CORE, {"prompt": "a red sneaker", "output_format": "jpeg"})

    assert decode_image(out["images"][0]).format == "JPEG"
    assert out["seeds"][0] > 0  # seed 0/absent means random; the used seed is reported


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "required key [prompt] not found"),
        ({"prompt": ""}, "expected minLength: 1"),
        ({"prompt": "x" * 10_001}, "expected maxLength: 10000, actual: 10001"),
        ({"prompt": "x", "aspect_ratio": "4:3"}, "#/aspect_ratio: 4:3 is not a valid enum value"),
        ({"prompt": "x", "seed": 4_294_967_295}, "4294967295 is not less or equal to 4294967294"),
        ({"prompt": "x", "output_format": "webp"}, "#/output_format: webp is not a valid enum value"),
        ({"prompt": "x", "style_preset": "anime"}, "extraneous key [style_preset] is not permitted"),
        ({"prompt": "x", "width": 1024}, "extraneous key [width] is not permitted"),
    ],
)
def test_stability_core_validation(client: Any, body: dict[str, Any], fragment: str) -> None:
    err = error_of(lambda: invoke(client, CORE, body))
    assert (err["code"], err["status"]) == ("ValidationException", 400)
    assert fragment in err["message"]


def test_sd35_image_to_image(client: Any) -> None:
    body = {"prompt": "watercolour", "mode": "image-to-image", "image": png(1200, 800), "strength": 0.6}
    out = invoke(client, SD35, body)
    assert decode_image(out["images"][0]).size == (1216, 832)  # nearest ~1 MP bucket (3:2)

    err = error_of(lambda: invoke(client, SD35, {"prompt": "x", "mode": "image-to-image", "image": png(512, 512)}))
    assert "required key [strength] not found" in err["message"]


def test_stability_filters_answer_200_with_finish_reasons(client: Any, fake: FakeBedrock) -> None:
    fake.blocked_terms = {"forbidden"}
    fake.output_blocked_terms = {"spicy"}

    assert invoke(client, CORE, {"prompt": "a forbidden thing"}) == {"finish_reasons": ["Filter reason: prompt"]}
    assert invoke(client, SD35, {"prompt": "a spicy thing"}) == {"finish_reasons": ["Filter reason: output image"]}
    out = invoke(client, SEARCH_REPLACE, {"image": png(512, 512), "search_prompt": "forbidden", "prompt": "a cat"})
    assert out["finish_reasons"] == ["Filter reason: prompt"]
    assert fake.last_call is not None and fake.last_call.status == 200


def test_image_services_need_an_inference_profile(client: Any) -> None:
    err = error_of(lambda: invoke(client, INPAINT.removeprefix("us."), {"image": png(512, 512), "prompt": "x"}))
    assert err["code"] == "ValidationException"
    assert "inference profile" in err["message"]


def test_inpaint_with_mask_keeps_size_and_paints_white(client: Any) -> None:
    mask = Image.new("L", (512, 384), 0)
    mask.paste(255, (0, 0, 256, 384))
    body = {"image": png(512, 384, (0, 0, 255)), "mask": encode_image(mask), "prompt": "flowers",
            "negative_prompt": "text", "grow_mask": 5, "seed": 3, "output_format": "png"}
    img = decode_image(invoke(client, INPAINT, body)["images"][0])

    assert img.size == (512, 384)
    assert img.convert("RGB").getpixel((400, 200)) == (0, 0, 255)  # black mask area kept


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": "x"}, "required key [image] not found"),
        ({"image": "x"}, "required key [prompt] not found"),
        ({"image": png(512, 512), "prompt": "x", "grow_mask": 101}, "101 is not less or equal to 100"),
        ({"image": png(63, 512), "prompt": "x"}, "every side must be at least 64 pixels"),
        ({"image": png(3100, 3100), "prompt": "x"}, "total pixel count must be between 4,096 and 9,437,184"),
        ({"image": png(1000, 300), "prompt": "x"}, "aspect ratio must be between 1:2.5 and 2.5:1"),
        ({"image": png(512, 512), "prompt": "x", "mask_prompt": "car"}, "extraneous key [mask_prompt]"),
    ],
)
def test_inpaint_validation(client: Any, body: dict[str, Any], fragment: str) -> None:
    err = error_of(lambda: invoke(client, INPAINT, body))
    assert err["code"] == "ValidationException"
    assert fragment in err["message"]


def test_outpaint_grows_the_canvas(client: Any) -> None:
    src = Image.new("RGB", (512, 512), (10, 200, 20))
    body = {"image": encode_image(src), "left": 100, "right": 60, "down": 40, "prompt": "a beach"}
    img = decode_image(invoke(client, OUTPAINT, body)["images"][0]).convert("RGB")

    assert img.size == (672, 552)
    assert img.getpixel((100 + 256, 256)) == (10, 200, 20)  # original shifted by left/up

    err = error_of(lambda: invoke(client, OUTPAINT, {"image": encode_image(src), "prompt": "x"}))
    assert "At least one of left, right, up or down" in err["message"]
    err = error_of(lambda: invoke(client, OUTPAINT, {"image": encode_image(src), "left": 2001}))
    assert "2001 is not less or equal to 2000" in err["message"]


def test_search_replace_and_remove_background(client: Any) -> None:
    out = invoke(client, SEARCH_REPLACE, {"image": png(640, 480), "search_prompt": "car", "prompt": "a horse"})
    assert decode_image(out["images"][0]).size == (640, 480)
    err = error_of(lambda: invoke(client, SEARCH_REPLACE, {"image": png(640, 480), "prompt": "a horse"}))
    assert "required key [search_prompt] not found" in err["message"]

    img = decode_image(invoke(client, REMOVE_BG, {"image": png(640, 480)})["images"][0])
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (640, 480))
    assert img.getchannel("A").getextrema() == (0, 255)
    err = error_of(lambda: invoke(client, REMOVE_BG, {"image": png(640, 480), "output_format": "jpeg"}))
    assert "jpeg is not a valid enum value" in err["message"]
    err = error_of(lambda: invoke(client, REMOVE_BG, {"image": png(2100, 2100)}))
    assert "4,194,304" in err["message"]


def test_fast_upscale_is_4x_and_limited_to_1_megapixel(client: Any) -> None:
    img = decode_image(invoke(client, FAST_UPSCALE, {"image": png(300, 200)})["images"][0])
    assert img.size == (1200, 800)
    err = error_of(lambda: invoke(client, FAST_UPSCALE, {"image": png(1100, 1000)}))
    assert "1,048,576" in err["message"]


# ----------------------------------------------------------------------------- GetFoundationModel


def test_get_foundation_model_active_by_default(fake: FakeBedrock) -> None:
    out = fake.control_client().get_foundation_model(modelIdentifier=NOVA)
    details = out["modelDetails"]

    assert details["modelId"] == NOVA
    assert details["modelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"
    assert details["modelLifecycle"] == {"status": "ACTIVE"}
    assert details["outputModalities"] == ["IMAGE"]
    assert fake.foundation_model_calls()[0].model_id == NOVA


def test_get_foundation_model_legacy_with_end_of_life(fake: FakeBedrock, client: Any) -> None:
    from datetime import datetime

    fake.lifecycle[TITAN_V1] = ("LEGACY", "2099-01-31")
    lifecycle = fake.control_client().get_foundation_model(modelIdentifier=TITAN_V1)["modelDetails"]["modelLifecycle"]
    assert lifecycle["status"] == "LEGACY"
    assert lifecycle["endOfLifeTime"] == datetime(2099, 1, 31, tzinfo=UTC)
    invoke(client, TITAN_V1, text_image())  # still usable before its end of life

    fake.lifecycle[TITAN_V1] = ("LEGACY", "2020-01-01")
    err = error_of(lambda: invoke(client, TITAN_V1, text_image()))
    assert (err["code"], err["status"]) == ("ResourceNotFoundException", 404)
    assert "end of its life" in err["message"]


def test_get_foundation_model_unknown_denied_and_profile(fake: FakeBedrock) -> None:
    control = fake.control_client()
    err = error_of(lambda: control.get_foundation_model(modelIdentifier="amazon.titan-image-generator-v9:0"))
    assert (err["code"], err["status"]) == ("ResourceNotFoundException", 404)

    fake.denied_models = {NOVA}
    err = error_of(lambda: control.get_foundation_model(modelIdentifier=NOVA))
    assert (err["code"], err["status"]) == ("AccessDeniedException", 403)

    err = error_of(lambda: control.get_foundation_model(modelIdentifier=INPAINT))
    assert err["code"] == "ValidationException"
    details = control.get_foundation_model(modelIdentifier=INPAINT.removeprefix("us."))["modelDetails"]
    assert details["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]


def test_control_plane_via_env_var(fake: FakeBedrock, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    control = boto3.client("bedrock", config=Config(retries={"total_max_attempts": 1}))
    fake.lifecycle["stability.sd3-5-large-v1:0"] = ("LEGACY", None)

    details = control.get_foundation_model(modelIdentifier=SD35)["modelDetails"]
    assert details["modelLifecycle"] == {"status": "LEGACY"}
    fake.reset()
    assert fake.lifecycle == {}


# ----------------------------------------------------------------------------- Stability image-to-image

STYLE_GUIDE = "us.stability.stable-image-style-guide-v1:0"


def webp(width: int, height: int, color: Any = (20, 160, 90)) -> str:
    return encode_image(Image.new("RGB", (width, height), color), "WEBP")


def test_ultra_image_to_image_keeps_the_input_aspect(client: Any) -> None:
    body = {"prompt": "a watercolour sneaker", "image": png(1200, 800, (0, 0, 255)), "strength": 0.0, "seed": 5}
    out = invoke(client, ULTRA, body)

    assert set(out) == {"seeds", "finish_reasons", "images"}
    assert (out["seeds"], out["finish_reasons"]) == ([5], [None])
    img = decode_image(out["images"][0])
    assert img.size == (1216, 832)  # the ~1 MP bucket nearest the input's 3:2
    assert img.convert("RGB").getpixel((600, 400)) == (0, 0, 255)  # strength 0 keeps the input
    changed = decode_image(invoke(client, ULTRA, {**body, "strength": 1.0})["images"][0]).convert("RGB")
    assert changed.getpixel((600, 400)) != (0, 0, 255)
    # jpeg/png/webp inputs; Ultra documents no aspect-ratio rule for its input image.
    assert decode_image(invoke(client, ULTRA, {**body, "image": webp(1000, 300)})["images"][0]).size == (1536, 640)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"image": png(512, 512)}, "required key [strength] not found"),
        ({"image": png(512, 512), "strength": 1.5}, "strength: 1.5 is not less or equal to 1.0"),
        ({"image": png(512, 512), "strength": 0.5, "aspect_ratio": "16:9"},
         "aspect_ratio is only valid for text-to-image requests."),
        ({"strength": 0.5}, "strength is only valid when image is provided."),
        ({"image": png(63, 512), "strength": 0.5}, "every side must be at least 64 pixels"),
        ({"image": png(16_385, 64), "strength": 0.5}, "every side must be at most 16,384 pixels"),
        ({"image": "not-an-image", "strength": 0.5}, "Unable to decode the image at #/image"),
        ({"image": encode_image(Image.new("RGB", (512, 512)), "GIF"), "strength": 0.5}, "Unsupported image format GIF"),
    ],
)
def test_ultra_image_to_image_validation(client: Any, extra: dict[str, Any], fragment: str) -> None:
    err = error_of(lambda: invoke(client, ULTRA, {"prompt": "x", **extra}))
    assert (err["code"], err["status"]) == ("ValidationException", 400)
    assert fragment in err["message"]


def test_core_takes_no_input_image(client: Any) -> None:
    err = error_of(lambda: invoke(client, CORE, {"prompt": "x", "image": png(512, 512), "strength": 0.5}))
    assert err["code"] == "ValidationException"
    assert err["message"] == (
        "Malformed input request: #: extraneous key [image] is not permitted, please reformat your input and try again."
    )


def test_sd35_image_to_image_rules(client: Any) -> None:
    body = {"prompt": "watercolour", "mode": "image-to-image", "image": webp(640, 1280), "strength": 0.7}
    assert decode_image(invoke(client, SD35, body)["images"][0]).size == (768, 1344)  # nearest 9:16

    def message(**changes: Any) -> str:
        return str(error_of(lambda: invoke(client, SD35, {**body, **changes}))["message"])

    assert message(aspect_ratio="1:1") == "aspect_ratio is only valid for text-to-image requests."
    no_image = {k: v for k, v in body.items() if k != "image"}
    assert "required key [image] not found" in error_of(lambda: invoke(client, SD35, no_image))["message"]
    assert message(mode="text-to-image") == "image and strength are only valid when mode is image-to-image."
    assert "strength: -0.1 is not greater or equal to 0.0" in message(strength=-0.1)
    assert "#/mode: sketch is not a valid enum value" in message(mode="sketch")


# ----------------------------------------------------------------------------- Style Guide


def test_style_guide_renders_a_new_image_at_the_requested_aspect(client: Any, fake: FakeBedrock) -> None:
    body = {"image": png(800, 600, (250, 200, 0)), "prompt": "a sneaker in this style", "aspect_ratio": "16:9",
            "negative_prompt": "text", "fidelity": 0.8, "seed": 9, "output_format": "jpeg",
            "style_preset": "photographic"}
    out = invoke(client, STYLE_GUIDE, body)

    assert (out["seeds"], out["finish_reasons"]) == ([9], [None])
    img = decode_image(out["images"][0])
    assert (img.format, img.size) == ("JPEG", (1344, 768))
    del body["aspect_ratio"], body["output_format"]
    img = decode_image(invoke(client, STYLE_GUIDE, body)["images"][0])
    assert (img.format, img.size) == ("PNG", (1024, 1024))  # defaults: 1:1, png
    assert fake.last_call is not None and fake.last_call.model_id == STYLE_GUIDE


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": "x"}, "required key [image] not found"),
        ({"image": png(512, 512)}, "required key [prompt] not found"),
        ({"image": png(512, 512), "prompt": "x", "fidelity": 1.1}, "fidelity: 1.1 is not less or equal to 1.0"),
        ({"image": png(512, 512), "prompt": "x", "fidelity": "high"}, "fidelity: expected type: Number"),
        ({"image": png(512, 512), "prompt": "x", "aspect_ratio": "4:3"}, "4:3 is not a valid enum value"),
        ({"image": png(512, 512), "prompt": "x", "style_preset": "vaporwave"}, "vaporwave is not a valid enum value"),
        ({"image": png(512, 512), "prompt": "x", "strength": 0.5}, "extraneous key [strength] is not permitted"),
        ({"image": png(1000, 300), "prompt": "x"}, "aspect ratio must be between 1:2.5 and 2.5:1"),
        ({"image": png(3100, 3100), "prompt": "x"}, "between 4,096 and 9,437,184"),
    ],
)
def test_style_guide_validation(client: Any, body: dict[str, Any], fragment: str) -> None:
    err = error_of(lambda: invoke(client, STYLE_GUIDE, body))
    assert (err["code"], err["status"]) == ("ValidationException", 400)
    assert fragment in err["message"]


def test_style_guide_needs_a_profile_and_has_metadata(client: Any, fake: FakeBedrock) -> None:
    bare = STYLE_GUIDE.removeprefix("us.")
    err = error_of(lambda: invoke(client, bare, {"image": png(512, 512), "prompt": "x"}))
    assert err == {
        "code": "ValidationException",
        "status": 400,
        "message": f"Invocation of model ID {bare} with on-demand throughput isn\u2019t supported. Retry your "
                   "request with the ID or ARN of an inference profile that contains this model.",
    }
    details = fake.control_client().get_foundation_model(modelIdentifier=bare)["modelDetails"]
    assert details["modelName"] == "Stable Image Style Guide"
    assert details["providerName"] == "Stability AI"
    assert details["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert details["modelLifecycle"] == {"status": "ACTIVE"}


# ----------------------------------------------------------------------------- Stability responses and limits


@pytest.mark.parametrize(
    ("model_id", "body"),
    [
        (CORE, {"prompt": "a shoe"}),
        (INPAINT, {"image": png(256, 256), "prompt": "a shoe"}),
        (REMOVE_BG, {"image": png(256, 256)}),
        (FAST_UPSCALE, {"image": png(64, 64)}),
        (STYLE_GUIDE, {"image": png(256, 256), "prompt": "a shoe"}),
    ],
)
def test_stability_response_shape(client: Any, model_id: str, body: dict[str, Any]) -> None:
    out = invoke(client, model_id, body)
    assert set(out) == {"seeds", "finish_reasons", "images"}
    assert out["finish_reasons"] == [None]
    assert len(out["seeds"]) == len(out["images"]) == 1
    assert isinstance(out["seeds"][0], int) and 0 < out["seeds"][0] <= 4_294_967_294


def test_stability_input_image_filter(client: Any, fake: FakeBedrock) -> None:
    fake.block_input_images = True
    for model_id, body in ((REMOVE_BG, {"image": png(256, 256)}),
                           (ULTRA, {"prompt": "x", "image": png(256, 256), "strength": 0.5})):
        assert invoke(client, model_id, body) == {"finish_reasons": ["Filter reason: input image"]}
    assert invoke(client, CORE, {"prompt": "no input image"})["finish_reasons"] == [None]


def test_stability_filtered_answers_can_carry_an_image_not_to_show(client: Any, fake: FakeBedrock) -> None:
    fake.filtered_with_image = True
    fake.blocked_terms = {"forbidden"}
    fake.output_blocked_terms = {"spicy"}

    out = invoke(client, CORE, {"prompt": "a spicy thing", "aspect_ratio": "16:9", "seed": 3})
    assert (out["seeds"], out["finish_reasons"]) == ([3], ["Filter reason: output image"])
    withheld = decode_image(out["images"][0])
    assert withheld.size == (1344, 768)
    assert withheld.convert("RGB").getextrema() == ((128, 128), (128, 128), (128, 128))  # a placeholder
    out = invoke(client, SEARCH_REPLACE, {"image": png(512, 512), "search_prompt": "car", "prompt": "forbidden"})
    assert out["finish_reasons"] == ["Filter reason: prompt"] and len(out["images"]) == 1


def test_fast_upscale_side_and_pixel_limits(client: Any) -> None:
    assert decode_image(invoke(client, FAST_UPSCALE, {"image": png(32, 32)})["images"][0]).size == (128, 128)
    # No aspect-ratio rule for fast upscale: only 32-1,536 a side and 1,024-1,048,576 pixels.
    assert decode_image(invoke(client, FAST_UPSCALE, {"image": png(1536, 32)})["images"][0]).size == (6144, 128)
    for size, fragment in (((31, 64), "every side must be at least 32 pixels"),
                           ((1537, 100), "every side must be at most 1,536 pixels"),
                           ((1024, 1025), "between 1,024 and 1,048,576")):
        err = error_of(lambda size=size: invoke(client, FAST_UPSCALE, {"image": png(*size)}))
        assert err["code"] == "ValidationException"
        assert fragment in err["message"], err


def test_outpaint_side_ranges(client: Any) -> None:
    src = png(64, 64)
    assert decode_image(invoke(client, OUTPAINT, {"image": src, "left": 2000})["images"][0]).size == (2064, 64)
    for extra, fragment in (({"up": -1}, "up: -1 is not greater or equal to 0"),
                            ({"down": 2001}, "down: 2001 is not less or equal to 2000"),
                            ({"right": 1.5}, "right: expected type: Integer, found: BigDecimal"),
                            ({"left": 0}, "At least one of left, right, up or down")):
        err = error_of(lambda extra=extra: invoke(client, OUTPAINT, {"image": src, **extra}))
        assert err["code"] == "ValidationException"
        assert fragment in err["message"], err


# ----------------------------------------------------------------------------- Claude sampling parameters

HAIKU_45_PROFILE = f"us.{CLAUDE_HAIKU_4_5}"
HAIKU_55_PROFILE = f"us.{CLAUDE_HAIKU_5_5}"


def test_haiku_5_5_refuses_temperature_and_top_p(client: Any) -> None:
    assert CLAUDE_HAIKU_5_5 in CLAUDE_NO_SAMPLING and CLAUDE_HAIKU_4_5 not in CLAUDE_NO_SAMPLING
    hi = [user({"text": "hi"})]
    ok = client.converse(modelId=HAIKU_55_PROFILE, messages=hi, inferenceConfig={"maxTokens": 300})
    assert ok["stopReason"] == "end_turn"
    assert error_of(lambda: client.converse(modelId=HAIKU_55_PROFILE, messages=hi,
                                            inferenceConfig={"maxTokens": 300, "temperature": 0.4})) == {
        "code": "ValidationException",
        "status": 400,
        "message": "The model returned the following errors: `temperature` is deprecated for this model.",
    }
    err = error_of(lambda: client.converse(modelId=f"global.{CLAUDE_HAIKU_5_5}", messages=hi,
                                           inferenceConfig={"topP": 0.9}))
    assert err["message"] == "The model returned the following errors: `top_p` is deprecated for this model."
    bare = error_of(lambda: client.converse(modelId=CLAUDE_HAIKU_5_5, messages=hi))
    assert "with on-demand throughput isn\u2019t supported" in bare["message"]


@pytest.mark.parametrize("base", sorted(CLAUDE_NO_SAMPLING))
def test_every_no_sampling_model_refuses_temperature(client: Any, base: str) -> None:
    err = error_of(lambda: client.converse(modelId=f"us.{base}", messages=[user({"text": "hi"})],
                                           inferenceConfig={"temperature": 0.0}))
    assert err["message"].endswith("`temperature` is deprecated for this model.")


def test_haiku_4_5_takes_temperature_or_top_p_but_not_both(client: Any) -> None:
    hi = [user({"text": "hi"})]
    for config in ({"temperature": 0.4}, {"topP": 0.9}, {"maxTokens": 700, "temperature": 0.4}):
        assert client.converse(modelId=HAIKU_45_PROFILE, messages=hi, inferenceConfig=config)["stopReason"] == "end_turn"
    err = error_of(lambda: client.converse(modelId=HAIKU_45_PROFILE, messages=hi,
                                           inferenceConfig={"temperature": 0.4, "topP": 0.9}))
    assert err == {
        "code": "ValidationException",
        "status": 400,
        "message": "The model returned the following errors: `temperature` and `top_p` cannot both be "
                   "specified for this model. Please use only one.",
    }
    # Older models still take both.
    both = client.converse(modelId=HAIKU_3, messages=hi, inferenceConfig={"temperature": 0.4, "topP": 0.9})
    assert both["stopReason"] == "end_turn"


# ----------------------------------------------------------------------------- lifecycle and account knobs


def test_legacy_image_models_are_served_and_active_by_default(client: Any, fake: FakeBedrock) -> None:
    control = fake.control_client()
    for model_id in (TITAN_V2, NOVA):
        assert control.get_foundation_model(modelIdentifier=model_id)["modelDetails"]["modelLifecycle"] == {
            "status": "ACTIVE"
        }
    assert invoke(client, TITAN_V2, text_image())["images"]
    assert invoke(client, NOVA, text_image(width=512, height=512))["images"]


def test_retire_uses_the_real_end_of_life_date(strict_client: Any, fake: FakeBedrock) -> None:
    from datetime import datetime

    fake.retire(f"us.{NOVA}")
    fake.retire(TITAN_V2)
    for model_id in (NOVA, f"us.{NOVA}", TITAN_V2):
        err = error_of(lambda model_id=model_id: invoke(strict_client, model_id, text_image()))
        assert err == {
            "code": "ResourceNotFoundException",
            "status": 404,
            "message": "This model version has reached the end of its life. "
                       "Please refer to the AWS documentation for more details.",
        }
    lifecycle = fake.control_client().get_foundation_model(modelIdentifier=TITAN_V2)["modelDetails"]["modelLifecycle"]
    assert lifecycle == {"status": "LEGACY", "endOfLifeTime": datetime(2026, 6, 30, tzinfo=UTC)}
    assert AWS_END_OF_LIFE[NOVA] == "2026-09-30"
    assert invoke(strict_client, CORE, {"prompt": "still here"})["images"]  # others unaffected

    fake.retire(HAIKU_3)  # a model without a known date: retired as of yesterday
    err = error_of(lambda: strict_client.converse(modelId=HAIKU_3, messages=[user({"text": "hi"})]))
    assert (err["code"], err["status"]) == ("ResourceNotFoundException", 404)


def test_legacy_unused_model(strict_client: Any, fake: FakeBedrock) -> None:
    fake.legacy_unused(NOVA)
    expected = {
        "code": "ResourceNotFoundException",
        "status": 404,
        "message": "Access denied. This Model is marked by provider as Legacy and you have not been actively using "
                   "the model in the last 30 days. Please upgrade to an active model on Amazon Bedrock",
    }
    assert error_of(lambda: invoke(strict_client, NOVA, text_image())) == expected
    assert error_of(lambda: invoke(strict_client, f"us.{NOVA}", text_image())) == expected
    details = fake.control_client().get_foundation_model(modelIdentifier=NOVA)["modelDetails"]
    assert details["modelLifecycle"] == {"status": "LEGACY"}
    assert invoke(strict_client, TITAN_V2, text_image())["images"]

    fake.legacy_unused(f"us.{CLAUDE_HAIKU_4_5}")
    err = error_of(lambda: strict_client.converse(modelId=HAIKU_45_PROFILE, messages=[user({"text": "hi"})]))
    assert err == expected


def test_blocked_account(strict_client: Any, fake: FakeBedrock) -> None:
    fake.block_account()
    expected = {"code": "ValidationException", "status": 400, "message": "Operation not allowed"}
    assert error_of(lambda: invoke(strict_client, CORE, {"prompt": "x"})) == expected
    assert error_of(lambda: invoke(strict_client, TITAN_V2, text_image())) == expected
    assert error_of(lambda: strict_client.converse(modelId=HAIKU_45_PROFILE, messages=[user({"text": "hi"})])) == expected
    assert fake.control_client().get_foundation_model(modelIdentifier=SD35)["modelDetails"]["modelId"] == SD35

    fake.block_account(False)
    assert invoke(strict_client, CORE, {"prompt": "x"})["images"]


def test_pending_marketplace_subscription(strict_client: Any, fake: FakeBedrock) -> None:
    fake.pending_subscription(f"us.{CLAUDE_HAIKU_4_5}", calls=2)
    control = fake.control_client()
    assert control.get_foundation_model_availability(modelId=CLAUDE_HAIKU_4_5)["agreementAvailability"] == {
        "status": "PENDING"
    }
    hi = [user({"text": "hi"})]
    for _ in range(2):
        err = error_of(lambda: strict_client.converse(modelId=HAIKU_45_PROFILE, messages=hi))
        assert (err["code"], err["status"]) == ("AccessDeniedException", 403)
        assert err["message"].startswith("Model access is denied due to IAM user or service role is not authorized "
                                         "to perform the required AWS Marketplace actions (aws-marketplace:"
                                         "ViewSubscriptions, aws-marketplace:Subscribe)")
        assert err["message"].endswith("try again after 2 minutes.")
    assert strict_client.converse(modelId=HAIKU_45_PROFILE, messages=hi)["stopReason"] == "end_turn"
    assert control.get_foundation_model_availability(modelId=CLAUDE_HAIKU_4_5)["agreementAvailability"] == {
        "status": "NOT_AVAILABLE"
    }

    fake.pending_subscription(CORE)  # default: one call
    assert error_of(lambda: invoke(strict_client, CORE, {"prompt": "x"}))["code"] == "AccessDeniedException"
    assert invoke(strict_client, CORE, {"prompt": "x"})["images"]


def test_unknown_ids_answer_invalid_identifier(strict_client: Any) -> None:
    expected = {"code": "ValidationException", "status": 400, "message": "The provided model identifier is invalid."}
    assert error_of(lambda: invoke(strict_client, "stability.stable-image-core-v9:0", {"prompt": "x"})) == expected
    assert error_of(lambda: invoke(strict_client, "us.stability.stable-image-nope-v1:0", {"prompt": "x"})) == expected
    assert error_of(lambda: strict_client.converse(modelId="us.meta.llama9", messages=[user({"text": "hi"})])) == expected


def test_image_service_bare_id_message_is_verbatim(strict_client: Any) -> None:
    bare = REMOVE_BG.removeprefix("us.")
    err = error_of(lambda: invoke(strict_client, bare, {"image": png(256, 256)}))
    assert err["message"] == (
        f"Invocation of model ID {bare} with on-demand throughput isn\u2019t supported. "
        "Retry your request with the ID or ARN of an inference profile that contains this model."
    )


def test_reset_clears_the_new_knobs(fake: FakeBedrock, strict_client: Any) -> None:
    fake.retire(TITAN_V2)
    fake.legacy_unused(NOVA)
    fake.block_account()
    fake.pending_subscription(CORE, calls=5)
    fake.block_input_images = True
    fake.filtered_with_image = True
    fake.reset()
    assert invoke(strict_client, TITAN_V2, text_image())["images"]
    assert invoke(strict_client, NOVA, text_image(width=512, height=512))["images"]
    assert invoke(strict_client, CORE, {"prompt": "x"})["images"]
    assert invoke(strict_client, REMOVE_BG, {"image": png(256, 256)})["finish_reasons"] == [None]
