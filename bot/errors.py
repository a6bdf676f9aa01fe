"""Typed errors raised on the Slack side; ``bot.messages`` turns them into words."""

from __future__ import annotations


class StudioError(Exception):
    """Base class for errors a person is told about."""


class UsageError(StudioError):
    """The command text is wrong; nothing was sent to Bedrock."""

    def __init__(self, command: str, problem: str) -> None:
        super().__init__(problem)
        self.command = command
        self.problem = problem


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
