"""The error registry: for each error type, what the person reads and why the job failed (a metric).

``error_message`` and ``failure_reason`` look an error up by its class, most
specific first (its MRO), so a subclass inherits its parent's words until it
has its own. Listeners, the worker and the CLI all go through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.catalogue.plan import BatchTooBig
from bot.catalogue.source import (
    READABLE_BUCKETS_PARAMETER,
    FolderUnreadable,
    NotABatchCommand,
    PrefixNotAllowed,
    PrefixTooLarge,
    S3NeedsAws,
)
from bot.errors import (
    AlreadyReported,
    ArchiveRefused,
    BatchTooLarge,
    BedrockTimedOut,
    BotNotInChannel,
    BrandRefused,
    HelpRequested,
    NoImageFound,
    NoModelForRole,
    NotAllowed,
    OutOfDate,
    PhotoFetchFailed,
    PhotoInterrupted,
    QueueUnavailable,
    QuotaExceeded,
    SlackRejected,
    SlackUnavailable,
    SubjectMismatch,
    UsageError,
)
from bot.messages.admin import model_unavailable
from bot.messages.markup import escape, quote, until
from bot.messages.usage import usage, usage_error
from bot.quota import resets_at
from bot.settings import Settings
from handlers.errors import (
    InvalidImage,
    InvalidLogo,
    ModelAccessDenied,
    ModelBeingEnabled,
    ModelBlocked,
    ModelBusy,
    ModelError,
    ModelFailed,
    ModelNeedsProfile,
    ModelUnavailable,
    ModelUnsupported,
    PhotoTooSmall,
    StyleImageTooSmall,
    UnknownFormat,
)
from handlers.model_table import DEFAULT_STACK, ROLES, STACKS, Role

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
    "rejected": "Bedrock rejected the request ({error_code}): {message}",
    "no_subject": "The vision model could not name the subject; try `keep=` with a word such as `keep=car`.",
    "empty_answer": "The vision model returned an empty answer. Please try again.",
    "bad_image_data": "The model returned an image Studio could not read. Please try again.",
    "no_image": "The model returned no image ({detail}).",
    "unknown_model": "The configured model {model} is not one Studio can drive. An admin should choose "
                     "Titan Image Generator, Nova Canvas or a Stability AI model (see `python -m bot doctor`).",
}
# The commands that run on every photo of a ZIP or an S3 folder, as people type them
# (tests/test_catalogue_commands.py keeps it in step with ``bot.flows.catalogue_aws.ZIP_BATCHES``).
BATCH_COMMANDS = "`/replace-bg`, `/remove-bg`, `/upscale`, `/formats` and `/describe alt`"
NO_IMAGE_REASONS = {
    "none_recent": "I could not find a photo you posted in this channel in the last 15 minutes. "
                   "Post the photo first (or reply to its thread), then run the command again.",
    "not_image": "`{name}` is not an image. Studio works with JPEG, PNG, WebP and GIF photos.",
    "none_on_message": "That message has no photo Studio can use (JPEG, PNG, WebP or GIF).",
    "none_in_thread": "There is no photo in this thread yet. Post it here, then ask again.",
    "deleted": "The photo was deleted from Slack, so Studio cannot use it any more.",
    "result_expired": "That result is too old to reuse; run the command again.",
    "result_image_gone": "That image is no longer part of the result.",
    "zip_not_supported": f"`{{name}}` is a ZIP. ZIP batches work with {BATCH_COMMANDS}; for this command post "
                         "the photo itself.",
    "none_in_zip": "`{name}` holds no photo Studio can read (JPEG, PNG, WebP or GIF).",
    "none_in_folder": "`{name}` holds no photo (JPEG, PNG, WebP or GIF files). Check the folder's name: "
                      "S3 names are case-sensitive.",
}
ARCHIVE_REFUSED = {
    "not_a_zip": "That file is not a ZIP Studio can open. Zip the photos again and post the ZIP.",
    "too_many_entries": "That ZIP holds too many files to be a batch of photos. Split it into smaller ZIPs.",
    "too_large": "That ZIP is larger than Studio takes in one batch ({limit}). Split it into smaller ZIPs.",
}

# The words for one error: a template filled from the error's fields, or a function of
# the error and (when known) the settings, for sentences that depend on more than fields.
Words = str | Callable[[Any, Settings | None], str]


@dataclass(frozen=True)
class Wording:
    """How one error type is told. ``None`` parts are inherited from the nearest base class that has them."""

    words: Words | None = None
    # A short, low-cardinality name for why a job failed (a metric dimension).
    reason: str | None = None


def _worded(table: dict[str, str], code: str, params: dict[str, object]) -> str:
    """A table's sentence with its details filled in; text details are escaped for Slack."""
    safe = {key: escape(value) if isinstance(value, str) else value for key, value in params.items()}
    return table[code].format(**safe)


def subject_mismatch(error: SubjectMismatch, settings: Settings | None = None) -> str:
    """The cut-out is not what ``keep=`` asked for, so nothing was painted."""
    expected, kept = error.expected, error.kept
    return (f":mag: You asked to keep *{quote(expected)}*, but the cut-out of this photo shows *{quote(kept)}*. "
            f"Nothing was generated. Try `keep={escape(kept.split()[-1] if kept else 'auto')}` or `keep=auto`, "
            "or crop the photo so the subject stands out.")


def _access_denied(error: ModelAccessDenied, settings: Settings | None) -> str:
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


def _unsupported(error: ModelUnsupported, settings: Settings | None) -> str:
    setting = next((info.setting for info in ROLES.values() if info.task and info.task.value == error.task),
                   ROLES[Role.EDIT].setting)
    task = error.task.replace("_", " ").lower()
    choices = " or ".join(f"`{model}`" for model in error.capable)
    return f":warning: `{error.model_id}` cannot do {task}. Ask an admin to set {setting} to {choices}."


def _no_model_for_role(error: NoModelForRole, settings: Settings | None) -> str:
    model = next(STACKS[DEFAULT_STACK][role] for role, info in ROLES.items() if info.setting == error.setting)
    return (f":warning: The {error.stack} model stack has no model for this; it needs the {DEFAULT_STACK.title()} "
            f"stack. Ask an admin to set {error.setting} to `{model}` (or `STUDIO_MODELS={DEFAULT_STACK}`).")


def _out_of_date(error: OutOfDate, settings: Settings | None) -> str:
    if error.what == "form":
        return ":hourglass: This form is out of date. Close it and use the shortcut or button again."
    return ":hourglass: This button is out of date. Run the command again for fresh buttons."


def _not_allowed(error: NotAllowed, settings: Settings | None) -> str:
    place = "in this channel" if error.where == "channel" else "for you"
    return f":lock: Studio is not enabled {place}. Ask {_whom_to_ask(error.admins)} to enable it."


def _whom_to_ask(admins: tuple[str, ...]) -> str:
    """Studio's first few admins, mentioned, or "your Slack admin" when none is set."""
    return " or ".join(f"<@{admin}>" for admin in admins[:3]) or "your Slack admin"


BRAND_REFUSED = {
    "not_member": "Only members of this channel can change its brand kit. Join the channel, then try "
                  "`/brand style` again.",
    "locked": "This channel's brand kit is locked. Ask {admins} to change it or `/brand unlock` it; "
              "`/brand` shows what it holds.",
    "admin_only": "Only Studio's admins ({admins}) can lock or unlock a brand kit. `/brand` shows this channel's.",
    "no_logo": "This channel's brand kit has no logo yet. Post a PNG logo here, then `/brand logo`.",
    "style_gone": "The brand style image of this channel was deleted from Slack. Post a new one and run "
                  "`/brand style`, or add `brand=off`: `/imagine sneaker brand=off`.",
    "logo_gone": "The brand logo of this channel was deleted from Slack. Post it again and run `/brand logo`, "
                 "or add `logo=off`: `/imagine sneaker logo=off`.",
}


def _brand_refused(error: BrandRefused, settings: Settings | None) -> str:
    return ":lock: " + BRAND_REFUSED[error.reason].format(admins=_whom_to_ask(error.admins))


def _quota_exceeded(error: QuotaExceeded, settings: Settings | None) -> str:
    whose = "your" if error.scope == "user" else "the workspace's"
    left = max(0, error.limit - error.used)
    resets = resets_at()
    return (
        f":hourglass: This needs {error.requested} image(s), but {whose} daily allowance has {left} of "
        f"{error.limit} left. It resets at {resets:%H:%M} UTC ({until(resets)}). Nothing was generated."
    )


def _timed_out(error: BedrockTimedOut, settings: Settings | None) -> str:
    return (f":hourglass: The model did not answer within {(error.seconds or 0) / 60:g} minutes, so Studio "
            "stopped waiting. It did not send it again (Bedrock bills every request it runs); "
            "please try again later.")


def _prefix_not_allowed(error: PrefixNotAllowed, settings: Settings | None) -> str:
    allowed = ", ".join(f"`{escape(name)}`" for name in error.allowed) or "none yet"
    return (f":lock: Studio may not read `{escape(error.uri)}`: it reads S3 folders only in the buckets its AWS "
            f"admin named in the stack parameter `{READABLE_BUCKETS_PARAMETER}` (now: {allowed}). Ask them to add "
            "the bucket and redeploy, or post the photos as a ZIP here.")


def _s3_needs_aws(error: S3NeedsAws, settings: Settings | None) -> str:
    return (f":cloud: S3 folders such as `{escape(error.uri)}` need Studio's AWS stack, and this Studio runs "
            "without it. Zip the photos, post the ZIP in this channel, then run the command again without the "
            "`s3://` folder: Studio takes the newest ZIP you posted.")


def _not_a_batch_command(error: NotABatchCommand, settings: Settings | None) -> str:
    return (f":warning: `/{error.command}` does not run on a whole folder; S3 folders work with {BATCH_COMMANDS}. "
            "For this command post the photo itself.")


def _slack_rejected(error: SlackRejected, settings: Settings | None) -> str:
    if error.code == "missing_scope":
        return (":lock: Studio is missing a Slack permission for this. "
                "An admin must update the app from its manifest and reinstall it.")
    return f":warning: Slack refused the result ({error.code}). Please try again, or tell an admin."


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


REGISTRY: dict[type[BaseException], Wording] = {
    # Anything not registered is a crash; the person hears no details.
    BaseException: Wording(":x: Something went wrong on Studio's side. The error is logged; please try again.",
                           "crash"),
    HelpRequested: Wording(lambda error, settings: usage(error.command), "usage"),
    UsageError: Wording(lambda error, settings: usage_error(error), "usage"),
    ModelError: Wording(reason="model_error"),
    ModelBlocked: Wording(":no_entry: The image model's content filter blocked this request. "
                          "Please rephrase the prompt and try again.", "blocked"),
    ModelUnavailable: Wording(model_unavailable, "model_unavailable"),
    ModelBeingEnabled: Wording(
        ":hourglass: Bedrock is enabling `{model_id}` for this AWS account (this happens on first use and takes "
        "a few minutes). Please try again in a few minutes; if it persists, an admin can check with "
        "`python -m bot doctor`."),
    ModelNeedsProfile: Wording(":warning: `{model_id}` is offered only through an inference profile. Ask an admin "
                               "to configure `{profile}` instead."),
    ModelAccessDenied: Wording(_access_denied, "access_denied"),
    ModelUnsupported: Wording(_unsupported, "unsupported"),
    ModelBusy: Wording(":hourglass: Bedrock is too busy right now and did not recover after several retries. "
                       "Please try again in a few minutes.", "busy"),
    ModelFailed: Wording(lambda error, settings: ":x: " + _worded(MODEL_FAILED, error.code, error.params)),
    InvalidImage: Wording(lambda error, settings: ":frame_with_picture: " + _worded(INVALID_IMAGE, error.code,
                                                                                    error.params), "bad_image"),
    SubjectMismatch: Wording(subject_mismatch),
    UnknownFormat: Wording(lambda error, settings: f":warning: There is no format called `{escape(error.name)}`. "
                           f"Choose from {', '.join(f'`{name}`' for name in error.known)}, "
                           f"e.g. `/formats story,square`.", "usage"),
    PhotoTooSmall: Wording(lambda error, settings: f":frame_with_picture: The photo is {error.width}x{error.height}, "
                           f"too small for {', '.join(error.targets)} without visible blur. Post one of at least "
                           f"{error.min_width}x{error.min_height}, or pick smaller formats "
                           f"(`/formats square`).", "bad_image"),
    InvalidLogo: Wording(lambda error, settings: (
        f":frame_with_picture: That logo is {error.width}x{error.height}; a logo needs at least {error.min_edge} px "
        "on its longer side. Post a larger PNG and try `/brand logo` again." if error.reason == "too_small" else
        ":frame_with_picture: That logo is not an image Studio can read. Post a PNG (transparency is kept) and "
        "try `/brand logo` again."), "bad_image"),
    StyleImageTooSmall: Wording(":frame_with_picture: The style image is {width}x{height}; the Style Guide model "
                                "needs at least {min_side} px a side. Post a larger image and try `/brand style` "
                                "again.", "bad_image"),
    NoModelForRole: Wording(_no_model_for_role),
    BrandRefused: Wording(_brand_refused, "brand"),
    NoImageFound: Wording(lambda error, settings: ":frame_with_picture: " + NO_IMAGE_REASONS[error.reason].format(
        name=escape(error.name)), "no_image"),
    OutOfDate: Wording(_out_of_date),
    BotNotInChannel: Wording(":wave: Studio is not in this channel yet. Add it with `/invite @Studio`, "
                             "then try again.", "not_in_channel"),
    NotAllowed: Wording(_not_allowed),
    QuotaExceeded: Wording(_quota_exceeded),
    BatchTooLarge: Wording(":warning: That is {count} photos; Studio replaces backgrounds on up to {limit} at "
                           "once. Split them over several threads."),
    BatchTooBig: Wording(lambda error, settings: (
        f":warning: That {'folder' if error.source == 'folder' else 'ZIP'} holds {error.photos:,} photos, which "
        f"makes {error.needed:,} images; "
        f"{'you have' if error.scope == 'user' else 'this workspace has'} {error.left:,} left today. "
        f"Nothing was started: split the {'folder' if error.source == 'folder' else 'ZIP'}, or try again "
        "tomorrow."), "quota"),
    PrefixNotAllowed: Wording(_prefix_not_allowed, "s3_folder"),
    S3NeedsAws: Wording(_s3_needs_aws, "s3_folder"),
    NotABatchCommand: Wording(_not_a_batch_command, "usage"),
    PrefixTooLarge: Wording(":warning: `{uri}` holds more than {limit:,} photos (or files), more than Studio takes "
                            "in one batch. Nothing was started: split the photos into smaller folders.", "s3_folder"),
    FolderUnreadable: Wording(":lock: S3 did not let Studio list `{uri}` ({code}). Check the bucket's name; if it "
                              "is right, an AWS admin must let Studio's role list and read it.", "s3_folder"),
    ArchiveRefused: Wording(lambda error, settings: ":file_folder: " + ARCHIVE_REFUSED.get(
        error.reason, ARCHIVE_REFUSED["not_a_zip"]).format(
        limit=f"{settings.catalogue_max_bytes // 1_048_576:,} MB" if settings else "the limit"), "bad_image"),
    BedrockTimedOut: Wording(_timed_out, "model_timeout"),
    PhotoInterrupted: Wording(":warning: Studio was stopped or restarted before this photo was finished, so it "
                              "was skipped. Run it again on its own."),
    QueueUnavailable: Wording(":x: Studio could not accept the request right now. Please try again in a minute."),
    SlackRejected: Wording(_slack_rejected, "slack"),
    SlackUnavailable: Wording(lambda error, settings: _slack_trouble(error) + " Please try again in a few minutes.",
                              "slack"),
}


def _lookup(error: BaseException, part: str) -> Any:
    """The nearest registered ``part`` (words or reason) for ``error``'s class."""
    for kind in type(error).__mro__:
        found = getattr(REGISTRY.get(kind), part, None)
        if found is not None:
            return found
    raise AssertionError("BaseException is registered")  # pragma: no cover


def error_message(error: BaseException, settings: Settings | None = None) -> str:
    """The sentence a person sees for any error; never includes secrets.

    With ``settings``, a model that cannot be used is explained with the setting to change.
    """
    words: Words = _lookup(error, "words")
    if isinstance(words, str):
        return words.format(**getattr(error, "__dict__", {}))
    return words(error, settings)


def failure_reason(error: BaseException) -> str:
    """A short, low-cardinality name for why a job failed (a metric dimension)."""
    if isinstance(error, AlreadyReported):
        error = error.cause
    reason: str = _lookup(error, "reason")
    return reason


def plain_reason(error: BaseException) -> str:
    """A failure reason without Slack markup, for a report file."""
    return re.sub(r":[a-z_]+: ", "", error_message(error)).replace("`", "").split("\n")[0]


def modal_failed() -> str:
    """The shortcut's form could not be opened."""
    return ":warning: Slack did not open the form in time. Please use the shortcut again."


def undelivered(error: BaseException, will_retry: bool) -> str:
    """Told when Slack kept failing before anything was posted; ``will_retry`` when the queue runs it again."""
    if will_retry:
        return _slack_trouble(error) + " Studio will try again by itself in a few minutes."
    return _slack_trouble(error) + " Please send it again in a few minutes."
