"""Which model does which task: the model ids, the two stacks and the per-role overrides.

This is the one place that names Bedrock model ids. A *role* is a job Studio
gives a model (generate, replace a background, upscale...); a *stack* fills
every role with models of one family. Stability AI is the default: Titan Image
Generator v2 reached end of life on Bedrock on 2026-06-30 and Nova Canvas on
2026-09-30, so the Amazon stack is for accounts that still have them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from handlers.errors import ModelFailed
from handlers.models import Task, base_model_id, image_model_spec


class Role(Enum):
    """A job Studio gives a model; each has its own setting."""

    GENERATE = "generate"
    GENERATE_PREMIUM = "generate_premium"
    VARIATIONS = "variations"
    EDIT = "edit"
    EDIT_MASK = "edit_mask"
    REPLACE_BG = "replace_bg"
    EXTEND = "extend"
    REMOVE_BG = "remove_bg"
    UPSCALE = "upscale"
    UPSCALE_CONSERVATIVE = "upscale_conservative"
    UPSCALE_CREATIVE = "upscale_creative"
    STYLE = "style"
    VISION = "vision"


# Stability AI. The generators are invoked on demand by their base id (us-west-2);
# the Image Services list only INFERENCE_PROFILE, so they go through ``us.`` profiles.
STABLE_IMAGE_CORE = "stability.stable-image-core-v1:1"
STABLE_IMAGE_ULTRA = "stability.stable-image-ultra-v1:1"
SD35_LARGE = "stability.sd3-5-large-v1:0"
STABILITY_SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
STABILITY_INPAINT = "us.stability.stable-image-inpaint-v1:0"
STABILITY_OUTPAINT = "us.stability.stable-outpaint-v1:0"
STABILITY_REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"
STABILITY_FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"
STABILITY_CONSERVATIVE_UPSCALE = "us.stability.stable-conservative-upscale-v1:0"
STABILITY_CREATIVE_UPSCALE = "us.stability.stable-creative-upscale-v1:0"
# The brand style of /imagine in a channel whose kit has a style image (Role.STYLE).
STABILITY_STYLE_GUIDE = "us.stability.stable-image-style-guide-v1:0"
# Amazon (legacy).
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"
# Claude reads images; newer Claude models are reached only through inference profiles.
CLAUDE_HAIKU_45 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"

# /upscale mode= -> the role whose model does it.
UPSCALE_ROLES = {"fast": Role.UPSCALE, "conservative": Role.UPSCALE_CONSERVATIVE, "creative": Role.UPSCALE_CREATIVE}

STABILITY, AMAZON = "stability", "amazon"
DEFAULT_STACK = STABILITY


@dataclass(frozen=True)
class RoleInfo:
    """What a role asks of its model and where it is configured."""

    task: Task | None  # None: the vision role (any Claude through Converse)
    setting: str
    # Broader settings that also fill this role when the model they name can do it,
    # so a .env written for one multi-task model (Titan v2) keeps working.
    fallbacks: tuple[str, ...] = ()
    description: str = ""


_EDIT_FALLBACKS = ("STUDIO_EDIT_MODEL", "STUDIO_IMAGE_MODEL")

ROLES: dict[Role, RoleInfo] = {
    Role.GENERATE: RoleInfo(Task.TEXT_IMAGE, "STUDIO_IMAGE_MODEL", (), "/imagine"),
    Role.GENERATE_PREMIUM: RoleInfo(Task.TEXT_IMAGE, "STUDIO_PREMIUM_MODEL", ("STUDIO_IMAGE_MODEL",),
                                    "/imagine quality=premium"),
    Role.VARIATIONS: RoleInfo(Task.IMAGE_VARIATION, "STUDIO_VARIATIONS_MODEL", _EDIT_FALLBACKS, "Variations button"),
    Role.EDIT: RoleInfo(Task.SEARCH_REPLACE, "STUDIO_EDIT_MODEL", ("STUDIO_IMAGE_MODEL",), "/edit mask=<words>"),
    Role.EDIT_MASK: RoleInfo(Task.INPAINTING, "STUDIO_EDIT_MASK_MODEL", _EDIT_FALLBACKS, "/edit with a mask image"),
    Role.REPLACE_BG: RoleInfo(Task.BACKGROUND_REPLACEMENT, "STUDIO_REPLACE_BG_MODEL", _EDIT_FALLBACKS,
                              "/replace-bg (paints the new background)"),
    Role.EXTEND: RoleInfo(Task.OUTPAINTING, "STUDIO_EXTEND_MODEL", _EDIT_FALLBACKS, "/extend"),
    Role.REMOVE_BG: RoleInfo(Task.BACKGROUND_REMOVAL, "STUDIO_REMOVE_BG_MODEL", _EDIT_FALLBACKS,
                             "/remove-bg, and the cut-out of /replace-bg"),
    Role.UPSCALE: RoleInfo(Task.UPSCALE_FAST, "STUDIO_UPSCALE_MODEL", (), "/upscale"),
    Role.UPSCALE_CONSERVATIVE: RoleInfo(Task.UPSCALE_CONSERVATIVE, "STUDIO_UPSCALE_CONSERVATIVE_MODEL", (),
                                        "/upscale mode=conservative"),
    Role.UPSCALE_CREATIVE: RoleInfo(Task.UPSCALE_CREATIVE, "STUDIO_UPSCALE_CREATIVE_MODEL", (),
                                    "/upscale mode=creative"),
    Role.STYLE: RoleInfo(Task.STYLE_GUIDE, "STUDIO_STYLE_MODEL", (), "/imagine in a channel with a /brand style"),
    Role.VISION: RoleInfo(None, "STUDIO_VISION_MODEL", (), "/describe, keep=auto and the keep= check"),
}

_STABILITY_STACK: dict[Role, str | None] = {
    Role.GENERATE: STABLE_IMAGE_CORE,
    Role.GENERATE_PREMIUM: STABLE_IMAGE_ULTRA,
    Role.VARIATIONS: STABLE_IMAGE_ULTRA,
    Role.EDIT: STABILITY_SEARCH_REPLACE,
    Role.EDIT_MASK: STABILITY_INPAINT,
    Role.REPLACE_BG: STABILITY_INPAINT,
    Role.EXTEND: STABILITY_OUTPAINT,
    Role.REMOVE_BG: STABILITY_REMOVE_BG,
    Role.UPSCALE: STABILITY_FAST_UPSCALE,
    Role.UPSCALE_CONSERVATIVE: STABILITY_CONSERVATIVE_UPSCALE,
    Role.UPSCALE_CREATIVE: STABILITY_CREATIVE_UPSCALE,
    Role.STYLE: STABILITY_STYLE_GUIDE,
    Role.VISION: CLAUDE_HAIKU_45,
}
STACKS: dict[str, dict[Role, str | None]] = {
    STABILITY: _STABILITY_STACK,
    # Titan v2 does every edit task; it has no upscaler and no style guide.
    AMAZON: {
        **{role: TITAN_V2 for role in Role},
        Role.UPSCALE: None, Role.UPSCALE_CONSERVATIVE: None, Role.UPSCALE_CREATIVE: None, Role.STYLE: None,
        Role.VISION: CLAUDE_HAIKU_45,
    },
}


class UnknownStack(ValueError):
    """``STUDIO_MODELS`` names no stack."""

    def __init__(self, name: str) -> None:
        super().__init__(f"STUDIO_MODELS={name!r} is not one of: {', '.join(STACKS)}")
        self.name = name


def can_do(model_id: str, role: Role) -> bool:
    """True when ``model_id`` can fill ``role`` (any Claude fills the vision role)."""
    task = ROLES[role].task
    if task is None:
        return "anthropic." in base_model_id(model_id)
    try:
        return task in image_model_spec(model_id).tasks
    except ModelFailed:  # not an image model Studio knows
        return False


def resolve_models(stack: str, overrides: Mapping[str, str]) -> dict[Role, str | None]:
    """The model for every role: its own setting, else a broader one that can do it, else the stack's.

    ``overrides`` maps setting names (``STUDIO_IMAGE_MODEL``...) to model ids;
    empty values mean "not set". A role's own setting is taken as given, so
    a model that cannot do the task is reported when it is used, not ignored.
    """
    if stack not in STACKS:
        raise UnknownStack(stack)
    models: dict[Role, str | None] = {}
    for role, info in ROLES.items():
        own = overrides.get(info.setting, "")
        broader = [overrides.get(name, "") for name in info.fallbacks]
        models[role] = own or next((model for model in broader if model and can_do(model, role)),
                                   STACKS[stack][role])
    return models


def models_for(task: Task) -> tuple[str, ...]:
    """Model ids of the stacks that can do ``task``, Stability first, for "configure one of these" messages."""
    found: list[str] = []
    for stack in STACKS.values():
        for role, model in stack.items():
            if model and role is not Role.VISION and model not in found and task in image_model_spec(model).tasks:
                found.append(model)
    return tuple(found)
