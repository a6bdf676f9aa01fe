"""Edit and iterate: /edit, /extend, /remove-bg and the buttons on every result."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image, ImageStat

from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import camera_jpeg, encode

# These scenarios check Titan request bodies: they run on the legacy Amazon stack.
pytestmark = pytest.mark.amazon_stack


def decoded(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def post_photo(slack: FakeSlack, content: bytes, user: str = "U1", text: str = "", extra: list[bytes] = ()) -> str:
    files = [slack.add_file(content, name="dish.jpg", user=user)]
    files += [slack.add_file(data, name=f"mask{i}.png", mimetype="image/png", user=user) for i, data in enumerate(extra)]
    return slack.post_user_message("C1", user, text, files=files)


def mask_png(width: int, height: int, box: tuple[int, int, int, int], grey: bool = False) -> bytes:
    image = Image.new("L", (width, height), 255)
    image.paste(90 if grey else 0, box)
    return encode(image, "PNG")


def result_message(slack: FakeSlack, thread_ts: str | None = None) -> dict:
    """The newest bot message with result buttons (in a thread, or top level)."""
    messages = slack.thread_messages("C1", thread_ts) if thread_ts else slack.channel_messages("C1")
    with_buttons = [m for m in messages if any(b.get("type") == "actions" for b in m.get("blocks", []))]
    assert with_buttons, f"no result buttons in {json.dumps(messages)[:500]}"
    return with_buttons[-1]


def click(studio: Studio, slack: FakeSlack, message: dict, action_id: str, user: str = "U2",
          option_index: int | None = None) -> None:
    if option_index is None:
        payload = slack.block_actions_payload("C1", message["ts"], action_id, user=user)
    else:  # a per-image menu: the chosen option's value is what Studio reads
        payload = slack.block_actions_payload("C1", message["ts"], action_id, user=user)
        [element] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == action_id]
        payload["actions"][0]["selected_option"] = element["options"][option_index]
    studio.interact(payload)


# --- /edit --------------------------------------------------------------------------------

def test_edit_with_mask_prompt(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/edit", 'mask="bowl of salsa" bowl of black beans seed=4')
    studio.wait_idle()
    [call] = bedrock.invocations("INPAINTING")
    params = call.body["inPaintingParams"]
    assert (params["maskPrompt"], params["text"]) == ("bowl of salsa", "bowl of black beans")
    assert "maskImage" not in params and call.body["imageGenerationConfig"]["seed"] == 4
    assert slack.uploads[0]["thread_ts"] == ts
    assert "/edit · Titan Image Generator v2 · seed 4" in json.dumps(result_message(slack, ts)["blocks"], ensure_ascii=False)


def test_edit_with_a_second_image_as_mask(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600), text="<@UBOT> edit bowl of black beans",
                    extra=[mask_png(400, 300, (100, 100, 200, 200), grey=True)])
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    [call] = bedrock.invocations("INPAINTING")
    photo = decoded(call.body["inPaintingParams"]["image"])
    mask = decoded(call.body["inPaintingParams"]["maskImage"])
    assert mask.size == photo.size == (800, 600)
    assert set(mask.convert("L").histogram()[1:255]) == {0}, "pure black and white"
    assert mask.getpixel((300, 300))[0] == 0 and mask.getpixel((10, 10))[0] == 255


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(mask_png(300, 300, (0, 0, 10, 10)), "must have the photo's shape"),
     (mask_png(400, 300, (0, 0, 0, 0)), "all white"),
     (mask_png(400, 300, (0, 0, 400, 300)), "all black")],
    ids=["wrong-shape", "all-white", "all-black"],
)
def test_bad_masks_are_explained(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock, mask: bytes, expected: str) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600), text="<@UBOT> edit beans", extra=[mask])
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle()
    assert expected in json.dumps(slack.thread_messages("C1", ts))
    assert bedrock.invocations("INPAINTING") == []


def test_edit_without_mask_or_second_image(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/edit", "bowl of black beans")
    studio.wait_idle()
    assert "Say what to repaint with `mask=`" in json.dumps(slack.thread_messages("C1", ts))
    assert bedrock.calls == []


# --- /extend ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ratio"), [("ar=9:16 city street at dusk", 9 / 16), ("ar=banner a beach", 16 / 9),
                                             ("ar=square a studio", 1.0)])
def test_extend_places_the_photo_on_a_canvas_of_the_new_format(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                                               text: str, ratio: float) -> None:
    post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/extend", text)
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    params = call.body["outPaintingParams"]
    canvas, mask = decoded(params["image"]), decoded(params["maskImage"]).convert("L")
    assert canvas.size == mask.size and max(canvas.size) <= 1408
    assert abs(canvas.width / canvas.height - ratio) < 0.02
    kept = mask.point(lambda v: 255 if v == 0 else 0).getbbox()  # the black, protected area
    width, height = kept[2] - kept[0], kept[3] - kept[1]
    assert abs(width / height - 4 / 3) < 0.02, "the photo keeps its shape"
    assert abs((kept[0] + kept[2]) / 2 - canvas.width / 2) <= 1 and abs((kept[1] + kept[3]) / 2 - canvas.height / 2) <= 1
    assert params["outPaintingMode"] == "PRECISE" and "maskPrompt" not in params
    assert Image.open(io.BytesIO(slack.uploads[0]["content"])).size == canvas.size


# --- /remove-bg ---------------------------------------------------------------------------

def test_remove_background_returns_a_transparent_png(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/remove-bg", "")
    studio.wait_idle()
    [call] = bedrock.invocations("BACKGROUND_REMOVAL")
    assert set(call.body) == {"taskType", "backgroundRemovalParams"}
    result = Image.open(io.BytesIO(slack.uploads[0]["content"]))
    assert result.mode == "RGBA" and slack.uploads[0]["thread_ts"] == ts
    buttons = json.dumps(result_message(slack, ts)["blocks"])
    assert "Re-roll" not in buttons and "Variations" in buttons


def test_remove_background_with_titan_v1_names_a_model_to_use(make_studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio = make_studio(remove_bg_model_id="amazon.titan-image-generator-v1")
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/remove-bg", "")
    studio.wait_idle()
    text = json.dumps(slack.thread_messages("C1", ts))
    assert "cannot do background removal" in text and "STUDIO_REMOVE_BG_MODEL" in text
    # The models suggested are those of the stacks: Stability's first (Active), then Titan v2.
    assert "us.stability.stable-image-remove-background-v1:0" in text and "amazon.titan-image-generator-v2:0" in text
    assert bedrock.calls == []


def test_remove_background_shortcut(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(640, 480), user="U2")
    studio.interact(slack.message_shortcut_payload("C1", ts, "remove_background", user="U3"))
    studio.wait_idle()
    assert len(bedrock.invocations("BACKGROUND_REMOVAL")) == 1
    assert "<@U3>" in json.dumps(slack.thread_messages("C1", ts))


# --- buttons ------------------------------------------------------------------------------

def test_every_image_result_has_buttons_with_compact_values(studio: Studio, slack: FakeSlack) -> None:
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    message = result_message(slack)
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Re-roll", "Enhance prompt", "Variations", "Remove background", "Upscale", "Extend…", "All formats",
                      "Describe"]
    assert all(len(e["value"]) < 40 for e in actions["elements"]), "a reference, not the request"


def test_reroll_repeats_the_request_with_a_new_seed_in_the_same_thread(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a red car ar=16:9 no=people")
    studio.wait_idle()
    message = result_message(slack)
    click(studio, slack, message, "studio_reroll", user="U2")
    studio.wait_idle()
    first, second = bedrock.invocations("TEXT_IMAGE")
    assert first.body["textToImageParams"] == second.body["textToImageParams"]
    config1, config2 = first.body["imageGenerationConfig"], second.body["imageGenerationConfig"]
    assert config1["seed"] != config2["seed"]
    assert {k: v for k, v in config1.items() if k != "seed"} == {k: v for k, v in config2.items() if k != "seed"}
    replies = slack.thread_messages("C1", message["ts"])
    assert any("<@U2>" in m.get("text", "") for m in replies), "credits who pressed"
    assert slack.uploads[1]["thread_ts"] == message["ts"]


def test_double_click_starts_one_job(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a red car")
    studio.wait_idle()
    message = result_message(slack)
    click(studio, slack, message, "studio_reroll")
    click(studio, slack, message, "studio_reroll")
    studio.wait_idle()
    assert len(bedrock.invocations("TEXT_IMAGE")) == 2


@pytest.mark.parametrize(("action", "task"), [("studio_variations", "IMAGE_VARIATION"),
                                              ("studio_remove-bg", "BACKGROUND_REMOVAL")])
def test_image_buttons_act_on_the_result_image(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock,
                                               action: str, task: str) -> None:
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    message = result_message(slack)
    click(studio, slack, message, action)
    studio.wait_idle()
    [call] = bedrock.invocations(task)
    sent = call.body.get("imageVariationParams", {}).get("images", [None])[0] or call.body["backgroundRemovalParams"]["image"]
    assert decoded(sent).size == (1024, 1024)
    if task == "IMAGE_VARIATION":
        assert call.body["imageVariationParams"]["text"] == "a lighthouse"
    assert slack.uploads[-1]["thread_ts"] == message["ts"]


def test_describe_button(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    click(studio, slack, result_message(slack), "studio_describe")
    studio.wait_idle()
    assert len([c for c in bedrock.calls if c.operation == "Converse"]) == 1


def test_extend_button_asks_for_the_format(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    click(studio, slack, result_message(slack), "studio_extend")
    [opened] = [v for v in slack.views if v["method"] == "views.open"]
    view = opened["view"]
    state = {"format": {"value": {"type": "static_select", "selected_option": {"value": "story"}}},
             "prompt": {"value": {"type": "plain_text_input", "value": "a stormy coast"}}}
    studio.interact({"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U2"}, "api_app_id": "A1",
                     "view": {**view, "state": {"values": state}}})
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    canvas = decoded(call.body["outPaintingParams"]["image"])
    assert abs(canvas.width / canvas.height - 9 / 16) < 0.02


def test_extend_form_text_is_a_value_not_options(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    click(studio, slack, result_message(slack), "studio_extend")
    [opened] = [v for v in slack.views if v["method"] == "views.open"]
    state = {"format": {"value": {"type": "static_select", "selected_option": {"value": "square"}}},
             "prompt": {"value": {"type": "plain_text_input", "value": "a stormy coast n=3 ar=9:16"}}}
    ack = studio.interact({"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "U2"}, "api_app_id": "A1",
                           "view": {**opened["view"], "state": {"values": state}}})
    assert ack == {}
    studio.wait_idle()
    [call] = bedrock.invocations("OUTPAINTING")
    assert call.body["imageGenerationConfig"]["numberOfImages"] == 1
    assert call.body["outPaintingParams"]["text"] == "a stormy coast n=3 ar=9:16"
    canvas = decoded(call.body["outPaintingParams"]["image"])
    assert canvas.width == canvas.height, "the format comes from the menu"


def test_multi_image_results_get_a_menu_per_image(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a lighthouse n=3")
    studio.wait_idle()
    message = result_message(slack)
    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["type"] for e in actions["elements"]] == ["button", "button", "static_select", "static_select", "static_select"]
    click(studio, slack, message, "studio_image_2", option_index=1)  # Image 2 → Remove background
    studio.wait_idle()
    [call] = bedrock.invocations("BACKGROUND_REMOVAL")
    sent = ImageStat.Stat(decoded(call.body["backgroundRemovalParams"]["image"]).convert("RGB")).mean
    results = [ImageStat.Stat(Image.open(io.BytesIO(u["content"])).convert("RGB")).mean for u in slack.uploads[:3]]
    distances = [sum(abs(a - b) for a, b in zip(sent, mean, strict=True)) for mean in results]
    assert distances.index(min(distances)) == 1, "the second image was the one cut out"


def test_button_on_a_result_whose_file_was_deleted(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "a lighthouse")
    studio.wait_idle()
    slack.delete_file(slack.uploads[0]["file_id"])
    click(studio, slack, result_message(slack), "studio_variations")
    studio.wait_idle()
    assert "deleted" in json.dumps(slack.responses) + json.dumps(slack.ephemerals)
    assert bedrock.invocations("IMAGE_VARIATION") == []


def test_replace_bg_reroll_uses_the_same_photo(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_photo(slack, camera_jpeg(800, 600))
    studio.slash("/replace-bg", "keep=car beach")
    studio.wait_idle()
    post_photo(slack, camera_jpeg(600, 800))  # a newer photo must not be picked up
    click(studio, slack, result_message(slack, ts), "studio_reroll")
    studio.wait_idle()
    first, second = bedrock.invocations("OUTPAINTING")
    assert decoded(second.body["outPaintingParams"]["image"]).size == (800, 600)
    assert first.body["imageGenerationConfig"]["seed"] != second.body["imageGenerationConfig"]["seed"]
