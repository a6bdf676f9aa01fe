"""Typed errors raised by handlers; ``bot.messages`` turns them into words."""

from __future__ import annotations


class KnownError(Exception):
    """Any failure Studio can put into words for a person; the base of ``ModelError`` and ``bot.errors``.

    It lives here because handlers must not import ``bot``; one ``except KnownError``
    catches both sides, and anything else is a crash.
    """


class ModelError(KnownError):
    """Base class for anything that went wrong on the model side."""


class ModelBlocked(ModelError):
    """The content filter refused the prompt or every output image.

    Retrying the same request is pointless; the person has to rephrase.
    """


class ModelBusy(ModelError):
    """Throttled or the model is not ready; worth retrying after a pause."""


class ModelAccessDenied(ModelError):
    """IAM denies the call; ``marketplace`` when the missing actions are AWS Marketplace's."""

    def __init__(self, model_id: str, region: str, marketplace: bool = False) -> None:
        super().__init__(f"no access to {model_id} in {region}")
        self.model_id = model_id
        self.region = region
        self.marketplace = marketplace


class ModelBeingEnabled(ModelError):
    """First use of a model: Bedrock grants access through AWS Marketplace, which takes minutes."""

    def __init__(self, model_id: str, region: str) -> None:
        super().__init__(f"access to {model_id} in {region} is being enabled")
        self.model_id = model_id
        self.region = region


class ModelUnavailable(ModelError):
    """The configured model cannot be used at all; retrying is pointless, an admin must act.

    ``reason``: ``end_of_life`` (retired), ``legacy_unused`` (Legacy, not used lately),
    ``invalid_id`` (no such model), ``account_blocked`` ("Operation not allowed": a
    block on the whole account) or ``not_found``.
    """

    def __init__(self, model_id: str, region: str, reason: str) -> None:
        super().__init__(f"{model_id} in {region}: {reason}")
        self.model_id = model_id
        self.region = region
        self.reason = reason


class ModelNeedsProfile(ModelError):
    """The model is offered only through an inference profile; ``profile`` is the id to configure."""

    def __init__(self, model_id: str, profile: str) -> None:
        super().__init__(f"{model_id} needs the inference profile {profile}")
        self.model_id = model_id
        self.profile = profile


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


class UnknownFormat(ModelError):
    """A format name (``/formats story,sqare``) that is not in the configured set; ``known`` lists the set."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown format {name!r}; known: {', '.join(known)}")
        self.name = name
        self.known = known


class PhotoTooSmall(ModelError):
    """The photo is too small to make ``targets`` (``name WxH`` each) without visible blur.

    ``min_width`` x ``min_height`` is the smallest photo of the same shape that would do.
    """

    def __init__(self, width: int, height: int, targets: tuple[str, ...], min_width: int, min_height: int) -> None:
        super().__init__(f"photo {width}x{height} too small for {', '.join(targets)}; "
                         f"needs at least {min_width}x{min_height}")
        self.width = width
        self.height = height
        self.targets = targets
        self.min_width = min_width
        self.min_height = min_height


class InvalidLogo(ModelError):
    """A brand logo that cannot be used. ``reason``: ``not_image`` (``detail`` says why) or ``too_small``."""

    def __init__(self, reason: str, width: int = 0, height: int = 0, min_edge: int = 0, detail: str = "") -> None:
        super().__init__(f"logo {reason} {width}x{height} {detail}".strip())
        self.reason = reason
        self.width = width
        self.height = height
        self.min_edge = min_edge
        self.detail = detail


class StyleImageTooSmall(ModelError):
    """A style reference smaller than the Style Guide model accepts (every side at least ``min_side``)."""

    def __init__(self, width: int, height: int, min_side: int) -> None:
        super().__init__(f"style image {width}x{height} is smaller than {min_side} px a side")
        self.width = width
        self.height = height
        self.min_side = min_side
