"""Typed errors raised by handlers; ``bot.messages`` turns them into words."""

from __future__ import annotations


class ModelError(Exception):
    """Base class for anything that went wrong on the model side."""


class ModelBlocked(ModelError):
    """The content filter refused the prompt or every output image.

    Retrying the same request is pointless; the person has to rephrase.
    """


class ModelBusy(ModelError):
    """Throttled or the model is not ready; worth retrying after a pause."""


class ModelAccessDenied(ModelError):
    """The AWS account has not enabled this model in this region (or IAM denies it)."""

    def __init__(self, model_id: str, region: str) -> None:
        super().__init__(f"no access to {model_id} in {region}")
        self.model_id = model_id
        self.region = region


class ModelUnsupported(ModelError):
    """The configured model cannot do the requested task (e.g. Titan v1 background removal)."""

    def __init__(self, model_id: str, task: str, capable: tuple[str, ...]) -> None:
        super().__init__(f"{model_id} does not support {task}")
        self.model_id = model_id
        self.task = task  # e.g. "BACKGROUND_REMOVAL"
        self.capable = capable  # model ids that can do it


class ModelFailed(ModelError):
    """Any other model-side failure; ``code`` and ``params`` are worded by bot.messages."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params


class InvalidImage(ModelError):
    """Image bytes that cannot be used (empty, PDF, HEIC, corrupt, too big, ...); worded by bot.messages."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params
