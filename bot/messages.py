"""Every sentence Studio says to a person, in one place and one voice."""

from __future__ import annotations

import datetime as dt
import re

from bot.access import NotAllowed
from bot.errors import (
    BatchTooLarge,
    BedrockTimedOut,
    BotNotInChannel,
    HelpRequested,
    NoImageFound,
    NoModelForRole,
    OutOfDate,
    PhotoFetchFailed,
    PhotoInterrupted,
    QueueUnavailable,
    SlackRejected,
    SlackUnavailable,
    SubjectMismatch,
    UsageError,
)
from bot.quota import QuotaExceeded, resets_at
from bot.settings import Settings
from handlers.errors import (
    InvalidImage,
    ModelAccessDenied,
    ModelBeingEnabled,
    ModelBlocked,
    ModelBusy,
    ModelFailed,
    ModelNeedsProfile,
    ModelUnavailable,
    ModelUnsupported,
)
from handlers.model_table import DEFAULT_STACK, ROLES, STACKS, Role
from handlers.requests import (
    AUTO_SUBJECT,
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
)

EXAMPLES: dict[str, str] = {
    "imagine": "/imagine sneaker on a neon street no=people ar=16:9 n=3",
    "replace-bg": "/replace-bg keep=car beach at sunset mode=precise",
    "describe": "/describe alt",
    "edit": '/edit mask="bowl of salsa" bowl of black beans',
    "extend": "/extend ar=9:16 city street at dusk",
    "remove-bg": "/remove-bg",
    "upscale": "/upscale mode=conservative",
}

PRESET_NAMES = {
    "caption": "a caption", "detail": "a detailed description", "alt": "alt text",
    "objects": "the objects in the photo", "classify": "a classification", "subject": "the main subject",
    "story": "a short story", "text": "the text in the photo", "social": "a social media post",
}

USAGE: dict[str, str] = {
    "imagine": (
        "*/imagine* _what to draw_ [options]\n"
        "• `no=` what to leave out  • `ar=` 1:1, 16:9, 9:16, 4:5, 5:4, 3:2, 2:3, 21:9, 9:21 (4:3 and 3:4 go to "
        "the nearest the model offers), or `size=WxH`\n"
        "• `n=` 1–5 images  • `seed=` repeat a result  • `quality=standard|premium`  "
        "• `cfg=` 1.1–10 prompt strength (Titan/Nova only)\n"
        "Midjourney spellings work too: `--no people --ar 16:9 --seed 7`."
    ),
    "replace-bg": (
        "*/replace-bg* [keep=_subject_] _new background_ [options]\n"
        "Uses the newest photo you posted in this channel (last 15 minutes).\n"
        "• `keep=` what to keep (`auto` lets Studio find the subject; the default)\n"
        "• `mode=default|precise`  • `no=` what to leave out  • `n=` 1–5  • `seed=`"
    ),
    "describe": (
        "*/describe* [preset | question]\n"
        "Presets: `caption` (default), `detail`, `alt`, `objects`, `classify`, `subject`, "
        "`story`, `text`, `social`, `translate=<language>`.\n"
        "Or ask anything: `/describe what colour is the car?`"
    ),
    "edit": (
        "*/edit* mask=_what to repaint_ _what to paint there_ [no=… n=… seed=…]\n"
        "Or post two images (photo, then a black-and-white mask) and `@Studio edit …`."
    ),
    "extend": (
        "*/extend* ar=_format_ _new surroundings_ [no=… n=… seed=…]\n"
        "Formats: any ratio such as `9:16`, or `square`, `story`, `banner`, `portrait`."
    ),
    "remove-bg": "*/remove-bg* — cuts the subject of your newest photo out onto a transparent PNG.",
    "upscale": (
        "*/upscale* [mode=fast|conservative|creative] [_prompt_]\n"
        "Enlarges your newest photo: `fast` 4× (the default; photos over 1 MP are shrunk first), "
        "`conservative` to about 4 MP keeping every detail, `creative` to about 4 MP re-imagining "
        "fine detail (a prompt guides the last two)."
    ),
}


DESCRIBE_CHOICES = {preset: name[0].upper() + name[1:] for preset, name in PRESET_NAMES.items()}


# What was wrong with a command's text (UsageError.problem), by key; filled in by
# bot.commands.grammar and bot.commands.parsers through ``problem()``.
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
    "edit_needs_mask": "Say what to repaint with `mask=`, or post the photo together with a black-and-white mask "
                       "image (black = repaint) and mention @Studio.",
}
# The words that start a "missing_prompt" problem, per command.
PROMPT_ASKS = {
    "imagine": "Tell me what to draw", "replace-bg": "Describe the new background",
    "edit": "Say what to paint", "extend": "Describe the new surroundings", "upscale": "Describe the photo",
}


def problem(key: str, **params: object) -> str:
    """The sentence for a usage problem, with its details filled in."""
    return PROBLEMS[key].format(**params)


INVALID_IMAGE = {
    "empty": "The file is empty. Please upload the photo again.",
    "file_too_large": "The file is {megabytes} MB; Studio accepts photos up to {limit} MB.",
    "login_page": "Slack sent a login page instead of the file: Studio is missing the `files:read` "
                  "permission. A Slack admin must add it and reinstall the app.",
    "pdf": "That file is a PDF, not a photo. Please post a JPEG, PNG, WebP or GIF.",
    "heic": "HEIC/AVIF photos are not supported yet. On iPhone choose Settings → Camera → Formats → "
            "Most Compatible, or export the photo as JPEG or PNG.",
    "too_many_pixels": "The image is too large ({megapixels} MP; Studio accepts up to {limit} MP). Please resize it.",
    "unreadable": "That file is not an image Studio can read. Please post a JPEG, PNG, WebP or GIF.",
    "damaged": "The image is damaged or incomplete. Please upload it again.",
    "too_stretched": (
        "This photo is too narrow or too wide ({ratio}:1); {model} accepts up to {limit:g}:1. Please crop it."
    ),
    "mask_shape": "The mask is {mask_width}×{mask_height} but the photo is {width}×{height}; "
                  "the mask must have the photo's shape (black = repaint, white = keep).",
    "mask_all_white": "The mask is all white, so there is nothing to repaint. Paint the area to change black.",
    "mask_all_black": "The mask is all black, which would repaint everything; use /imagine for a new picture.",
    "not_slack_hosted": "`{name}` is not hosted by Slack, so Studio will not fetch it.",
}
MODEL_FAILED = {
    "no_credentials": "Studio has no AWS credentials. An admin must set AWS_PROFILE or "
                      "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or attach an IAM role).",
    "call_failed": "The call to Bedrock failed ({kind}). Please try again.",
    "model_unavailable": "The model {model} is not available in {region}; it may have reached end of life. "
                         "An admin can check with `python -m bot doctor`.",
    "rejected": "Bedrock rejected the request ({error_code}): {message}",
    "no_subject": "The vision model could not name the subject; try `keep=` with a word such as `keep=car`.",
    "empty_answer": "The vision model returned an empty answer. Please try again.",
    "bad_image_data": "The model returned an image Studio could not read. Please try again.",
    "no_image": "The model returned no image ({detail}).",
    "unknown_model": "The configured model {model} is not one Studio can drive. An admin should choose "
                     "Titan Image Generator, Nova Canvas or a Stability AI model (see `python -m bot doctor`).",
}


def _worded(table: dict[str, str], code: str, params: dict[str, object]) -> str:
    """A table's sentence with its details filled in; text details are escaped for Slack."""
    safe = {key: escape(value) if isinstance(value, str) else value for key, value in params.items()}
    return table[code].format(**safe)


NO_IMAGE_REASONS = {
    "none_recent": "I could not find a photo you posted in this channel in the last 15 minutes. "
                   "Post the photo first (or reply to its thread), then run the command again.",
    "not_image": "`{name}` is not an image. Studio works with JPEG, PNG, WebP and GIF photos.",
    "none_on_message": "That message has no photo Studio can use (JPEG, PNG, WebP or GIF).",
    "none_in_thread": "There is no photo in this thread yet. Post it here, then ask again.",
    "deleted": "The photo was deleted from Slack, so Studio cannot use it any more.",
    "result_expired": "That result is too old to reuse; run the command again.",
    "result_image_gone": "That image is no longer part of the result.",
}


def usage(command: str) -> str:
    """The help text for one command."""
    return f"{USAGE[command]}\nExample: `{EXAMPLES[command]}`"


def working(command: str, count: int = 1) -> str:
    """The private note that acknowledges a command."""
    if command == "imagine":
        noun = "image" if count == 1 else f"{count} images"
        return f":hourglass_flowing_sand: Working on your {noun}. It will appear in the channel shortly."
    return ":hourglass_flowing_sand: Working on it. The result will appear in the photo's thread."


def imagine_started(user_id: str, prompt: str, count: int) -> str:
    """The parent message for an /imagine job."""
    noun = "an image" if count == 1 else f"{count} images"
    return f"<@{user_id}> asked for {noun}:\n> {quote(prompt)}"


def generation_summary(
    model_label: str, seeds: list[int], width: int, height: int, seconds: float, count: int, blocked: int,
    asked_ratio: str = "", made_ratio: str = "",
) -> str:
    """How a result was made (every image's seed), so it can be reproduced.

    ``made_ratio`` is the aspect ratio the model was asked for when it takes a named
    one (Stability): its output sizes are only near that shape, so the ratio is not
    worked out from the pixels (1216×832 is Stability's 3:2, not 13:9).
    """
    seeds = list(dict.fromkeys(seeds))  # Titan/Nova use one seed for all images of a call
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(str(seed) for seed in seeds)
    line = f"{model_label} · {seed_text} · {width}×{height} · {seconds:.1f}s"
    made = made_ratio or _ratio_of(width, height)
    if asked_ratio and _ratio_of(*_parts(asked_ratio)) != made:
        line += f"\n:information_source: {model_label} has no {asked_ratio}; the nearest it offers is {made}."
    if blocked:
        line += f"\n:warning: {blocked} of {count} images were withheld by the content filter."
    return line


def _parts(shape: str) -> tuple[int, int]:
    width, height = re.split(r"[:x]", shape)
    return int(width), int(height)


def _ratio_of(width: int, height: int) -> str:
    """``1344, 768`` -> ``16:9``: the simplest ratio within 2 % of the size's shape."""
    for denominator in range(1, 22):
        numerator = round(width / height * denominator)
        if numerator and abs(numerator / denominator - width / height) <= 0.02 * width / height:
            return f"{numerator}:{denominator}"
    return f"{width}:{height}"


def describe_started(user_id: str, request: DescribeRequest) -> str:
    """The progress message for /describe."""
    if request.preset == "question":
        return f"<@{user_id}> asked: _{quote(request.question)}_"
    if request.preset == "translate":
        return f"<@{user_id}> asked for the text, translated into {quote(request.language)}"
    return f"<@{user_id}> asked for {PRESET_NAMES[request.preset]}"


def describe_answer(answers: list[str], photo_names: list[str]) -> str:
    """One answer, or one labelled answer per photo."""
    if len(answers) == 1:
        return escape(answers[0])
    return "\n\n".join(
        f"*Image {index} · {quote(name)}*\n{escape(answer)}"
        for index, (name, answer) in enumerate(zip(photo_names, answers, strict=True), start=1)
    )


def replace_started(user_id: str, request: ReplaceBackgroundRequest) -> str:
    """The progress message for /replace-bg."""
    keep = "the main subject" if request.keep == AUTO_SUBJECT else f"*{quote(request.keep)}*"
    return f"<@{user_id}> asked to keep {keep} on a new background:\n> {quote(request.prompt)}"


def replace_summary(subjects: list[str], request: ReplaceBackgroundRequest, model_label: str, seconds: float,
                    seeds: list[int] | None = None) -> str:
    """How a background replacement was made."""
    kept = ", ".join(dict.fromkeys(subjects))
    found = " (found automatically)" if request.keep == AUTO_SUBJECT else ""
    mode = "precise" if request.precise else "default"
    shown = seeds or ([request.seed] if request.seed is not None else [])
    seed_text = ("seed " if len(shown) == 1 else "seeds ") + ", ".join(str(seed) for seed in shown)
    return f"kept: {quote(kept)}{found} · {model_label} · {seed_text} · mode {mode} · {seconds:.1f}s"


def subject_mismatch(expected: str, kept: str) -> str:
    """The cut-out is not what ``keep=`` asked for, so nothing was painted."""
    return (f":mag: You asked to keep *{quote(expected)}*, but the cut-out of this photo shows *{quote(kept)}*. "
            f"Nothing was generated. Try `keep={escape(kept.split()[-1] if kept else 'auto')}` or `keep=auto`, "
            "or crop the photo so the subject stands out.")


EDIT_VERBS = {
    "edit": "a repaint", "extend": "an extended version", "remove-bg": "a cut-out", "variations": "variations",
    "upscale": "an upscale",
}


def edit_started(user_id: str, command: str, request: object) -> str:
    """The progress message for /edit, /extend, /remove-bg and Variations."""
    heading = f"<@{user_id}> asked for {EDIT_VERBS[command]}"
    if isinstance(request, EditRequest):
        target = f"*{quote(request.mask)}*" if request.mask else "the black area of the mask"
        return f"{heading}: repaint {target} with\n> {quote(request.prompt)}"
    if isinstance(request, ExtendRequest):
        return f"{heading} at {request.ratio_w}:{request.ratio_h}:\n> {quote(request.prompt)}"
    if isinstance(request, UpscaleRequest):
        return f"{heading} ({request.mode})" + (f":\n> {quote(request.prompt)}" if request.prompt else "")
    return heading


def edit_summary(command: str, request: object, model_label: str, seeds: list[int], blocked: int, seconds: float,
                 size: tuple[int, int] | None = None) -> str:
    """How an edit was made (command, model, seeds, mode, new size), so it can be reproduced."""
    parts = [f"/{command}", model_label]
    if command not in ("remove-bg", "upscale"):
        seeds = list(dict.fromkeys(seeds))
        parts.append(("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(seed) for seed in seeds))
    if isinstance(request, ExtendRequest):
        parts.append(f"{request.ratio_w}:{request.ratio_h}, mode precise")
    if isinstance(request, UpscaleRequest) and size is not None:
        parts.append(f"{request.mode} · now {size[0]}×{size[1]}")
    line = " · ".join(parts) + f" · {seconds:.1f}s"
    if blocked:
        line += f"\n:warning: {blocked} image(s) were withheld by the content filter."
    return line


def edit_alt_text(command: str, request: object) -> str:
    """Alt text for an edited photo."""
    prompt = getattr(request, "prompt", "")
    return (f"{EDIT_VERBS[command].capitalize()} of the photo" + (f": {prompt}" if prompt else ""))[:1000]


def batch_started(user_id: str, request: ReplaceBackgroundRequest, count: int) -> str:
    """The progress message of a batch."""
    keep = "each photo's subject" if request.keep == AUTO_SUBJECT else f"*{quote(request.keep)}*"
    return f"<@{user_id}> asked to put {keep} on a new background in {count} photos:\n> {quote(request.prompt)}"


def batch_progress(done: int, failed: int, total: int) -> str:
    """How far a batch is ("7/12 done, 1 failed")."""
    line = f"{done}/{total} done" + (f", {failed} failed" if failed else "")
    return line + (" · report below" if done == total else " · working…")


def batch_done(user_id: str, rows: list[dict[str, object]], request: ReplaceBackgroundRequest) -> str:
    """The comment on the batch report file."""
    failed = [row for row in rows if row["outcome"] != "done"]
    line = f"<@{user_id}> {len(rows) - len(failed)} of {len(rows)} photos are on the new background"
    line += f" (seed {request.seed}, mode {'precise' if request.precise else 'default'})."
    if failed:
        line += f" {len(failed)} failed: " + "; ".join(escape(f"{row['photo']}: {row['reason']}") for row in failed[:5])
    return line + " The report lists every photo."


def plain_reason(error: BaseException) -> str:
    """A failure reason without Slack markup, for a report file."""
    return re.sub(r":[a-z_]+: ", "", error_message(error)).replace("`", "").split("\n")[0]


def replaced_alt_text(subject: str, background: str) -> str:
    """Alt text for a photo with a replaced background."""
    return f"{subject} on a new background: {background}"[:1000]


def alt_text(prompt: str, index: int, count: int) -> str:
    """Alt text for a generated image (Slack caps it at 1000 characters)."""
    prefix = f"Generated image {index} of {count}: " if count > 1 else "Generated image: "
    return (prefix + prompt)[:1000]


def mention_help() -> str:
    """Answer to a mention that names no command."""
    lines = "\n".join(f"• `@Studio {example.lstrip('/')}`" for example in EXAMPLES.values())
    return f"Start with a command, for example:\n{lines}"


def modal_failed() -> str:
    """The shortcut's form could not be opened."""
    return ":warning: Slack did not open the form in time. Please use the shortcut again."


def usage_today(user: int, team: int, user_limit: int, team_limit: int, admin: bool, resets: dt.datetime) -> str:
    """A person's image usage today (``/imagine usage`` and the App Home tab)."""
    def of(used: int, limit: int) -> str:
        return f"{used} of {limit}" if limit else f"{used} (no limit)"

    mine = f"{user} (admins have no limit)" if admin else of(user, user_limit)
    return (
        f":bar_chart: Images today — you: *{mine}*, whole workspace: *{of(team, team_limit)}*.\n"
        f"The allowance resets at {resets:%H:%M} UTC ({_until(resets)})."
    )


def home_help() -> str:
    """The how-to on the App Home tab."""
    lines = "\n".join(f"• `{example}`" for example in EXAMPLES.values())
    return (
        "*Make and edit images without leaving Slack.*\n" + lines +
        "\nPost a photo first for the photo commands, or use the ⋮ menu on a photo → "
        "*Replace background…* / *Describe image*. Add `help` to any command for its options."
    )


def retrying(attempt: int, wait_seconds: float) -> str:
    """Progress note while Bedrock is throttling."""
    return f":hourglass: Bedrock is busy; retrying in {wait_seconds:.0f}s (attempt {attempt})."


def job_label(command: str, request: dict[str, object], photos: list[str]) -> str:
    """A job named by its command, its words and its photos, e.g. `/imagine` “a red car”."""
    words = str(request.get("prompt") or request.get("question") or "")
    label = f"`/{command}`" + (f" “{escape(words[:80])}”" if words else "")
    if photos:
        label += " on " + ", ".join(f"`{escape(name)}`" for name in photos[:5])
        label += f" and {len(photos) - 5} more" if len(photos) > 5 else ""
    return label


def interrupted(labels: list[str]) -> str:
    """Told once, after a crash, kill or shutdown, to a person whose jobs did not finish."""
    if len(labels) == 1:
        return (f":warning: Studio was stopped or restarted, so your request {labels[0]} did not finish. "
                "Please send it again.")
    listed = "\n".join(f"• {label}" for label in labels)
    return (":warning: Studio was stopped or restarted, so these requests of yours did not finish:\n"
            f"{listed}\nPlease send them again.")


def interrupted_line(label: str) -> str:
    """What a progress line says when its job was cut off."""
    return f":warning: Interrupted: Studio was stopped or restarted before {label} finished. Please send it again."


def undelivered(error: BaseException, will_retry: bool) -> str:
    """Told when Slack kept failing before anything was posted; ``will_retry`` when the queue runs it again."""
    if will_retry:
        return _slack_trouble(error) + " Studio will try again by itself in a few minutes."
    return _slack_trouble(error) + " Please send it again in a few minutes."


def _slack_trouble(error: BaseException) -> str:
    """What Slack did not do, for a Slack failure that outlasted the retries."""
    if isinstance(error, PhotoFetchFailed) and error.name:
        answer = f"Slack answered HTTP {error.status}" if error.status else "the connection to Slack failed"
        name = escape(error.name)
        return f":frame_with_picture: Studio could not download your photo `{name}` from Slack ({answer})."
    if isinstance(error, PhotoFetchFailed):
        return (":frame_with_picture: Studio could not look up your photo in Slack "
                "(Slack is rate-limiting Studio or having trouble).")
    return (":warning: Slack did not accept the result after several tries "
            "(Slack is rate-limiting Studio or having trouble).")


def _until(moment: dt.datetime) -> str:
    minutes = max(0, int((moment - dt.datetime.now(dt.UTC)).total_seconds() // 60))
    return f"in {minutes // 60} h {minutes % 60:02d} min"


def escape(text: str) -> str:
    """Text from people or models made inert for Slack: no mentions, links or broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str) -> str:
    """Quote user text safely inside a Slack blockquote."""
    return escape(text).replace("\n", "\n> ")


UNAVAILABLE_REASONS = {
    "end_of_life": "has reached the end of its life on Bedrock",
    "legacy_unused": "is Legacy, and Bedrock no longer serves it to accounts that have not used it lately",
    "invalid_id": "is not a model id Bedrock knows in {region}",
    "account_blocked": "is refused with “Operation not allowed”: Bedrock blocks this AWS account "
                       "(an account-level restriction, or a Legacy model without extended access)",
    "not_found": "is not available in {region}",
}


def settings_for_model(model_id: str, settings: Settings) -> list[tuple[str, str]]:
    """(setting, recommended model) for each role ``model_id`` fills, recommending the default stack."""
    found: dict[str, str] = {}
    for role, info in ROLES.items():
        if settings.model(role) == model_id:
            found.setdefault(info.setting, STACKS[DEFAULT_STACK][role] or "")
    return list(found.items())


def model_unavailable(error: ModelUnavailable, settings: Settings | None) -> str:
    """Told to the person whose job needed a model that cannot be used; names the admins."""
    reason = UNAVAILABLE_REASONS[error.reason].format(region=error.region)
    line = f":no_entry: The model `{error.model_id}` that Studio is set up to use {reason}, so this cannot run."
    if settings is None:
        return line + " A Studio admin must change the model setting (`python -m bot doctor` shows which)."
    changes = settings_for_model(error.model_id, settings)
    fix = "; ".join(f"set {setting} to `{model}`" for setting, model in changes) or "change the model settings"
    admins = " ".join(f"<@{admin}>" for admin in sorted(settings.admins)[:5])
    who = f"Studio's admins ({admins}) have been told" if admins else "Please tell your Studio admin"
    return f"{line} {who}: {fix}."


def admin_model_unavailable(error: ModelUnavailable, settings: Settings) -> str:
    """The daily DM to each admin about a model that cannot be used."""
    reason = UNAVAILABLE_REASONS[error.reason].format(region=error.region)
    changes = settings_for_model(error.model_id, settings)
    fix = "; ".join(f"set `{setting}={model}`" for setting, model in changes) or "change the model settings"
    return (f":warning: Studio: `{error.model_id}` {reason}, so the commands that use it fail. To fix: {fix} "
            f"(or remove the setting to use the default Stability AI stack), then restart Studio. "
            "`python -m bot doctor` checks every model.")


def error_message(error: BaseException, settings: Settings | None = None) -> str:
    """The sentence a person sees for any error; never includes secrets.

    With ``settings``, a model that cannot be used is explained with the setting to change.
    """
    if isinstance(error, HelpRequested):
        return usage(error.command)
    if isinstance(error, UsageError):
        return (f":warning: {error.problem}\nExample: `{EXAMPLES[error.command]}`"
                f"  (type `/{error.command} help` for all options)")
    if isinstance(error, ModelBlocked):
        return (
            ":no_entry: The image model's content filter blocked this request. "
            "Please rephrase the prompt and try again."
        )
    if isinstance(error, ModelUnavailable):
        return model_unavailable(error, settings)
    if isinstance(error, ModelBeingEnabled):
        return (f":hourglass: Bedrock is enabling `{error.model_id}` for this AWS account (this happens on first "
                "use and takes a few minutes). Please try again in a few minutes; if it persists, an admin can "
                "check with `python -m bot doctor`.")
    if isinstance(error, ModelNeedsProfile):
        return (f":warning: `{error.model_id}` is offered only through an inference profile. Ask an admin to "
                f"configure `{error.profile}` instead.")
    if isinstance(error, ModelAccessDenied):
        if error.marketplace:
            # Bedrock words a first-use subscription still under way and missing Marketplace
            # permissions the same ("...cannot be completed at this time... try again after
            # 2 minutes"), so the sentence covers both.
            return (f":hourglass: Bedrock could not finish enabling `{error.model_id}` for this AWS account yet. "
                    "On first use this takes a few minutes: please try again in a few minutes. If it keeps "
                    "happening, Studio's AWS role needs the `aws-marketplace:ViewSubscriptions` and "
                    "`aws-marketplace:Subscribe` permissions (the SAM template grants them): please tell an AWS "
                    "admin (`python -m bot doctor` checks this).")
        return (
            f":lock: AWS does not allow Studio to use the model `{error.model_id}` in {error.region}. "
            "An AWS admin must allow `bedrock:InvokeModel` on it for Studio's role."
        )
    if isinstance(error, ModelUnsupported):
        setting = next((info.setting for info in ROLES.values() if info.task and info.task.value == error.task),
                       ROLES[Role.EDIT].setting)
        task = error.task.replace("_", " ").lower()
        choices = " or ".join(f"`{model}`" for model in error.capable)
        return f":warning: `{error.model_id}` cannot do {task}. Ask an admin to set {setting} to {choices}."
    if isinstance(error, SubjectMismatch):
        return subject_mismatch(error.expected, error.kept)
    if isinstance(error, NoModelForRole):
        model = next(STACKS[DEFAULT_STACK][role] for role, info in ROLES.items() if info.setting == error.setting)
        return (f":warning: The {error.stack} model stack has no model for this. "
                f"Ask an admin to set {error.setting} to `{model}`.")
    if isinstance(error, ModelBusy):
        return (":hourglass: Bedrock is too busy right now and did not recover after several retries. "
                "Please try again in a few minutes.")
    if isinstance(error, InvalidImage):
        return ":frame_with_picture: " + _worded(INVALID_IMAGE, error.code, error.params)
    if isinstance(error, NoImageFound):
        return ":frame_with_picture: " + NO_IMAGE_REASONS[error.reason].format(name=escape(error.name))
    if isinstance(error, OutOfDate):
        if error.what == "form":
            return ":hourglass: This form is out of date. Close it and use the shortcut or button again."
        return ":hourglass: This button is out of date. Run the command again for fresh buttons."
    if isinstance(error, BotNotInChannel):
        return ":wave: Studio is not in this channel yet. Add it with `/invite @Studio`, then try again."
    if isinstance(error, NotAllowed):
        who = " or ".join(f"<@{admin}>" for admin in error.admins[:3]) or "your Slack admin"
        place = "in this channel" if error.where == "channel" else "for you"
        return f":lock: Studio is not enabled {place}. Ask {who} to enable it."
    if isinstance(error, QuotaExceeded):
        whose = "your" if error.scope == "user" else "the workspace's"
        left = max(0, error.limit - error.used)
        resets = resets_at()
        return (
            f":hourglass: This needs {error.requested} image(s), but {whose} daily allowance has {left} of "
            f"{error.limit} left. It resets at {resets:%H:%M} UTC ({_until(resets)}). Nothing was generated."
        )
    if isinstance(error, BatchTooLarge):
        return (
            f":warning: That is {error.count} photos; Studio replaces backgrounds on up to {error.limit} at once. "
            "Split them over several threads."
        )
    if isinstance(error, BedrockTimedOut):
        return (f":hourglass: The model did not answer within {(error.seconds or 0) / 60:g} minutes, so Studio "
                "stopped waiting. It did not send it again (Bedrock bills every request it runs); "
                "please try again later.")
    if isinstance(error, PhotoInterrupted):
        return (":warning: Studio was stopped or restarted before this photo was finished, so it was skipped. "
                "Run it again on its own.")
    if isinstance(error, QueueUnavailable):
        return ":x: Studio could not accept the request right now. Please try again in a minute."
    if isinstance(error, SlackRejected):
        if error.code == "missing_scope":
            return (":lock: Studio is missing a Slack permission for this. "
                    "An admin must update the app from its manifest and reinstall it.")
        return f":warning: Slack refused the result ({error.code}). Please try again, or tell an admin."
    if isinstance(error, SlackUnavailable):
        return _slack_trouble(error) + " Please try again in a few minutes."
    if isinstance(error, ModelFailed):
        return ":x: " + _worded(MODEL_FAILED, error.code, error.params)
    return ":x: Something went wrong on Studio's side. The error is logged; please try again."
