"""The default model stack (Stability AI + Claude) end to end: what a person sees and what Bedrock receives.

Every scenario here runs with no model overrides unless it says otherwise, so it
exercises the stack a new install gets. No request may reach an ``amazon.*`` model
(Titan and Nova Canvas have reached their end of life on Bedrock), except in the
Amazon-stack smoke tests at the end.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.conftest import Studio
from tests.fakes.bedrock import CLAUDE_HAIKU_5_5, BedrockCall, FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import camera_jpeg

CORE, ULTRA = "stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"
CONSERVATIVE_UPSCALE = "us.stability.stable-conservative-upscale-v1:0"
CREATIVE_UPSCALE = "us.stability.stable-creative-upscale-v1:0"
TITAN_V2 = "amazon.titan-image-generator-v2:0"


@pytest.fixture
def amazon_allowed() -> None:
    """Requested by the tests that configure an Amazon model on purpose."""


@pytest.fixture(autouse=True)
def _nothing_reaches_amazon(request: pytest.FixtureRequest, bedrock: FakeBedrock) -> Iterator[None]:
    """On the default stack no request goes to a retired Amazon model."""
    yield
    if "amazon_allowed" in request.fixturenames:
        return
    amazon = [c.model_id for c in bedrock.calls if "amazon." in c.model_id]
    assert amazon == [], f"requests reached Amazon models: {amazon}"


# --- helpers ------------------------------------------------------------------------------

def decoded(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def uploaded(slack: FakeSlack, index: int = -1) -> Image.Image:
    return Image.open(io.BytesIO(slack.uploads[index]["content"]))


def invokes(bedrock: FakeBedrock, model: str | None = None) -> list[BedrockCall]:
    return [c for c in bedrock.calls if c.operation == "InvokeModel" and (model is None or c.model_id == model)]


def post_photo(slack: FakeSlack, content: bytes, user: str = "U1", text: str = "", extra: list[bytes] = ()) -> str:
    files = [slack.add_file(content, name="shot.jpg", user=user)]
    files += [slack.add_file(data, name=f"mask{i}.png", mimetype="image/png", user=user) for i, data in enumerate(extra)]
    return slack.post_user_message("C1", user, text, files=files)


def thread_text(slack: FakeSlack, ts: str) -> str:
    return json.dumps(slack.thread_messages("C1", ts), ensure_ascii=False)


def private_text(slack: FakeSlack, key: str = "r1") -> str:
    return json.dumps(slack.responses.get(key, []), ensure_ascii=False)


def result_message(slack: FakeSlack, thread_ts: str | None = None) -> dict[str, Any]:
    """The newest bot message with result buttons (in a thread, or top level)."""
    messages = slack.thread_messages("C1", thread_ts) if thread_ts else slack.channel_messages("C1")
    with_buttons = [m for m in messages if any(b.get("type") == "actions" for b in m.get("blocks", []))]
    assert with_buttons, f"no result buttons in {json.dumps(messages)[:800]}"
    return with_buttons[-1]


def blocks_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


def click(studio: Studio, slack: FakeSlack, message: dict[str, Any], action_id: str, user: str = "U2") -> None:
    studio.interact(slack.block_actions_payload("C1", message["ts"], action_id, user=user))


def usage(studio: Studio) -> str:
    return studio.slash("/imagine", "usage", response_key="usage")["text"]


# --- 1. /imagine --------------------------------------------------------------------------

def test_imagine_on_stable_image_core(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker ar=4:5 n=2 no=people")
    studio.wait_idle()
    calls = invokes(bedrock)
    assert [c.model_id for c in calls] == [CORE, CORE] and all(c.ok for c in calls)
    assert {c.body["aspect_ratio"] for c in calls} == {"4:5"}
    assert {c.body["negative_prompt"] for c in calls} == {"people"}
    assert {c.body["prompt"] for c in calls} == {"sneaker"}
    seeds = sorted(c.body["seed"] for c in calls)
    assert seeds[0] != seeds[1]
    assert len(slack.uploads) == 2
    assert uploaded(slack, 0).size == (896, 1088)
    result = blocks_text(result_message(slack))
    assert all(str(seed) in result for seed in seeds), result
    assert "Generating" not in json.dumps(slack.updates[-1], ensure_ascii=False)


def test_imagine_premium_uses_stable_image_ultra(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker quality=premium")
    studio.wait_idle()
    assert [c.model_id for c in invokes(bedrock)] == [ULTRA]
    assert len(slack.uploads) == 1


def test_imagine_4_3_maps_to_the_nearest_ratio_and_says_so(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker ar=4:3")
    studio.wait_idle()
    [call] = invokes(bedrock, CORE)
    assert call.body["aspect_ratio"] in ("5:4", "3:2")
    result = blocks_text(result_message(slack))
    # Regression: the note named "13:9" (worked out from 1216×832), a ratio no model offers.
    assert f"has no 4:3; the nearest it offers is {call.body['aspect_ratio']}." in result, result


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "21:9", "9:21"])
def test_imagine_a_ratio_the_model_offers_gets_no_nearest_note(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                                 ratio: str) -> None:
    studio.slash("/imagine", f"sneaker ar={ratio}")
    studio.wait_idle()
    [call] = invokes(bedrock, CORE)
    assert call.body["aspect_ratio"] == ratio
    # Regression: "Stable Image Core has no 16:9; the nearest it offers is 16:9." (16:9 read as 7:4).
    assert "nearest it offers" not in blocks_text(result_message(slack))


def test_imagine_cfg_is_a_private_usage_error_on_stability(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ack = studio.slash("/imagine", "sneaker cfg=7")
    studio.wait_idle()
    text = ack.get("text", "") + private_text(slack)
    assert "cfg" in text, text
    assert bedrock.calls == [] and slack.uploads == []
    assert slack.channel_messages("C1") == []


# --- 2. /replace-bg -----------------------------------------------------------------------

def test_replace_bg_precise_keeps_the_subject_pixels(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    ts = post_photo(slack, camera_jpeg(4000, 3000))  # a 12 MP phone photo
    studio.slash("/replace-bg", "keep=car beach at sunset mode=precise")
    studio.wait_idle(timeout=60)
    assert [c.model_id for c in invokes(bedrock)] == [REMOVE_BG, INPAINT], thread_text(slack, ts)
    cut_call, paint_call = invokes(bedrock)
    assert "mask" not in paint_call.body and paint_call.body["grow_mask"] == 0
    assert paint_call.body["prompt"] == "beach at sunset"
    [check] = bedrock.converse_calls()
    assert "'car'" in json.dumps(check.body)
    sent = decoded(cut_call.body["image"]).convert("RGB")
    assert sent.width * sent.height <= 9_437_184, "Stability's input limit"
    # The fake's cut-out keeps an ellipse inset by a sixth on each side (see _render_stability).
    alpha = Image.new("L", sent.size, 0)
    w, h = sent.size
    ImageDraw.Draw(alpha).ellipse((w // 6, h // 6, w - w // 6, h - h // 6), fill=255)
    [upload] = slack.uploads
    assert upload["thread_ts"] == ts
    result = Image.open(io.BytesIO(upload["content"])).convert("RGB")
    assert result.size == sent.size
    black = Image.new("RGB", sent.size)
    assert Image.composite(result, black, alpha).tobytes() == Image.composite(sent, black, alpha).tobytes(), \
        "every opaque pixel of the cut-out is the original's"
    assert Image.composite(black, result, alpha).tobytes() != Image.composite(black, sent, alpha).tobytes(), \
        "the background was repainted"
    assert "beach at sunset" in blocks_text(result_message(slack, ts))
    assert "you: *1 of 10*" in usage(studio)


def test_replace_bg_default_mode_blends_the_edge(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/replace-bg", "keep=car beach at sunset")
    studio.wait_idle()
    [paint_call] = invokes(bedrock, INPAINT)
    assert paint_call.body["grow_mask"] > 0 and "mask" not in paint_call.body
    assert len(slack.uploads) == 1 and slack.uploads[0]["thread_ts"] == ts


def test_replace_bg_refuses_a_cutout_that_is_not_the_keep_subject(make_studio, slack: FakeSlack,
                                                                  bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)

    def answer(body: dict[str, Any]) -> str:
        prompt = json.dumps(body)
        return "no; a brown dog" if "cut out of a photo" in prompt else "A photo."

    bedrock.converse_answer = answer
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/replace-bg", "keep=car beach at sunset")
    studio.wait_idle()
    assert len(bedrock.converse_calls()) == 1
    text = thread_text(slack, ts)
    assert "a brown dog" in text and "car" in text, text
    assert slack.uploads == [], "the painted background of the wrong subject is not posted"
    assert "Working" not in text
    assert "you: *0 of 10*" in usage(studio), "the quota is given back"


def test_replace_bg_checks_the_subject_while_the_background_is_painted(studio: Studio, slack: FakeSlack,
                                                                        bedrock: FakeBedrock) -> None:
    """The vision check does not add its round trip to the wait: it runs beside the inpaint call."""
    inpaint_in_flight: list[bool] = []

    def answer(body: dict[str, Any]) -> str:
        deadline = time.monotonic() + 10
        while not invokes(bedrock, INPAINT) and time.monotonic() < deadline:
            time.sleep(0.01)
        inpaint_in_flight.append(bool(invokes(bedrock, INPAINT)))
        return "yes; a red car"

    bedrock.converse_answer = answer
    post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/replace-bg", "keep=car beach at sunset")
    studio.wait_idle(timeout=60)
    assert inpaint_in_flight == [True]
    assert len(slack.uploads) == 1


# --- 4. models that cannot be used -------------------------------------------------------

def final_progress(slack: FakeSlack) -> str:
    """What the /imagine heading says when the job has ended."""
    return json.dumps(slack.updates[-1], ensure_ascii=False) if slack.updates else ""


def admin_dms(slack: FakeSlack, admin: str = "UADMIN") -> list[dict[str, Any]]:
    return [call for call in slack.calls_to("chat.postMessage") if call.get("channel") == admin]


def test_a_retired_model_is_named_with_its_replacement_once(make_studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                            amazon_allowed: None) -> None:
    studio = make_studio(image_model_id=TITAN_V2, admins=frozenset({"UADMIN"}), user_daily_images=10)
    bedrock.retire(TITAN_V2)
    studio.slash("/imagine", "sneaker n=2")
    studio.wait_idle()
    shown = final_progress(slack)
    assert "reached the end of its life" in shown, shown
    assert "STUDIO_IMAGE_MODEL" in shown and CORE in shown and "<@UADMIN>" in shown
    everything = json.dumps(slack.channel_messages("C1"), ensure_ascii=False)
    assert "Generating" not in everything and "Working" not in everything, everything
    assert [c.model_id for c in invokes(bedrock)] == [TITAN_V2], "not retried"
    assert slack.uploads == []
    assert "you: *0 of 10*" in usage(studio), "the quota is given back"
    studio.slash("/imagine", "sneaker again", response_key="r2")
    studio.wait_idle()
    assert len(invokes(bedrock)) == 2
    [dm] = admin_dms(slack)
    assert "end of its life" in dm["text"] and f"STUDIO_IMAGE_MODEL={CORE}" in dm["text"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("block_account", "Operation not allowed"),
     ("legacy_unused", "is Legacy"),
     ("pending_subscription", "try again in a few minutes")],
)
def test_model_access_faults_are_worded(make_studio, slack: FakeSlack, bedrock: FakeBedrock,
                                        fault: str, expected: str) -> None:
    studio = make_studio(admins=frozenset({"UADMIN"}), user_daily_images=10)
    if fault == "block_account":
        bedrock.block_account()
    elif fault == "legacy_unused":
        bedrock.legacy_unused(CORE)
    else:
        bedrock.pending_subscription(CORE, calls=100)
    studio.slash("/imagine", "sneaker")
    studio.wait_idle(timeout=30)
    shown = final_progress(slack)
    assert expected in shown, shown
    assert "Generating" not in json.dumps(slack.channel_messages("C1"), ensure_ascii=False)
    assert invokes(bedrock) and {c.model_id for c in invokes(bedrock)} == {CORE}
    assert slack.uploads == []
    assert "you: *0 of 10*" in usage(studio)
    if fault != "pending_subscription":
        assert len(invokes(bedrock)) == 1, "a model that cannot be used is not retried"
        assert len(admin_dms(slack)) == 1


# --- 3. every result button, and /upscale ------------------------------------------------

def imagine_one(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> dict[str, Any]:
    studio.slash("/imagine", "a lighthouse on a cliff")
    studio.wait_idle()
    message = result_message(slack)
    bedrock.calls.clear()
    return message


def test_variations_button_is_ultra_image_to_image(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    message = imagine_one(studio, slack, bedrock)
    click(studio, slack, message, "studio_variations")
    studio.wait_idle()
    calls = invokes(bedrock)
    assert calls and {c.model_id for c in calls} == {ULTRA}
    body = calls[0].body
    assert decoded(body["image"]).size == (1024, 1024) and 0.5 <= body["strength"] <= 0.7
    assert body["prompt"] == "a lighthouse on a cliff" and "aspect_ratio" not in body
    assert len(slack.uploads) == 1 + len(calls) and slack.uploads[-1]["thread_ts"] == message["ts"]
    assert "<@U2>" in thread_text(slack, message["ts"])


def test_upscale_button_is_fast_upscale_4x(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    message = imagine_one(studio, slack, bedrock)
    click(studio, slack, message, "studio_upscale")
    studio.wait_idle()
    [call] = invokes(bedrock)
    assert call.model_id == FAST_UPSCALE and "prompt" not in call.body
    sent = decoded(call.body["image"]).size
    result = uploaded(slack)
    assert result.size == (sent[0] * 4, sent[1] * 4)
    assert slack.uploads[-1]["thread_ts"] == message["ts"]
    assert f"{result.width}×{result.height}" in thread_text(slack, message["ts"])


def test_extend_button_opens_a_modal_then_outpaints(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    message = imagine_one(studio, slack, bedrock)
    click(studio, slack, message, "studio_extend")
    [opened] = [v for v in slack.views if v["method"] == "views.open"]
    state = {"format": {"value": {"type": "static_select", "selected_option": {"value": "story"}}},
             "prompt": {"value": {"type": "plain_text_input", "value": "a stormy coast"}}}
    studio.interact({"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U2"}, "api_app_id": "A1",
                     "view": {**opened["view"], "state": {"values": state}}})
    studio.wait_idle()
    [call] = invokes(bedrock)
    assert call.model_id == OUTPAINT and call.body["prompt"] == "a stormy coast"
    assert call.body.get("up", 0) > 0 and call.body.get("down", 0) > 0 and not call.body.get("left")
    result = uploaded(slack)
    assert abs(result.width / result.height - 9 / 16) < 0.03
    assert slack.uploads[-1]["thread_ts"] == message["ts"]


def test_remove_background_button(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    message = imagine_one(studio, slack, bedrock)
    click(studio, slack, message, "studio_remove-bg")
    studio.wait_idle()
    [call] = invokes(bedrock)
    assert call.model_id == REMOVE_BG and decoded(call.body["image"]).size == (1024, 1024)
    assert uploaded(slack).mode == "RGBA" and slack.uploads[-1]["thread_ts"] == message["ts"]


def test_describe_button(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    message = imagine_one(studio, slack, bedrock)
    bedrock.converse_answer = "A white lighthouse on a green cliff."
    click(studio, slack, message, "studio_describe")
    studio.wait_idle()
    [call] = bedrock.converse_calls()
    assert call.model_id == "us.anthropic.claude-haiku-4-5-20251001-v1:0" and invokes(bedrock) == []
    assert "A white lighthouse on a green cliff." in thread_text(slack, message["ts"])


@pytest.mark.parametrize(("text", "model"), [("mode=conservative", CONSERVATIVE_UPSCALE),
                                              ("mode=creative a crisp photo", CREATIVE_UPSCALE),
                                              ("", FAST_UPSCALE)])
def test_upscale_modes_reach_their_models(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                          text: str, model: str) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/upscale", text)
    studio.wait_idle()
    [call] = invokes(bedrock)
    assert call.model_id == model and call.ok, thread_text(slack, ts)
    if "crisp" in text:
        assert call.body["prompt"] == "a crisp photo"
    result = uploaded(slack)
    assert result.width > 800 and slack.uploads[-1]["thread_ts"] == ts
    assert f"{result.width}×{result.height}" in thread_text(slack, ts)


def test_fast_upscale_with_words_is_a_usage_error(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_photo(slack, camera_jpeg(800, 600))
    ack = studio.slash("/upscale", "a crisp photo")
    studio.wait_idle()
    text = ack.get("text", "") + private_text(slack)
    assert "mode=" in text, text
    assert bedrock.calls == [] and slack.uploads == []


# --- 5. vision on Claude Haiku 5.5 -------------------------------------------------------

def test_describe_on_claude_haiku_5_5_sends_no_sampling_parameters(make_studio, slack: FakeSlack,
                                                                   bedrock: FakeBedrock) -> None:
    studio = make_studio(vision_model_id="us." + CLAUDE_HAIKU_5_5)
    bedrock.converse_answer = "A gradient with a red circle and a blue square."
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/describe", "")
    studio.wait_idle()
    [call] = bedrock.converse_calls()
    assert call.model_id == "us." + CLAUDE_HAIKU_5_5 and call.ok, call.error_message
    config = call.body.get("inferenceConfig") or {}
    assert "temperature" not in config and "topP" not in config
    assert "A gradient with a red circle and a blue square." in thread_text(slack, ts)


# --- 6. the Amazon stack, for accounts that still have Titan ------------------------------

@pytest.mark.parametrize(
    ("command", "text"),
    [("/imagine", "a red car"),
     ("/replace-bg", "keep=car a beach"),
     ("/edit", 'mask="the red ball" a blue ball'),
     ("/extend", "ar=9:16 a city street"),
     ("/remove-bg", "")],
)
def test_amazon_stack_uses_titan_v2_only(make_studio, slack: FakeSlack, bedrock: FakeBedrock, amazon_allowed: None,
                                         command: str, text: str) -> None:
    studio = make_studio(model_stack="amazon")
    if command != "/imagine":
        post_photo(slack, camera_jpeg(800, 600))
    studio.slash(command, text)
    studio.wait_idle()
    calls = invokes(bedrock)
    assert calls and all(c.ok for c in calls), [c.error_message for c in calls]
    assert {c.model_id for c in calls} == {TITAN_V2}
    assert {c.model_id for c in bedrock.converse_calls()} <= {"us.anthropic.claude-haiku-4-5-20251001-v1:0"}
    assert slack.uploads


def test_amazon_stack_has_no_upscaler(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(model_stack="amazon")
    ts = post_photo(slack, camera_jpeg(800, 600))
    ack = studio.slash("/upscale", "")
    studio.wait_idle()
    text = ack.get("text", "") + private_text(slack) + thread_text(slack, ts)
    assert "no model" in text and "STUDIO_UPSCALE_MODEL" in text and FAST_UPSCALE in text, text
    assert bedrock.calls == [] and slack.uploads == []
