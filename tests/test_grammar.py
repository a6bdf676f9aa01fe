"""The command grammar and every command's parser."""

from __future__ import annotations

import pytest

from bot import messages
from bot.commands.grammar import clean_slack_text
from bot.commands.parsers import (
    describe_fields,
    parse_brand,
    parse_describe,
    parse_edit,
    parse_extend,
    parse_imagine,
    parse_remove_background,
    parse_replace_background,
    replace_background_fields,
)
from bot.errors import HelpRequested, UsageError
from handlers.models import NOVA_CANVAS, TITAN_V1, TITAN_V2
from handlers.requests import BrandRequest, DescribeRequest, RemoveBackgroundRequest


def usage_problem(call, *args) -> str:
    with pytest.raises(UsageError) as caught:
        call(*args)
    return messages.usage_problem(caught.value)


class TestImagine:
    def test_prompt_and_options_anywhere(self) -> None:
        request = parse_imagine("sneaker no=people on a neon street ar=16:9 n=3", TITAN_V2)
        assert request.prompt == "sneaker on a neon street"
        assert request.negative == "people"
        assert (request.width, request.height) == (1152, 640)
        assert request.count == 3

    def test_midjourney_spellings(self) -> None:
        request = parse_imagine("sneaker on a neon street --ar 16:9 --seed 7 --no people, cars", TITAN_V2)
        assert request.prompt == "sneaker on a neon street"
        assert request.seed == 7
        assert request.negative == "people, cars"
        assert (request.width, request.height) == (1152, 640)

    def test_quoted_values_including_slack_smart_quotes(self) -> None:
        assert parse_imagine('a cat no="dogs and mice"', TITAN_V2).negative == "dogs and mice"
        assert parse_imagine("a cat no=“dogs and mice”", TITAN_V2).negative == "dogs and mice"

    def test_defaults(self) -> None:
        request = parse_imagine("a red car", TITAN_V2)
        assert (request.width, request.height, request.count, request.seed) == (1024, 1024, 1, None)
        assert request.quality == "standard" and request.cfg_scale is None

    def test_all_options(self) -> None:
        request = parse_imagine("a red car size=1280x768 seed=5 quality=premium cfg=7.5 n=5", TITAN_V2)
        assert (request.width, request.height) == (1280, 768)
        assert (request.seed, request.quality, request.cfg_scale, request.count) == (5, "premium", 7.5, 5)

    def test_slack_escapes_and_links_are_unwrapped(self) -> None:
        request = parse_imagine("salt &amp; pepper &lt;3 <https://example.com|shaker>", TITAN_V2)
        assert request.prompt == "salt & pepper <3 shaker"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("a car sed=5", "Did you mean `seed=`?"),
            ("a car qualty=premium", "Did you mean `quality=`?"),
            ("a car foo=bar", "understands"),
            ("a car --sed 5", "Did you mean `seed=`?"),
        ],
    )
    def test_misspelt_options_are_errors(self, text: str, expected: str) -> None:
        assert expected in usage_problem(parse_imagine, text, TITAN_V2)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("", "Tell me what to draw"),
            ("   ", "Tell me what to draw"),
            ("no=people", "Tell me what to draw"),
            ("a car n=6", "`n=` must be a whole number from 1 to 5"),
            ("a car n=0", "`n=` must be"),
            ("a car n=two", "`n=` must be"),
            ("a car seed=-1", "`seed=` must be"),
            ("a car seed=2147483647", "`seed=` must be"),
            ("a car cfg=11", "`cfg=` must be a number from 1.1 to 10"),
            ("a car cfg=1.0", "`cfg=`"),
            ("a car cfg=nan", "`cfg=`"),
            ("a car quality=ultra", "`quality=` is `standard` or `premium`"),
            ("a car ar=5:1", "`ar=` is one of"),
            ("a car size=1000x1000", "cannot make `size=1000x1000`"),
            ("a car ar=1:1 size=1024x1024", "either `ar=` or `size=`"),
            ("a car n=2 n=3", "given twice"),
            ("a car no=", "needs a value"),
            ("a car --ar", "needs a value"),
            ("x" * 513, "513 characters"),
        ],
    )
    def test_bad_input(self, text: str, expected: str) -> None:
        assert expected in usage_problem(parse_imagine, text, TITAN_V2)

    def test_unsupported_size_lists_allowed_sizes(self) -> None:
        problem = usage_problem(parse_imagine, "a car size=1000x1000", TITAN_V2)
        assert "1024x1024" in problem and "1152x640" in problem

    def test_nova_accepts_longer_prompts_and_free_sizes(self) -> None:
        request = parse_imagine("x" * 1000 + " size=2048x1024", NOVA_CANVAS)
        assert (request.width, request.height) == (2048, 1024)
        assert "multiples of 16" in usage_problem(parse_imagine, "a car size=1000x1000", NOVA_CANVAS)
        assert "`seed=`" in usage_problem(parse_imagine, "a car seed=900000000", NOVA_CANVAS)

    def test_help(self) -> None:
        for text in ("help", " HELP ", "--help"):
            with pytest.raises(HelpRequested):
                parse_imagine(text, TITAN_V1)

    def test_emoji_rtl_and_control_characters_survive_as_prompt(self) -> None:
        request = parse_imagine("שלום 🚀 café\tbar", TITAN_V2)
        assert request.prompt == "שלום 🚀 café bar"


class TestListsAndQuotes:
    @pytest.mark.parametrize("text", ["a cat no=people, cars", "a cat no=people,cars", "a cat no=people , cars",
                                      "no=people, cars a cat", "a cat --no people, cars"])
    def test_a_comma_continues_a_list_value(self, text: str) -> None:
        request = parse_imagine(text, TITAN_V2)
        assert request.prompt == "a cat"
        assert request.negative.replace(" ", "") == "people,cars"

    def test_a_trailing_comma_ends_the_list(self) -> None:
        assert parse_imagine("a cat no=people, ar=16:9", TITAN_V2).negative == "people"

    @pytest.mark.parametrize("text", ['keep="red car beach', "keep='red car beach", 'beach keep="red car',
                                      'beach --keep "red car'])
    def test_unclosed_quote_is_a_usage_error(self, text: str) -> None:
        assert "missing closing quote" in usage_problem(parse_replace_background, text, TITAN_V2).lower()

    def test_unclosed_quote_in_the_prompt_is_a_usage_error(self) -> None:
        assert "missing closing quote" in usage_problem(parse_imagine, 'a "red car', TITAN_V2).lower()

    def test_inch_marks_and_apostrophes_are_not_quotes(self) -> None:
        assert parse_imagine("a 12\" pizza at the '80s diner", TITAN_V2).prompt == "a 12\" pizza at the '80s diner"


class TestTextCaps:
    """Every free text that reaches a model has a cap, named in the message."""

    def test_describe_question(self) -> None:
        assert parse_describe("why " + "x" * 1995).question
        assert "at most 2,000" in usage_problem(parse_describe, "why " * 600)

    def test_describe_language(self) -> None:
        assert "at most 40" in usage_problem(parse_describe, "translate=" + "x" * 41)

    @pytest.mark.parametrize(
        ("call", "text"),
        [(parse_edit, "mask=" + "m" * 513 + " beans"), (parse_replace_background, "keep=" + "k" * 513 + " beach"),
         (parse_replace_background, "beach no=" + "n" * 513), (parse_extend, "ar=9:16 " + "p" * 513)],
    )
    def test_image_model_texts_are_capped_at_the_model_limit(self, call, text: str) -> None:
        assert "at most 512" in usage_problem(call, text, TITAN_V2)

    def test_form_fields_are_capped_too(self) -> None:
        assert "at most 2,000" in usage_problem(describe_fields, {"question": "q" * 2001})
        assert "at most 512" in usage_problem(replace_background_fields, {"background": "b" * 513}, TITAN_V2)


class TestReplaceBackground:
    def test_keep_mode_and_background(self) -> None:
        request = parse_replace_background("keep=car beach at sunset mode=precise n=2 seed=9", TITAN_V2)
        assert (request.keep, request.prompt, request.precise, request.count, request.seed) == (
            "car", "beach at sunset", True, 2, 9,
        )

    def test_keep_defaults_to_auto_and_accepts_quotes(self) -> None:
        assert parse_replace_background("beach", TITAN_V2).keep == "auto"
        assert parse_replace_background('keep="red car" beach', TITAN_V2).keep == "red car"
        assert parse_replace_background("keep=AUTO beach", TITAN_V2).keep == "auto"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("keep=car", "Describe the new background"),
            ("kep=car beach", "Did you mean `keep=`?"),
            ("keep=car beach mode=fast", "`mode=` is `default` or `precise`"),
            ("keep=car beach ar=16:9", "Unknown option `ar=`"),
        ],
    )
    def test_bad_input(self, text: str, expected: str) -> None:
        assert expected in usage_problem(parse_replace_background, text, TITAN_V2)


class TestDescribe:
    def test_default_is_caption(self) -> None:
        assert parse_describe("") == DescribeRequest(preset="caption")

    @pytest.mark.parametrize("preset", ["caption", "detail", "alt", "objects", "classify", "subject", "story", "text", "social"])
    def test_presets(self, preset: str) -> None:
        assert parse_describe(preset.upper()).preset == preset

    def test_translate(self) -> None:
        assert parse_describe("translate=german") == DescribeRequest(preset="translate", language="german")
        assert "takes no other words" in usage_problem(parse_describe, "translate=german please")

    def test_question(self) -> None:
        request = parse_describe("what colour is the car?")
        assert (request.preset, request.question) == ("question", "what colour is the car?")

    def test_misspelt_option(self) -> None:
        assert "Did you mean `translate=`?" in usage_problem(parse_describe, "translte=german")


class TestEditExtendRemove:
    def test_edit(self) -> None:
        request = parse_edit('mask="bowl of salsa" bowl of black beans', TITAN_V2)
        assert (request.mask, request.prompt) == ("bowl of salsa", "bowl of black beans")
        assert parse_edit("bowl of black beans", TITAN_V2).mask == ""  # second image is the mask
        assert "Say what to paint" in usage_problem(parse_edit, "mask=salsa", TITAN_V2)

    @pytest.mark.parametrize(
        ("text", "ratio"),
        [("ar=9:16 city street", (9, 16)), ("ar=story city", (9, 16)), ("ar=square city", (1, 1)),
         ("ar=banner city", (16, 9)), ("ar=portrait city", (4, 5)), ("--ar 4:5 city", (4, 5))],
    )
    def test_extend_ratios(self, text: str, ratio: tuple[int, int]) -> None:
        request = parse_extend(text, TITAN_V2)
        assert (request.ratio_w, request.ratio_h) == ratio

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("city street", "Say which format"), ("ar=9:16", "Describe the new surroundings"),
         ("ar=10:1 city", "too stretched"), ("ar=0:5 city", "`ar=` is a ratio"), ("ar=wide city", "`ar=` is a ratio")],
    )
    def test_extend_bad_input(self, text: str, expected: str) -> None:
        assert expected in usage_problem(parse_extend, text, TITAN_V2)

    def test_remove_background(self) -> None:
        assert parse_remove_background("") == RemoveBackgroundRequest()
        assert "takes no words" in usage_problem(parse_remove_background, "please")
        assert "takes no options" in usage_problem(parse_remove_background, "n=2")


def test_clean_slack_text_strips_leading_mention() -> None:
    assert clean_slack_text("<@U0BOT> replace-bg keep=car") == "replace-bg keep=car"


class TestPromptHelpAndBrandOptions:
    @pytest.mark.parametrize("text", ["sneaker on a street enhance", "sneaker on a street --enhance",
                                      "sneaker --enhance on a street", "sneaker on a street enhance=on"])
    def test_enhance_is_a_switch(self, text: str) -> None:
        request = parse_imagine(text, TITAN_V2)
        assert request.enhance and request.prompt == "sneaker on a street"

    @pytest.mark.parametrize("text", ["enhance the sneaker", 'sneaker "enhance"', "sneaker enhance=off"])
    def test_enhance_elsewhere_is_prompt_or_off(self, text: str) -> None:
        assert not parse_imagine(text, TITAN_V2).enhance

    def test_brand_and_logo_options(self) -> None:
        request = parse_imagine("sneaker brand=off logo=on", TITAN_V2)
        assert (request.brand, request.logo) == (False, "on")
        assert parse_imagine("sneaker", TITAN_V2).logo == ""
        assert "`logo=` is `on` or `off`" in usage_problem(parse_imagine, "sneaker logo=maybe", TITAN_V2)

    @pytest.mark.parametrize(("text", "expected"), [
        ("", BrandRequest()), ("style", BrandRequest("style")), ("LOGO", BrandRequest("logo")),
        ("clear", BrandRequest("clear")), ("lock", BrandRequest("lock")),
        ("logo=always", BrandRequest("logo", "always")), ("logo=optional", BrandRequest("logo", "optional")),
    ])
    def test_brand_subcommands(self, text: str, expected: BrandRequest) -> None:
        assert parse_brand(text) == expected

    @pytest.mark.parametrize("text", ["colours", "style logo", "logo=sometimes", "style logo=always"])
    def test_brand_refuses_what_it_does_not_know(self, text: str) -> None:
        with pytest.raises(UsageError):
            parse_brand(text)
