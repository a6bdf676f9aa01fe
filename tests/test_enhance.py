"""Prompt enhance through Claude's Converse on the fake Bedrock."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import model_table
from handlers.enhance import MAX_ENHANCED_CHARS, clean_answer, enhance_prompt
from handlers.errors import ModelBlocked, ModelFailed
from tests.fakes.bedrock import CLAUDE_HAIKU_5_5, FakeBedrock

RICH = ("A red sneaker on a rain-soaked neon street at night, low-angle shot with a 35mm lens at f/1.8, "
        "magenta and cyan reflections, shallow depth of field, cinematic composition with the shoe on the left third")


def test_the_answer_is_the_enhanced_prompt_alone(bedrock: FakeBedrock) -> None:
    seen: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        seen.append(body)
        return f'Enhanced prompt: "{RICH}"\n\nThis adds lighting and lens details.'

    bedrock.converse_answer = answer
    assert enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "  red sneaker\n neon street ") == RICH
    [body] = seen
    assert "temperature" not in body.get("inferenceConfig", {})
    assert "same language" in body["system"][0]["text"]
    assert "red sneaker neon street" in body["messages"][0]["content"][0]["text"]


def test_models_that_refuse_temperature_still_answer(bedrock: FakeBedrock) -> None:
    # Haiku 5.5 answers a ValidationException when sent temperature/top_p.
    bedrock.converse_answer = "Une basket rouge sous la pluie, lumière néon, objectif 35 mm"
    out = enhance_prompt(bedrock.client(), "us." + CLAUDE_HAIKU_5_5, "basket rouge, rue néon")
    assert out.startswith("Une basket rouge")
    assert bedrock.converse_calls()[-1].ok


def test_the_enhanced_prompt_is_bounded_at_a_word(bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = " ".join(["cinematic"] * 400)
    out = enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "a shoe", max_chars=100)
    assert len(out) <= 100 and out.endswith("cinematic")
    assert len(enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "a shoe")) <= MAX_ENHANCED_CHARS


def test_an_empty_answer_is_a_failure(bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = '""'
    with pytest.raises(ModelFailed):
        enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "a shoe")


def test_a_blocked_prompt_is_a_refusal(bedrock: FakeBedrock) -> None:
    bedrock.blocked_terms.add("forbidden")
    with pytest.raises(ModelBlocked):
        enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "forbidden thing")


@pytest.mark.parametrize(("answer", "expected"), [
    ("**Prompt:** a cat in soft light", "a cat in soft light"),
    ("«un chat, lumière douce»", "un chat, lumière douce"),
    ("\n\n  first paragraph\nstill first\n\nsecond", "first paragraph still first"),
    ("word " * 3, "word word word"),
])
def test_clean_answer(answer: str, expected: str) -> None:
    assert clean_answer(answer, 200) == expected


def test_nothing_to_enhance_is_refused_without_a_call(bedrock: FakeBedrock) -> None:
    with pytest.raises(ValueError):
        enhance_prompt(bedrock.client(), model_table.CLAUDE_HAIKU_45, "   ")
    assert bedrock.calls == []
