"""Typed errors raised on the Slack side; ``bot.messages.error_message`` turns them into words."""

from __future__ import annotations

# Re-exported: the one name that catches every error a person is told about, from either side.
from handlers.errors import KnownError as KnownError


class StudioError(KnownError):
    """Base class for Slack-side errors a person is told about."""


class UsageError(StudioError):
    """The command text is wrong; nothing was sent to Bedrock.

    ``problem`` is a key of ``bot.messages.usage.PROBLEMS`` and ``params`` fill its sentence.
    """

    def __init__(self, command: str, problem: str, **params: object) -> None:
        super().__init__(f"{problem} {params}" if params else problem)
        self.command = command
        self.problem = problem
        self.params = params


class OutOfDate(StudioError):
    """A button or form whose data Studio did not write (an old message, a garbled request)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what  # "button" or "form"


class HelpRequested(StudioError):
    """The person typed ``help``; answer with the command's usage."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


class NoImageFound(StudioError):
    """No usable image where the command looked for one; ``reason`` says why (see bot.messages)."""

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(f"{reason} {name}".strip())
        self.reason = reason  # none_recent, not_image, none_on_message, none_in_thread, deleted, ...
        self.name = name


class BotNotInChannel(StudioError):
    """Slack refused because the bot is not a member of the channel."""


class SlackUnavailable(StudioError):
    """Slack kept failing after retries (rate limits, server errors, network): worth retrying later."""


class PhotoFetchFailed(SlackUnavailable):
    """Slack kept failing while Studio looked up (``name`` empty) or downloaded the person's photo."""

    def __init__(self, name: str = "", status: int | None = None) -> None:
        super().__init__(f"photo {'download' if name else 'lookup'} failed" + (f": HTTP {status}" if status else ""))
        self.name = name
        self.status = status  # the HTTP status Slack answered, or None when the connection failed


class SlackRejected(StudioError):
    """Slack refused a call for good (e.g. a missing scope); retrying would not help."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AlreadyReported(StudioError):
    """A failure the flow has already shown in the channel; the worker only logs it."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class QueueUnavailable(StudioError):
    """The job queue refused the job (pool shutting down, SQS unreachable)."""


class BatchTooLarge(StudioError):
    """More photos than one batch may hold."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} photos > {limit}")
        self.count = count
        self.limit = limit


class PhotoInterrupted(StudioError):
    """A batch photo whose first attempt stopped part-way; it is not processed twice."""


class NoModelForRole(StudioError):
    """The model stack has no model for what was asked (the Amazon stack has no upscaler)."""

    def __init__(self, setting: str, stack: str) -> None:
        super().__init__(f"{stack} stack has no model for {setting}")
        self.setting = setting
        self.stack = stack


class SubjectMismatch(StudioError):
    """The cut-out does not show what ``keep=`` named, so the background was not replaced."""

    def __init__(self, expected: str, kept: str) -> None:
        super().__init__(f"asked to keep {expected!r}, the cut-out shows {kept!r}")
        self.expected = expected
        self.kept = kept


class BedrockTimedOut(StudioError):
    """Bedrock did not answer within the read timeout; not sent again, since Bedrock bills what it ran."""

    def __init__(self, seconds: float | None) -> None:
        super().__init__(f"no answer from Bedrock within {seconds} s")
        self.seconds = seconds


class NotAllowed(StudioError):
    """The person or channel is outside the configured access rules."""

    def __init__(self, where: str, admins: tuple[str, ...]) -> None:
        super().__init__(where)
        self.where = where  # "channel" or "user"
        self.admins = admins


class QuotaExceeded(StudioError):
    """The request would pass a daily limit; nothing was sent to Bedrock."""

    def __init__(self, scope: str, used: int, limit: int, requested: int) -> None:
        super().__init__(f"{scope} quota: {used}+{requested} > {limit}")
        self.scope = scope  # "user" or "team"
        self.used = used
        self.limit = limit
        self.requested = requested


class ArchiveRefused(StudioError):
    """The file cannot be read as a batch at all; ``reason``: not_a_zip, too_many_entries, too_large."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} {detail}".strip())
        self.reason = reason
        self.detail = detail
