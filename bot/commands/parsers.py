"""Pure parsers: command text -> validated request dataclass.

Every check that can be made without the image happens here, so bad input is
answered at once and never reaches Bedrock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.commands.grammar import Option, ParsedText, field_text, parse_text
from bot.errors import HelpRequested, UsageError
from handlers.formats import FormatTarget, pick_formats
from handlers.models import ImageFamily, ImageModelSpec
from handlers.requests import (
    AUTO_SUBJECT,
    BRAND_ACTIONS,
    DESCRIBE_PRESETS,
    LOGO_MODES,
    UPSCALE_MODES,
    BrandRequest,
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    FormatsRequest,
    ImagineRequest,
    RemoveBackgroundRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
)
from handlers.sizes import fit_size

MAX_IMAGES = 5
# Caps on free text sent to a model, in one place. What an image model reads (the prompt,
# `no=`, `keep=`, `mask=`) is capped at that model's own limit (ImageModelSpec.max_prompt_chars);
# what only the vision model reads is capped here: long enough for any real question, short
# enough that a pasted document is not sent (and paid for) as one.
MAX_QUESTION_CHARS = 2_000
MAX_LANGUAGE_CHARS = 40
MIN_CFG, MAX_CFG = 1.1, 10.0
# Stability's aspect_ratio enum, plus 4:3 and 3:4, which go to the nearest shape a model offers.
IMAGINE_RATIOS = ("1:1", "16:9", "9:16", "4:5", "5:4", "3:2", "2:3", "21:9", "9:21", "4:3", "3:4")
NAMED_RATIOS = {"square": "1:1", "story": "9:16", "banner": "16:9", "portrait": "4:5"}

_NEGATIVE = Option("no", "no=people", free_text=True, aliases=("negative",))
_COUNT = Option("n", "n=3", aliases=("count",))
_SEED = Option("seed", "seed=42")
_RATIO = Option("ar", "ar=16:9", aliases=("aspect",))


def _options(*specs: Option) -> dict[str, Option]:
    return {spec.name: spec for spec in specs}


IMAGINE_OPTIONS = _options(
    _NEGATIVE, _RATIO, Option("size", "size=1024x1024"), _COUNT, _SEED,
    Option("quality", "quality=premium"), Option("cfg", "cfg=7.5", aliases=("cfgscale",)),
    Option("brand", "brand=off"), Option("logo", "logo=on"), Option("enhance", "enhance", switch=True),
)
REPLACE_BG_OPTIONS = _options(
    Option("keep", "keep=car", free_text=True), Option("mode", "mode=precise"),
    _NEGATIVE, _COUNT, _SEED,
)
DESCRIBE_OPTIONS = _options(Option("translate", "translate=german"))
EDIT_OPTIONS = _options(Option("mask", 'mask="bowl of salsa"', free_text=True), _NEGATIVE, _COUNT, _SEED)
EXTEND_OPTIONS = _options(_RATIO, _NEGATIVE, _COUNT, _SEED)
UPSCALE_OPTIONS = _options(Option("mode", "mode=conservative"), _SEED)
BRAND_OPTIONS = _options(Option("logo", "logo=always"))
# How an on/off option may be written.
_ON, _OFF = ("on", "yes", "true"), ("off", "no", "false")
FORMATS_OPTIONS = _options(_SEED)


def parse_imagine(text: str, spec: ImageModelSpec) -> ImagineRequest:
    """Parse /imagine text for the image model described by ``spec``."""
    parsed = _parse("imagine", text, IMAGINE_OPTIONS)
    prompt = _require_prompt("imagine", parsed.prompt)
    _check_length("imagine", "prompt", prompt, spec)
    options = parsed.options
    if "ar" in options and "size" in options:
        raise UsageError("imagine", "ar_and_size")
    width, height, asked = _imagine_size(options, spec)
    quality = options.get("quality", "standard").lower()
    if quality not in ("standard", "premium"):
        raise UsageError("imagine", "bad_quality", value=quality)
    if "cfg" in options and not spec.default_cfg_scale:
        raise UsageError("imagine", "cfg_unsupported", model=spec.label)
    return ImagineRequest(
        prompt=prompt,
        width=width,
        height=height,
        negative=_negative("imagine", options, spec),
        count=_count("imagine", options),
        seed=_seed("imagine", options, spec),
        quality=quality,
        cfg_scale=_cfg(options),
        asked_ratio=asked,
        brand=_on_off("imagine", options, "brand", "on") == "on",
        logo=_on_off("imagine", options, "logo", ""),
        enhance=_on_off("imagine", options, "enhance", "off") == "on",
    )


def parse_brand(text: str) -> BrandRequest:
    """Parse /brand text: one subcommand (none shows the kit), or ``logo=always|optional``."""
    parsed = _parse("brand", text, BRAND_OPTIONS)
    words = parsed.prompt.lower().split()
    actions = ", ".join(f"`{action}`" for action in BRAND_ACTIONS if action != "show")
    if "logo" in parsed.options:
        mode = parsed.options["logo"].lower()
        if words or mode not in LOGO_MODES:
            raise UsageError("brand", "bad_logo_mode", value=parsed.options["logo"])
        return BrandRequest(action="logo", logo_mode=mode)
    if not words:
        return BrandRequest()
    if len(words) > 1 or words[0] not in BRAND_ACTIONS:
        raise UsageError("brand", "bad_brand_action", value=parsed.prompt[:40], actions=actions)
    return BrandRequest(action=words[0])


def _on_off(command: str, options: Mapping[str, str], name: str, default: str) -> str:
    """``on``/``off`` for an on/off option (``default`` when absent)."""
    if name not in options:
        return default
    value = options[name].lower()
    if value not in (*_ON, *_OFF):
        raise UsageError(command, "bad_on_off", name=name, value=options[name])
    return "on" if value in _ON else "off"


def parse_replace_background(text: str, spec: ImageModelSpec) -> ReplaceBackgroundRequest:
    """Parse /replace-bg text: ``keep=`` is the subject, the rest the new background."""
    parsed = _parse("replace-bg", text, REPLACE_BG_OPTIONS)
    return _replace_background(_require_prompt("replace-bg", parsed.prompt), parsed.options, spec)


def replace_background_fields(fields: Mapping[str, str], spec: ImageModelSpec) -> ReplaceBackgroundRequest:
    """The "Replace background" form: each field is a value, never parsed as options."""
    options = {name: value for name in ("keep", "mode") if (value := field_text(fields, name))}
    return _replace_background(_require_prompt("replace-bg", field_text(fields, "background")), options, spec)


def _replace_background(prompt: str, options: Mapping[str, str], spec: ImageModelSpec) -> ReplaceBackgroundRequest:
    _check_length("replace-bg", "background description", prompt, spec)
    mode = options.get("mode", "default").lower()
    if mode not in ("default", "precise"):
        raise UsageError("replace-bg", "bad_mode", value=mode)
    keep = options.get("keep", AUTO_SUBJECT)
    _check_length("replace-bg", "`keep=` text", keep, spec)
    return ReplaceBackgroundRequest(
        prompt=prompt,
        keep=AUTO_SUBJECT if keep.lower() == AUTO_SUBJECT else keep,
        precise=mode == "precise",
        negative=_negative("replace-bg", options, spec),
        count=_count("replace-bg", options),
        seed=_seed("replace-bg", options, spec),
    )


def parse_describe(text: str) -> DescribeRequest:
    """Parse /describe text: an optional preset word, ``translate=``, or a question."""
    parsed = _parse("describe", text, DESCRIBE_OPTIONS)
    language = parsed.options.get("translate", "")
    words = parsed.prompt.split()
    if language:
        if words:
            raise UsageError("describe", "translate_alone")
        return _translate(language)
    if not words:
        return DescribeRequest()
    if len(words) == 1 and words[0].lower() in DESCRIBE_PRESETS:
        return DescribeRequest(preset=words[0].lower())
    return _question(parsed.prompt)


def describe_fields(fields: Mapping[str, str]) -> DescribeRequest:
    """The "Describe image" form: a question wins over a language, which wins over the preset."""
    if question := field_text(fields, "question"):
        return _question(question)
    if language := field_text(fields, "language"):
        return _translate(language)
    preset = field_text(fields, "preset").lower() or "caption"
    if preset not in DESCRIBE_PRESETS:
        raise UsageError("describe", "bad_preset", value=preset)
    return DescribeRequest(preset=preset)


def _question(question: str) -> DescribeRequest:
    _check_cap("describe", "question", question, MAX_QUESTION_CHARS)
    return DescribeRequest(preset="question", question=question)


def _translate(language: str) -> DescribeRequest:
    _check_cap("describe", "language name", language, MAX_LANGUAGE_CHARS)
    return DescribeRequest(preset="translate", language=language)


def parse_edit(text: str, spec: ImageModelSpec) -> EditRequest:
    """Parse /edit text: ``mask=`` names what to repaint, the rest is what to paint."""
    parsed = _parse("edit", text, EDIT_OPTIONS)
    prompt = _require_prompt("edit", parsed.prompt)
    _check_length("edit", "prompt", prompt, spec)
    mask = parsed.options.get("mask", "")
    _check_length("edit", "`mask=` text", mask, spec)
    return EditRequest(
        prompt=prompt,
        mask=mask,
        negative=_negative("edit", parsed.options, spec),
        count=_count("edit", parsed.options),
        seed=_seed("edit", parsed.options, spec),
    )


def parse_extend(text: str, spec: ImageModelSpec) -> ExtendRequest:
    """Parse /extend text: ``ar=`` is the target format, the rest the new surroundings."""
    parsed = _parse("extend", text, EXTEND_OPTIONS)
    if "ar" not in parsed.options:
        raise UsageError("extend", "extend_needs_ar")
    return _extend(_require_prompt("extend", parsed.prompt), parsed.options, spec)


def extend_fields(fields: Mapping[str, str], spec: ImageModelSpec) -> ExtendRequest:
    """The Extend form: a format from the menu and the new surroundings, taken as written."""
    prompt = _require_prompt("extend", field_text(fields, "prompt"))
    return _extend(prompt, {"ar": field_text(fields, "format") or "story"}, spec)


def _extend(prompt: str, options: Mapping[str, str], spec: ImageModelSpec) -> ExtendRequest:
    _check_length("extend", "prompt", prompt, spec)
    ratio_w, ratio_h = _ratio("extend", options["ar"], spec)
    return ExtendRequest(
        prompt=prompt,
        ratio_w=ratio_w,
        ratio_h=ratio_h,
        negative=_negative("extend", options, spec),
        count=_count("extend", options),
        seed=_seed("extend", options, spec),
    )


def parse_remove_background(text: str) -> RemoveBackgroundRequest:
    """Parse /remove-bg text, which must be empty (or ``help``)."""
    parsed = _parse("remove-bg", text, {})
    if parsed.prompt:
        raise UsageError("remove-bg", "remove_bg_no_words")
    return RemoveBackgroundRequest()


def parse_upscale(text: str, spec_for_mode: Callable[[str], ImageModelSpec]) -> UpscaleRequest:
    """Parse /upscale text: ``mode=fast|conservative|creative`` and an optional prompt for the last two."""
    parsed = _parse("upscale", text, UPSCALE_OPTIONS)
    mode = parsed.options.get("mode", "fast").lower()
    if mode not in UPSCALE_MODES:
        raise UsageError("upscale", "bad_upscale_mode", value=mode)
    if mode == "fast" and parsed.prompt:
        raise UsageError("upscale", "fast_upscale_no_prompt")
    spec = spec_for_mode(mode)
    _check_length("upscale", "prompt", parsed.prompt, spec)
    return UpscaleRequest(mode=mode, prompt=parsed.prompt, seed=_seed("upscale", parsed.options, spec))


def parse_formats(text: str, spec: ImageModelSpec, available: tuple[FormatTarget, ...]) -> FormatsRequest:
    """Parse /formats text: format names (``story,square``; none means every one in ``available``).

    ``spec`` is the outpaint model's: the planner speaks Stability's Outpaint, so another family is refused here.
    Raises ``UnknownFormat`` for a name not in ``available``.
    """
    parsed = _parse("formats", text, FORMATS_OPTIONS)
    if spec.family is not ImageFamily.STABILITY:
        raise UsageError("formats", "formats_need_stability", model=spec.label)
    targets = pick_formats(parsed.prompt, available)
    return FormatsRequest(formats=tuple(f"{t.name}={t.width}x{t.height}" for t in targets),
                          seed=_seed("formats", parsed.options, spec))


def _parse(command: str, text: str, options: Mapping[str, Option]) -> ParsedText:
    if text.strip().lower() in ("help", "--help", "-h", "?"):
        raise HelpRequested(command)
    return parse_text(command, text, options)


def _require_prompt(command: str, prompt: str) -> str:
    if not prompt:
        raise UsageError(command, "missing_prompt")
    return prompt


def _check_length(command: str, what: str, text: str, spec: ImageModelSpec) -> None:
    """Text an image model reads, capped at that model's limit."""
    _check_cap(command, what, text, spec.max_prompt_chars, spec.label)


def _check_cap(command: str, what: str, text: str, limit: int, reader: str = "Studio") -> None:
    if len(text) > limit:
        raise UsageError(command, "too_long", what=what, length=len(text), model=reader, limit=limit)


def _negative(command: str, options: Mapping[str, str], spec: ImageModelSpec) -> str:
    negative = options.get("no", "")
    _check_length(command, "`no=` text", negative, spec)
    return negative


def _int_option(command: str, options: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    if name not in options:
        return None
    raw = options[name]
    if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
        raise UsageError(command, "bad_int", name=name, low=low, high=high, value=raw)
    return int(raw)


def _count(command: str, options: Mapping[str, str]) -> int:
    return _int_option(command, options, "n", 1, MAX_IMAGES) or 1


def _seed(command: str, options: Mapping[str, str], spec: ImageModelSpec) -> int | None:
    return _int_option(command, options, "seed", 0, spec.max_seed)


def _cfg(options: Mapping[str, str]) -> float | None:
    if "cfg" not in options:
        return None
    raw = options["cfg"]
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not MIN_CFG <= value <= MAX_CFG:
        raise UsageError("imagine", "bad_cfg", low=MIN_CFG, high=MAX_CFG, value=raw)
    return value


def _imagine_size(options: Mapping[str, str], spec: ImageModelSpec) -> tuple[int, int, str]:
    """The size to ask the model for, and the shape the person asked for."""
    if "size" in options:
        match = re.fullmatch(r"(\d{2,5})[x×*](\d{2,5})", options["size"].lower())
        width, height = (int(match[1]), int(match[2])) if match else (0, 0)
        if spec.accepts_size(width, height):
            return width, height, f"{width}x{height}"
        # Stability takes an aspect ratio, not a size: any sensible size goes to the nearest one.
        if spec.family is ImageFamily.STABILITY and min(width, height) >= 64 and max(width, height) <= 8192:
            return (*fit_size(spec, width, height), f"{width}x{height}")
        raise UsageError("imagine", "bad_size", model=spec.label, value=options["size"], rules=spec.size_rules())
    ratio = options.get("ar", "1:1")
    ratio = NAMED_RATIOS.get(ratio.lower(), ratio)
    if ratio not in IMAGINE_RATIOS:  # e.g. 7:3: /extend takes any ratio, a generator only these shapes
        raise UsageError("imagine", "bad_imagine_ratio", ratios=", ".join(IMAGINE_RATIOS), value=options["ar"])
    ratio_w, ratio_h = (int(part) for part in ratio.split(":"))
    return (*fit_size(spec, ratio_w, ratio_h), ratio)


def _ratio(command: str, raw: str, spec: ImageModelSpec) -> tuple[int, int]:
    value = NAMED_RATIOS.get(raw.lower(), raw)
    match = re.fullmatch(r"(\d{1,3}):(\d{1,3})", value)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        named = ", ".join(NAMED_RATIOS)
        raise UsageError(command, "bad_ratio", named=named, value=raw)
    ratio_w, ratio_h = int(match[1]), int(match[2])
    if max(ratio_w, ratio_h) / min(ratio_w, ratio_h) > spec.max_aspect:
        raise UsageError(command, "ratio_too_stretched", value=raw, model=spec.label, limit=spec.max_aspect)
    return ratio_w, ratio_h
