"""How to use Studio: each command's help, what was wrong with a command's text, the how-tos."""

from __future__ import annotations

import datetime as dt

from bot.commands.table import COMMANDS
from bot.errors import UsageError
from bot.messages.markup import until

PRESET_NAMES = {
    "caption": "a caption", "detail": "a detailed description", "alt": "alt text",
    "objects": "the objects in the photo", "classify": "a classification", "subject": "the main subject",
    "story": "a short story", "text": "the text in the photo", "social": "a social media post",
}

DESCRIBE_CHOICES = {preset: name[0].upper() + name[1:] for preset, name in PRESET_NAMES.items()}

# What was wrong with a command's text, by ``UsageError.problem``; the error's params (and
# its command, and that command's ask for a missing prompt) fill in the details.
PROBLEMS = {
    "flag_needs_value": "`--{flag}` needs a value, e.g. `{example}`.",
    "unknown_option_hint": "Unknown option `{shown}`. Did you mean `{hint}=`?",
    "no_options": "`/{command}` takes no options, but got `{shown}`.",
    "unknown_option": "Unknown option `{shown}`. `/{command}` understands {known}.",
    "unclosed_quote": "Missing closing quote after `{shown}`. Put a quote at both ends of a value with "
                      "spaces, like `keep=\"red car\"`.",
    "option_twice": "`{name}=` is given twice; keep one.",
    "option_needs_value": "`{name}=` needs a value, e.g. `{example}`.",
    "ar_and_size": "Give either `ar=` or `size=`, not both.",
    "bad_quality": "`quality=` is `standard` or `premium`, not `{value}`.",
    "bad_mode": "`mode=` is `default` or `precise`, not `{value}`.",
    "bad_upscale_mode": "`mode=` is `fast`, `conservative` or `creative`, not `{value}`.",
    "fast_upscale_no_prompt": "The fast upscaler takes no prompt; add `mode=conservative` or `mode=creative` "
                              "to guide the upscale with words.",
    "cfg_unsupported": "{model} has no `cfg=` setting; leave it out (it is for Titan and Nova Canvas).",
    "bad_preset": "`{value}` is not one of the description choices; pick one from the menu.",
    "translate_alone": "`translate=` takes no other words: `/describe translate=german`.",
    "extend_needs_ar": "Say which format to extend to, e.g. `ar=9:16` or `ar=story`.",
    "remove_bg_no_words": "`/remove-bg` takes no words; post the photo and run it alone.",
    "missing_prompt": "{what} after `/{command}`.",
    "too_long": "The {what} is {length:,} characters; {model} accepts at most {limit:,}. Please shorten it.",
    "bad_int": "`{name}=` must be a whole number from {low} to {high:,}, not `{value}`.",
    "bad_cfg": "`cfg=` must be a number from {low} to {high:g}, not `{value}`.",
    "bad_size": "{model} cannot make `size={value}`. Allowed: {rules}.",
    "bad_imagine_ratio": "`ar=` is one of {ratios}, not `{value}`.",
    "bad_ratio": "`ar=` is a ratio such as `9:16` or one of {named}, not `{value}`.",
    "ratio_too_stretched": "`ar={value}` is too stretched; {model} goes up to {limit:g}:1.",
    "unknown_action": "Unknown button action `{action}`.",
    "variations_from_button": "Variations come from the button under a result.",
    "bad_on_off": "`{name}=` is `on` or `off`, not `{value}`.",
    "bad_brand_action": "`/brand {value}` is not something Studio knows. Use {actions}, or `/brand` alone "
                        "to see this channel's kit.",
    "bad_logo_mode": "`/brand logo=` is `always` (the logo on every /imagine image here) or `optional` "
                     "(only with `logo=on`), not `{value}`.",
    "formats_need_stability": "`/formats` needs the Stability stack: {model} cannot extend a photo to an exact "
                              "format. Ask an admin to set `STUDIO_MODELS=stability` (the default).",
    "one_s3_folder": "Name one S3 folder per batch (`s3://bucket/prefix/`); run the command again for the next.",
    "s3_needs_photo_command": "`/{command}` does not work on photos, so it takes no S3 folder.",
    "edit_needs_mask": "Say what to repaint with `mask=`, or post the photo together with a black-and-white mask "
                       "image (black = repaint) and mention @Studio.",
}


def usage(command: str) -> str:
    """The help text for one command."""
    row = COMMANDS[command]
    return f"{row.usage}\nExample: `{row.example}`"


def usage_problem(error: UsageError) -> str:
    """What was wrong with a command's text (shown under a form's field, or after a warning sign)."""
    details = {"command": error.command, "what": COMMANDS[error.command].prompt_ask, **error.params}
    return PROBLEMS[error.problem].format(**details)


def usage_error(error: UsageError) -> str:
    """The private answer to a command with bad text: the problem, an example and where to find more."""
    return (f":warning: {usage_problem(error)}\nExample: `{COMMANDS[error.command].example}`"
            f"  (type `/{error.command} help` for all options)")


def _examples() -> list[str]:
    return [row.example for row in COMMANDS.values() if row.slash]


def working(command: str, count: int = 1) -> str:
    """The private note that acknowledges a command."""
    if command == "brand":
        return ":art: On it."
    if command == "imagine":
        noun = "image" if count == 1 else f"{count} images"
        return f":hourglass_flowing_sand: Working on your {noun}. It will appear in the channel shortly."
    return ":hourglass_flowing_sand: Working on it. The result will appear in the photo's thread."


def mention_help() -> str:
    """Answer to a mention that names no command."""
    lines = "\n".join(f"• `@Studio {example.lstrip('/')}`" for example in _examples())
    return f"Start with a command, for example:\n{lines}"


def home_help() -> str:
    """The how-to on the App Home tab."""
    lines = "\n".join(f"• `{example}`" for example in _examples())
    return (
        "*Make and edit images without leaving Slack.*\n" + lines +
        "\nPost a photo first for the photo commands, or use the ⋮ menu on a photo → "
        "*Replace background…* / *Describe image*. Add `help` to any command for its options."
    )


def usage_today(user: int, team: int, user_limit: int, team_limit: int, admin: bool, resets: dt.datetime) -> str:
    """A person's image usage today (``/imagine usage`` and the App Home tab)."""
    def of(used: int, limit: int) -> str:
        return f"{used} of {limit}" if limit else f"{used} (no limit)"

    mine = f"{user} (admins have no limit)" if admin else of(user, user_limit)
    return (
        f":bar_chart: Images today — you: *{mine}*, whole workspace: *{of(team, team_limit)}*.\n"
        f"The allowance resets at {resets:%H:%M} UTC ({until(resets)})."
    )
