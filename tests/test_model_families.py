"""Every command against every model family that supports it (and a clear word where one does not)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import camera_jpeg, encode

TITAN_V1, TITAN_V2, NOVA = "amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2:0", "amazon.nova-canvas-v1:0"
CORE, ULTRA, SD35 = "stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1", "stability.sd3-5-large-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def thread_text(slack: FakeSlack, ts: str) -> str:
    return json.dumps(slack.thread_messages("C1", ts), ensure_ascii=False)


def post_photo(slack: FakeSlack, text: str = "", mask: bytes | None = None) -> str:
    files = [slack.add_file(camera_jpeg(800, 600), name="shot.jpg")]
    if mask is not None:
        files.append(slack.add_file(mask, name="mask.png", mimetype="image/png"))
    return slack.post_user_message("C1", "U1", text, files=files)


@pytest.mark.parametrize("model", [TITAN_V1, TITAN_V2, NOVA, CORE, ULTRA, SD35])
def test_imagine_on_every_generator(make_studio, slack: FakeSlack, bedrock: FakeBedrock, model: str) -> None:
    studio = make_studio(image_model_id=model)
    studio.slash("/imagine", "a lighthouse at dawn ar=16:9 n=2 seed=11")
    studio.wait_idle()
    calls = [c for c in bedrock.calls if c.operation == "InvokeModel" and c.status == 200]
    assert calls and all(c.model_id == model for c in calls)
    assert len(slack.uploads) == 2
    width, height = image(slack.uploads[0]["content"]).size
    assert 1.6 < width / height < 2.0
    if model.startswith("stability."):
        assert len(calls) == 2, "one image per call"
        assert {c.body["aspect_ratio"] for c in calls} == {"16:9"}
        assert sorted(c.body["seed"] for c in calls) == [11, 12], "one call per image, in parallel"
    assert f"{width}×{height}" in json.dumps(slack.updates[-1]["blocks"], ensure_ascii=False)


def test_stability_refusal_is_a_content_filter_message(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(image_model_id=CORE)
    bedrock.blocked_terms.add("forbidden")
    studio.slash("/imagine", "a forbidden poster")
    studio.wait_idle()
    assert "content filter blocked" in json.dumps(slack.updates[-1]["blocks"])
    assert slack.uploads == []


@pytest.mark.parametrize("model", [TITAN_V2, NOVA, REMOVE_BG])
def test_remove_background_on_every_capable_model(make_studio, slack: FakeSlack, bedrock: FakeBedrock, model: str) -> None:
    studio = make_studio(remove_bg_model_id=model)
    ts = post_photo(slack)
    studio.slash("/remove-bg", "")
    studio.wait_idle()
    assert image(slack.uploads[0]["content"]).mode == "RGBA", thread_text(slack, ts)
    assert slack.uploads[0]["thread_ts"] == ts


@pytest.mark.parametrize("model", [TITAN_V2, NOVA, OUTPAINT])
def test_extend_on_every_capable_model(make_studio, slack: FakeSlack, bedrock: FakeBedrock, model: str) -> None:
    studio = make_studio(edit_model_id=model)
    ts = post_photo(slack)
    studio.slash("/extend", "ar=9:16 a city street at dusk")
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.status == 200]
    result = image(slack.uploads[0]["content"])
    assert abs(result.width / result.height - 9 / 16) < 0.05, thread_text(slack, ts)
    if model == OUTPAINT:
        assert call.body.get("left", 0) == call.body.get("right", 0) == 0 and call.body["up"] > 0 and call.body["down"] > 0


@pytest.mark.parametrize("model", [TITAN_V2, NOVA, SEARCH_REPLACE])
def test_edit_by_description_on_every_capable_model(make_studio, slack: FakeSlack, bedrock: FakeBedrock, model: str) -> None:
    studio = make_studio(edit_model_id=model)
    ts = post_photo(slack)
    studio.slash("/edit", 'mask="the red ball" a blue ball')
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.status == 200]
    if model == SEARCH_REPLACE:
        assert (call.body["search_prompt"], call.body["prompt"]) == ("the red ball", "a blue ball")
    else:
        assert call.body["inPaintingParams"]["maskPrompt"] == "the red ball"
    assert len(slack.uploads) == 1, thread_text(slack, ts)


@pytest.mark.parametrize("model", [TITAN_V2, NOVA, INPAINT])
def test_edit_with_a_mask_image_on_every_capable_model(make_studio, slack: FakeSlack, bedrock: FakeBedrock, model: str) -> None:
    studio = make_studio(edit_model_id=model)
    mask = Image.new("L", (800, 600), 255)
    mask.paste(0, (100, 100, 300, 300))  # black = repaint, as Studio asks people to draw it
    ts = post_photo(slack, "<@UBOT> edit a blue ball", mask=encode(mask, "PNG"))
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    [call] = [c for c in bedrock.calls if c.status == 200]
    if model == INPAINT:
        sent = image(base64.b64decode(call.body["mask"])).convert("L")
        assert sent.getpixel((200, 200)) == 255 and sent.getpixel((10, 10)) == 0, "Stability: white = repaint"
    assert len(slack.uploads) == 1, thread_text(slack, ts)


@pytest.mark.parametrize(
    ("setting", "model", "command", "text", "expected"),
    [
        ("replace_bg_model_id", OUTPAINT, "/replace-bg", "keep=car a beach", "cannot do background replacement"),
        ("edit_model_id", INPAINT, "/edit", 'mask="ball" a cube', "us.stability.stable-image-search-replace-v1:0"),
        ("extend_model_id", SEARCH_REPLACE, "/extend", "ar=9:16 a street", "cannot do outpainting"),
        ("remove_bg_model_id", TITAN_V1, "/remove-bg", "", "STUDIO_REMOVE_BG_MODEL"),
    ],
)
def test_models_that_cannot_do_a_task_say_so(make_studio, slack: FakeSlack, bedrock: FakeBedrock,
                                            setting: str, model: str, command: str, text: str, expected: str) -> None:
    studio = make_studio(**{setting: model})
    ts = post_photo(slack)
    studio.slash(command, text)
    studio.wait_idle()
    assert expected in thread_text(slack, ts)
    assert [c for c in bedrock.calls if c.operation == "InvokeModel"] == []


def test_unknown_configured_model_is_explained_not_crashed(make_studio, slack: FakeSlack) -> None:
    studio = make_studio(image_model_id="acme.painter-v1")
    ack = studio.slash("/imagine", "a red car")
    assert "not one Studio can drive" in ack["text"] and "doctor" in ack["text"]


def test_unexpected_bedrock_rejection_is_worded_not_crashed(make_studio, slack: FakeSlack,
                                                            bedrock: FakeBedrock) -> None:
    """Regression: ModelFailed was built with a keyword it does not take (TypeError on every rejection)."""
    studio = make_studio(image_model_id=CORE)
    bedrock.fail_next(1, "ValidationException", "Malformed input request: something new")
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    final = json.dumps(slack.updates[-1]["blocks"])
    assert "Bedrock rejected the request (ValidationException)" in final
    assert "Something went wrong" not in final and "Generating" not in final
