"""/brand and what it changes about /imagine, end to end on the local fakes; prompt help (enhance)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from moto import mock_aws
from PIL import Image, ImageDraw

from bot.brand import BrandKit, load_kit, update_kit
from handlers.logo import logo_box
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import encode, small_jpeg

RED = (220, 20, 20)


def notes(slack: FakeSlack, key: str = "r1") -> str:
    """The private answers to the slash command sent with ``response_key=key``."""
    return "\n".join(r.get("text", "") for r in slack.responses.get(key, []))


def post_image(slack: FakeSlack, content: bytes, name: str, user: str = "U1",
               mimetype: str = "image/png") -> str:
    return slack.post_user_message("C1", user, "", files=[slack.add_file(content, name=name, mimetype=mimetype,
                                                                          user=user)])


def logo_png() -> bytes:
    """A red disc on a transparent square: the kind of logo marketing teams post."""
    disc = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(disc).ellipse((0, 0, 299, 299), fill=255)
    image = Image.new("RGBA", (300, 300), (*RED, 255))
    image.putalpha(disc)
    return encode(image, "PNG")


def style_jpeg() -> bytes:
    return encode(Image.new("RGB", (900, 700), (30, 160, 90)), "JPEG")


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def style_calls(bedrock: FakeBedrock) -> list:
    return [c for c in bedrock.invocations() if "style-guide" in c.model_id]


def imagine_results(slack: FakeSlack) -> list[dict]:
    return [u for u in slack.uploads if u["filename"].startswith("studio-")]


# --- /brand style → /imagine uses Style Guide with the reference --------------------------------

def test_brand_style_then_imagine_sends_the_reference_to_style_guide(studio: Studio, slack: FakeSlack,
                                                                      bedrock: FakeBedrock) -> None:
    post_image(slack, style_jpeg(), "moodboard.jpg", mimetype="image/jpeg")
    assert "On it" in studio.slash("/brand", "style")["text"]
    studio.wait_idle()
    [reference] = slack.uploads
    assert reference["filename"].startswith("brand-style.") and "brand style" in reference["initial_comment"]

    studio.slash("/imagine", "sneaker n=2", response_key="r2")
    studio.wait_idle()
    calls = style_calls(bedrock)
    assert len(calls) == 2 and all(call.ok for call in calls)
    for call in calls:
        assert call.model_id == "us.stability.stable-image-style-guide-v1:0"
        assert call.body["prompt"] == "sneaker"
        assert base64.b64decode(call.body["image"]) == reference["content"], "the stored reference is what is sent"
    assert not [c for c in bedrock.invocations() if "core" in c.model_id], "no plain generation"
    assert len(imagine_results(slack)) == 2
    assert "brand style" in json.dumps(slack.updates[-1]["blocks"])

    # brand=off opts out: the stack's generator again.
    studio.slash("/imagine", "sneaker brand=off", response_key="r3")
    studio.wait_idle()
    assert len(style_calls(bedrock)) == 2
    assert [c for c in bedrock.invocations() if "stable-image-core" in c.model_id]


def test_brand_shows_the_kit_privately(studio: Studio, slack: FakeSlack) -> None:
    studio.slash("/brand", "")
    studio.wait_idle()
    assert "no brand kit yet" in notes(slack)
    post_image(slack, style_jpeg(), "moodboard.jpg", mimetype="image/jpeg")
    studio.slash("/brand", "style", response_key="r2")
    studio.wait_idle()
    studio.slash("/brand", "", response_key="r3")
    studio.wait_idle()
    assert "moodboard.jpg" in notes(slack, "r3") and "brand=off" in notes(slack, "r3")


def test_a_deleted_style_file_is_explained(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_image(slack, style_jpeg(), "moodboard.jpg", mimetype="image/jpeg")
    studio.slash("/brand", "style")
    studio.wait_idle()
    slack.delete_file(slack.uploads[0]["file_id"])
    studio.slash("/imagine", "sneaker", response_key="r2")
    studio.wait_idle()
    assert "was deleted from Slack" in json.dumps(slack.updates[-1]["blocks"])
    assert not style_calls(bedrock)


# --- /brand logo → the logo in the corner ------------------------------------------------------

def test_brand_logo_then_imagine_places_the_logo_in_the_corner(studio: Studio, slack: FakeSlack) -> None:
    post_image(slack, logo_png(), "logo.png")
    studio.slash("/brand", "logo")
    studio.wait_idle()
    [stored] = slack.uploads
    with Image.open(io.BytesIO(stored["content"])) as logo:
        assert logo.format == "PNG" and logo.mode == "RGBA" and logo.getpixel((0, 0))[3] == 0, "transparency kept"

    # A fixed seed: the fake paints a gradient coloured by the seed, which must not itself be logo-red.
    studio.slash("/imagine", "sneaker seed=3", response_key="r2")
    studio.wait_idle()
    [result] = imagine_results(slack)
    image = decoded(result["content"])
    x0, y0, x1, y1 = logo_box(image.size, (300, 300))
    assert x1 > image.width * 0.9 and y1 > image.height * 0.9, "bottom-right, with a margin"
    centre = image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2))
    assert all(abs(a - b) < 40 for a, b in zip(centre, RED, strict=True)), centre
    corner_outside = image.getpixel((x0 - 5, y0 - 5))
    assert abs(corner_outside[0] - RED[0]) + abs(corner_outside[1] - RED[1]) > 40, "only the logo's box is red"

    # A kit's first logo goes on every image; `/brand logo=optional` keeps it for `logo=on` only.
    studio.slash("/brand", "logo=optional", response_key="r3")
    studio.wait_idle()
    studio.slash("/imagine", "sneaker", response_key="r4")
    studio.wait_idle()
    plain = decoded(imagine_results(slack)[-1]["content"])
    assert plain.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) != image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2))


def test_logo_always_brands_every_imagine_until_logo_off(studio: Studio, slack: FakeSlack) -> None:
    post_image(slack, logo_png(), "logo.png")
    studio.slash("/brand", "logo")
    studio.wait_idle()
    studio.slash("/brand", "logo=optional", response_key="r1b")
    studio.wait_idle()
    studio.slash("/brand", "logo=always", response_key="r2")
    studio.wait_idle()
    assert any("every `/imagine` image" in m.get("text", "") for m in slack.channel_messages("C1"))

    def logo_centre_is_red(key: str, text: str) -> bool:
        studio.slash("/imagine", text, response_key=key)
        studio.wait_idle()
        image = decoded(imagine_results(slack)[-1]["content"])
        x0, y0, x1, y1 = logo_box(image.size, (300, 300))
        pixel = image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2))
        return all(abs(a - b) < 40 for a, b in zip(pixel, RED, strict=True))

    assert logo_centre_is_red("r3", "sneaker")
    assert not logo_centre_is_red("r4", "sneaker logo=off")


def test_logo_on_without_a_logo_is_refused_privately(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    studio.slash("/imagine", "sneaker logo=on")
    studio.wait_idle()
    assert "has no logo yet" in notes(slack)
    assert not bedrock.invocations()


# --- bad input ----------------------------------------------------------------------------------

def test_a_logo_that_is_not_an_image_is_explained(studio: Studio, slack: FakeSlack) -> None:
    post_image(slack, b"%PDF-1.7 not a picture", "logo.png")
    studio.slash("/brand", "logo")
    studio.wait_idle()
    assert "not an image Studio can read" in notes(slack) and "/brand logo" in notes(slack)
    assert not slack.uploads


def test_a_style_image_too_small_is_explained(studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    post_image(slack, small_jpeg(60, 50), "tiny.jpg", mimetype="image/jpeg")
    studio.slash("/brand", "style")
    studio.wait_idle()
    text = notes(slack)
    assert "60x50" in text and "/brand style" in text, text
    assert not slack.uploads and not bedrock.invocations()


def test_unknown_subcommand_is_a_usage_error_with_an_example(studio: Studio, slack: FakeSlack) -> None:
    ack = studio.slash("/brand", "colours")
    assert "`/brand colours` is not something Studio knows" in ack["text"]
    assert "Example: `/brand style`" in ack["text"]
    assert "`/brand logo=` is `always`" in studio.slash("/brand", "logo=sometimes")["text"]


def test_only_channel_members_change_a_kit(studio: Studio, slack: FakeSlack) -> None:
    slack.add_channel("C1", "marketing", bot_member=True, members=["U1"])
    post_image(slack, logo_png(), "logo.png", user="U1")  # U2 only looks in
    studio.slash("/brand", "clear", user="U2")
    studio.wait_idle()
    assert "Only members of this channel" in notes(slack)
    studio.slash("/brand", "logo", user="U1", response_key="r2")
    studio.wait_idle()
    assert len(slack.uploads) == 1, "a member may"


def test_admins_lock_a_kit(make_studio, slack: FakeSlack) -> None:
    studio: Studio = make_studio(admins=frozenset({"UADMIN"}))
    studio.slash("/brand", "lock", user="U1")
    studio.wait_idle()
    assert "Only Studio's admins" in notes(slack) and "<@UADMIN>" in notes(slack)
    studio.slash("/brand", "lock", user="UADMIN", response_key="r2")
    studio.wait_idle()
    assert any("locked this channel's brand kit" in m.get("text", "") for m in slack.channel_messages("C1"))
    post_image(slack, logo_png(), "logo.png")
    studio.slash("/brand", "logo", user="U1", response_key="r3")
    studio.wait_idle()
    assert "is locked" in notes(slack, "r3") and not slack.uploads
    studio.slash("/brand", "unlock", user="UADMIN", response_key="r4")
    studio.wait_idle()
    studio.slash("/brand", "logo", user="U1", response_key="r5")
    studio.wait_idle()
    assert len(slack.uploads) == 1


def lock_during_a_slow_logo(make_studio: Any, slack: FakeSlack, user: str) -> BrandKit:
    """``user``'s /brand logo, whose upload takes a while, and an admin's /brand lock meanwhile; the kit after."""
    studio: Studio = make_studio(admins=frozenset({"UADMIN"}))
    post_image(slack, logo_png(), "logo.png", user=user)
    slack.delay_next("files.completeUploadExternal", 1.5)
    studio.slash("/brand", "logo", user=user)
    slack.wait_for(lambda: bool(slack.calls_to("files.completeUploadExternal")))
    studio.slash("/brand", "lock", user="UADMIN", response_key="r2")
    studio.wait_idle()
    return load_kit(studio.runtime.state, "T0001", "C1")


def test_a_kit_change_made_meanwhile_is_kept(make_studio, slack: FakeSlack) -> None:
    """A slow /brand logo must not undo a lock set while it ran."""
    kit = lock_during_a_slow_logo(make_studio, slack, "UADMIN")
    assert kit.logo_file and kit.locked, kit


def test_a_change_refused_by_a_lock_set_meanwhile(make_studio, slack: FakeSlack) -> None:
    """A member's slow /brand logo is refused if an admin locks the kit before it is stored."""
    kit = lock_during_a_slow_logo(make_studio, slack, "U1")
    assert kit.locked and not kit.logo_file, kit
    assert "is locked" in notes(slack)


@pytest.mark.amazon_stack
def test_the_amazon_stack_has_no_style_guide(studio: Studio, slack: FakeSlack) -> None:
    post_image(slack, style_jpeg(), "moodboard.jpg", mimetype="image/jpeg")
    studio.slash("/brand", "style")
    studio.wait_idle()
    assert "needs the Stability stack" in notes(slack) and "STUDIO_STYLE_MODEL" in notes(slack)
    assert not slack.uploads


# --- prompt help --------------------------------------------------------------------------------

RICH = "A red sneaker on a rain-soaked neon street at night, 35 mm lens, low angle, shallow depth of field"


def test_imagine_enhance_shows_both_prompts_and_generates_with_the_rich_one(studio: Studio, slack: FakeSlack,
                                                                            bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = f"Prompt: {RICH}"
    studio.slash("/imagine", "red sneaker enhance")
    studio.wait_idle()
    [converse] = bedrock.converse_calls()
    assert "red sneaker" in json.dumps(converse.body["messages"])
    [call] = bedrock.invocations()
    assert call.body["prompt"] == RICH
    final = json.dumps(slack.updates[-1]["blocks"])
    assert "red sneaker" in final and f"Enhanced prompt: _{RICH}_" in final
    assert "Enhance prompt" not in final, "no button to enhance an enhanced prompt"
    assert RICH in imagine_results(slack)[0]["alt_txt"]


def test_the_enhance_button_regenerates_with_a_richer_prompt_and_the_same_seed(studio: Studio, slack: FakeSlack,
                                                                                bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = RICH
    studio.slash("/imagine", "red sneaker seed=42")
    studio.wait_idle()
    [parent] = [m for m in slack.channel_messages("C1") if m.get("bot_id")]
    assert "Enhance prompt" in json.dumps(parent["blocks"])
    studio.interact(slack.block_actions_payload("C1", parent["ts"], "studio_enhance", user="U2"))
    studio.wait_idle()
    first, second = bedrock.invocations()
    assert (first.body["prompt"], second.body["prompt"]) == ("red sneaker", RICH)
    assert first.body["seed"] == second.body["seed"] == 42
    assert "Enhanced prompt" in json.dumps(slack.updates[-1]["blocks"])


# --- storage -------------------------------------------------------------------------------------

def test_kits_are_kept_in_dynamodb_without_expiry() -> None:
    import boto3

    from bot.runtime.dynamo_state import DynamoState
    from tests.aws_resources import create_state_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = create_state_table(client)
        store = DynamoState(client, table)
        assert load_kit(store, "T1", "C1") == BrandKit()
        kit = BrandKit(style_file="F1", style_name="mood.jpg", locked=True, changed_by="U1")
        update_kit(store, "T1", "C1", lambda current: kit)
        assert load_kit(store, "T1", "C1") == kit
        assert load_kit(store, "T1", "C2") == BrandKit(), "per channel"
        [item] = client.scan(TableName=table)["Items"]
        assert "expiration" not in item, "the table's TTL must never delete a kit"
        assert not store.swap_kit("T1", "C1", None, "{}"), "changed since read: refused"
        update_kit(store, "T1", "C1", lambda current: BrandKit())
        assert client.scan(TableName=table)["Items"] == [], "an empty kit is deleted"
