"""What Studio says while it works and when it is done: progress lines, summaries, alt text."""

from __future__ import annotations

import math
import re

from bot.commands.table import COMMANDS
from bot.messages.markup import escape, quote
from bot.messages.usage import PRESET_NAMES
from handlers.formats import FormatTarget
from handlers.requests import (
    AUTO_SUBJECT,
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
)


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
    # Titan/Nova use one seed for all images of a call.
    line = f"{model_label} · {_seeds(list(dict.fromkeys(seeds)))} · {width}×{height} · {seconds:.1f}s"
    made = made_ratio or _ratio_of(width, height)
    # Both sides go through _ratio_of: it reads 16:9 as 7:4 (within 2 %), so only like compares with like.
    if asked_ratio and _ratio_of(*_parts(asked_ratio)) != _ratio_of(*_parts(made)):
        line += f"\n:information_source: {model_label} has no {asked_ratio}; the nearest it offers is {made}."
    if blocked:
        line += f"\n:warning: {blocked} of {count} images were withheld by the content filter."
    return line


def imagine_extras(enhanced: str, in_style: bool, with_logo: bool) -> str:
    """Lines after the summary: the prompt the model was given when Studio enhanced it, and the brand kit used."""
    lines = []
    if enhanced:
        lines.append(f":sparkles: Enhanced prompt: _{escape(enhanced)}_")
    if in_style:
        lines.append(":art: In this channel's brand style (add `brand=off` to opt out).")
    if with_logo:
        lines.append(":art: With the channel's brand logo (`logo=off` leaves it out).")
    return "".join("\n" + line for line in lines)


def enhancing() -> str:
    """The progress line while the text model writes a richer prompt."""
    return ":sparkles: Writing a richer prompt…"


def _seeds(seeds: list[int]) -> str:
    """``seed 7`` or ``seeds 7, 8``: what repeats a result."""
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(str(seed) for seed in seeds)


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
    return f"kept: {quote(kept)}{found} · {model_label} · {_seeds(shown)} · mode {mode} · {seconds:.1f}s"


def edit_started(user_id: str, command: str, request: object) -> str:
    """The progress message for /edit, /extend, /remove-bg and Variations."""
    heading = f"<@{user_id}> asked for {COMMANDS[command].verb}"
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
        parts.append(_seeds(list(dict.fromkeys(seeds))))
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
    return (f"{COMMANDS[command].verb.capitalize()} of the photo" + (f": {prompt}" if prompt else ""))[:1000]


def batch_started(user_id: str, request: ReplaceBackgroundRequest, count: int) -> str:
    """The progress message of a batch."""
    keep = "each photo's subject" if request.keep == AUTO_SUBJECT else f"*{quote(request.keep)}*"
    return f"<@{user_id}> asked to put {keep} on a new background in {count} photos:\n> {quote(request.prompt)}"


def batch_progress(done: int, failed: int, total: int) -> str:
    """How far a batch of posted photos is ("7/12 done, 1 failed · working…")."""
    return progress_text(done, total, failed) + (" · report below" if done == total else " · working…")


def progress_text(done: int, total: int, failed: int = 0, seconds_left: float | None = None) -> str:
    """E.g. ``312/1,000 done, 3 failed, ~6 min left`` (parts left out when they say nothing)."""
    parts = [f"{done:,}/{total:,} done"]
    if failed:
        parts.append(f"{failed:,} failed")
    if done < total and seconds_left is not None:
        parts.append(f"{_time_left(seconds_left)} left")
    return ", ".join(parts)


def _time_left(seconds: float) -> str:
    """An estimate, marked as one: ``~6 min``; ``under a minute`` is already a bound, not an estimate."""
    if seconds <= 30:
        return "under a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"~{minutes} min"
    return f"~{math.floor(minutes / 60)} h {minutes % 60} min"


def batch_done(user_id: str, rows: list[dict[str, object]], request: ReplaceBackgroundRequest) -> str:
    """The comment on the batch report file."""
    failed = [row for row in rows if row["outcome"] != "done"]
    line = f"<@{user_id}> {len(rows) - len(failed)} of {len(rows)} photos are on the new background"
    line += f" (seed {request.seed}, mode {'precise' if request.precise else 'default'})."
    if failed:
        line += f" {len(failed)} failed: " + "; ".join(escape(f"{row['photo']}: {row['reason']}") for row in failed[:5])
    return line + " The report lists every photo."


def sheet_outcome(row: dict[str, object], command: str = "replace-bg") -> str:
    """One photo's line on a batch's contact sheet: what was kept (or the command's subject), or why it failed."""
    if row["outcome"] == "done":
        kept = "kept: " if command in ("replace-bg", "remove-bg") else ""  # others' subject is e.g. an alt text
        return f"done · {kept}{row['subject']}" if row.get("subject") else "done"
    return f"{row['outcome']}: {row['reason']}" if row.get("reason") else str(row["outcome"])


def contact_sheet_alt(rows: list[dict[str, object]], total: int | None = None) -> str:
    """Alt text for a batch's contact sheet of ``rows`` (the first of ``total`` photos, when there were more)."""
    done = sum(1 for row in rows if row["outcome"] == "done")
    shown = f"the first {len(rows):,} of {total:,} photos" if total and total > len(rows) else f"{len(rows):,} photos"
    return f"Contact sheet: {shown} before and after, {done:,} done, {len(rows) - done:,} failed"


# Why a file in a ZIP or S3 folder was not processed, as the batch report says it.
_SKIPPED = {
    "directory": "a folder",
    "macos_junk": "macOS metadata, not a photo",
    "unsafe_name": "unsafe name (it points outside the ZIP, or is absolute)",
    "symlink": "a symbolic link",
    "encrypted": "password-protected",
    "nested_archive": "an archive inside the batch; unzip it first",
    "not_an_image": "not a photo Studio can read (JPEG, PNG, WebP or GIF)",
    "zip_bomb": "compressed far more than a photo can be (a ZIP bomb?)",
    "too_large": "too large for one photo",
    "damaged": "damaged or incomplete",
    "over_photo_limit": "over the batch's photo limit",
    "over_size_limit": "over the batch's size limit",
}


def skipped_reason(code: str) -> str:
    """The report's words for a skipped file's reason code (``bot.catalogue.archive.Skipped``)."""
    return _SKIPPED.get(code, code.replace("_", " "))


def zip_sheet_shows_first(shown: int, total: int) -> str:
    """Said with a ZIP batch's files when its contact sheet could not show every photo."""
    return f"The contact sheet shows the first {shown:,} of the {total:,} photos, in the report's order."


def formats_started(user_id: str, photo_name: str, targets: tuple[FormatTarget, ...]) -> str:
    """The progress message for /formats."""
    noun = "1 format" if len(targets) == 1 else f"{len(targets)} formats"
    return f"<@{user_id}> asked for {noun} of `{escape(photo_name)}`: " + ", ".join(t.name for t in targets)


def formats_summary(made: list[tuple[FormatTarget, bool, str]], model_label: str, seed: int | None,
                    seconds: float) -> str:
    """Each format with its exact size (``made``: target, outpainted, the filter's reason if it was refused)."""
    lines = []
    for target, outpainted, blocked in made:
        size = f"{target.width}×{target.height}"
        if blocked:
            lines.append(f":warning: *{target.name}* {size}: withheld by the content filter")
        else:
            lines.append(f"• *{target.name}* {size}" + (" (canvas extended)" if outpainted else " (cropped)"))
    footer = f"/formats · {model_label}" + (f" · seed {seed}" if seed is not None else "") + f" · {seconds:.1f}s"
    return "\n".join(lines) + "\n" + footer


def format_alt_text(photo_name: str, target: FormatTarget) -> str:
    """Alt text for one format of a photo."""
    return f"{photo_name} as {target.name}, {target.width}×{target.height} pixels"[:1000]


def replaced_alt_text(subject: str, background: str) -> str:
    """Alt text for a photo with a replaced background."""
    return f"{subject} on a new background: {background}"[:1000]


def alt_text(prompt: str, index: int, count: int) -> str:
    """Alt text for a generated image (Slack caps it at 1000 characters)."""
    prefix = f"Generated image {index} of {count}: " if count > 1 else "Generated image: "
    return (prefix + prompt)[:1000]


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


def zip_replace_started(user_id: str, request: ReplaceBackgroundRequest, zip_name: str, count: int) -> str:
    """The progress message of a ZIP batch of /replace-bg."""
    keep = "each photo's subject" if request.keep == AUTO_SUBJECT else f"*{quote(request.keep)}*"
    return (f"<@{user_id}> asked to put {keep} on a new background in {_the_photos(count, zip_name)}:\n"
            f"> {quote(request.prompt)}")


def zip_edit_started(user_id: str, command: str, request: object, zip_name: str, count: int) -> str:
    """The progress message of a ZIP batch of a photo edit (/remove-bg, /upscale)."""
    what = COMMANDS[command].verb + (f" ({request.mode})" if isinstance(request, UpscaleRequest) else "")
    prompt = getattr(request, "prompt", "")
    return (f"<@{user_id}> asked for {what} of {_each(count)}{_the_photos(count, zip_name)}"
            + (f":\n> {quote(prompt)}" if prompt else ""))


def zip_formats_started(user_id: str, targets: tuple[FormatTarget, ...], zip_name: str, count: int) -> str:
    """The progress message of a ZIP batch of /formats."""
    noun = "1 format" if len(targets) == 1 else f"{len(targets)} formats"
    return (f"<@{user_id}> asked for {noun} of {_each(count)}{_the_photos(count, zip_name)}: "
            + ", ".join(target.name for target in targets))


def zip_alt_started(user_id: str, zip_name: str, count: int) -> str:
    """The progress message of a ZIP batch of /describe alt."""
    return f"<@{user_id}> asked for {PRESET_NAMES['alt']} for {_each(count)}{_the_photos(count, zip_name)}"


def _each(count: int) -> str:
    return "" if count == 1 else "each of "


def _the_photos(count: int, zip_name: str) -> str:
    """``the 12 photos of `spring.zip``` (``the 1 photo …``)."""
    return f"the {count:,} {'photo' if count == 1 else 'photos'} of `{escape(zip_name)}`"


def zip_alt_texts_in_report() -> str:
    """Where /describe alt's results are: the report itself (it makes no images)."""
    return ("Each photo's alt text is in the report's `alt text` column; no images were made, "
            "so none of today's images were used.")


def zip_queued() -> str:
    """A ZIP batch waiting for the same person's running batch."""
    return ":hourglass: Queued: this batch starts when your batch in progress finishes."


def batch_stopped(status: str) -> str:
    """A catalogue batch's execution ended before its report (``status``: FAILED, ABORTED, TIMED_OUT)."""
    why = {"ABORTED": "was stopped", "TIMED_OUT": "ran out of time"}.get(status, "failed")
    return (f":warning: This batch {why} before it finished, so no results were posted. "
            "Run the command again; an admin can see why in the state machine's executions.")


def zip_reading(zip_name: str) -> str:
    """While a ZIP is copied and its photos staged (AWS)."""
    return f"Reading `{escape(zip_name)}`…"


def zip_done(user_id: str, done: int, failed: int, skipped: int, results: str) -> str:
    """The comment on a ZIP batch's files; ``results`` says where the results are."""
    line = f"<@{user_id}> {done:,} of {done + failed:,} photos are done"
    if failed:
        line += f", {failed:,} failed"
    if skipped:
        line += f"; {skipped:,} files in the ZIP were skipped (not photos, or unsafe)"
    return f"{line}. {results} The report lists every photo and file."


def zip_results_attached(zip_name: str) -> str:
    return f"The results are in `{escape(zip_name)}`."


def zip_results_link(url: str, days: int) -> str:
    """The results ZIP was too big for Slack: a download link instead."""
    return f"The results ZIP is too big for Slack; <{url}|download it here> (the link works for up to {days} days)."


def zip_results_too_big() -> str:
    return "The results ZIP is too big for Slack; ask an admin for it."


def zip_nothing_made() -> str:
    return "No photo could be processed."
