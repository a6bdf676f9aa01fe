"""The command table: name -> request type, parser and flow.

Adding a command touches its handler module, one row here, its tests and the
Slack manifest. Flows are named as ``"module:function"`` and imported on first
use, so the Slack ingress can parse commands without loading Pillow or the
Bedrock handlers (it must cold-start fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.commands.parsers import (
    describe_fields,
    extend_fields,
    parse_describe,
    parse_edit,
    parse_extend,
    parse_imagine,
    parse_remove_background,
    parse_replace_background,
    parse_upscale,
    replace_background_fields,
)
from bot.errors import NoModelForRole, UsageError
from bot.jobs import Job
from bot.messages import problem
from bot.settings import Settings
from handlers.model_table import ROLES, UPSCALE_ROLES, Role
from handlers.models import ImageModelSpec, image_model_spec
from handlers.requests import (
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    ImagineRequest,
    RemoveBackgroundRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
    VariationsRequest,
)

if TYPE_CHECKING:
    from bot.context import WorkerContext


def model_for(settings: Settings, role: Role) -> str:
    """The model id for ``role``; ``NoModelForRole`` when the stack has none (Amazon has no upscaler)."""
    model = settings.model(role)
    if model is None:
        raise NoModelForRole(ROLES[role].setting, settings.model_stack)
    return model


def spec_for(settings: Settings, role: Role) -> ImageModelSpec:
    """The limits of the image model that fills ``role``."""
    return image_model_spec(model_for(settings, role))


@dataclass(frozen=True)
class Command:
    """One Studio command."""

    name: str
    request_type: type
    parse: Callable[[str, Settings], Any]
    # "module:function" of the flow that runs the job in a worker.
    flow: str
    # The role whose model's limits the parser checks against (flows may pick a sibling role).
    model_role: Role
    # Photo commands work on an image someone posted; /imagine does not.
    uses_photo: bool = True
    # Internal commands (Variations) are reached only through result buttons.
    slash: bool = True
    # The request from a form's fields (for commands a modal asks about); fields are values, not command text.
    parse_fields: Callable[[Mapping[str, str], Settings], Any] | None = None

    def image_spec(self, settings: Settings) -> ImageModelSpec | None:
        """The limits of the image model this command uses (None for vision-only commands)."""
        if self.model_role is Role.VISION:
            return None
        return spec_for(settings, self.model_role)

    def run(self, job: Job, ctx: WorkerContext) -> None:
        """Run ``job`` with this command's flow."""
        module, _, function = self.flow.partition(":")
        getattr(importlib.import_module(module), function)(job, ctx)


def load_flows() -> None:
    """Import every flow now, so a worker's first job does not pay for Pillow and the handlers."""
    for command in COMMANDS.values():
        importlib.import_module(command.flow.partition(":")[0])


def _not_typed(text: str, settings: Settings) -> Any:
    raise UsageError("imagine", problem("variations_from_button"))


COMMANDS: dict[str, Command] = {
    "imagine": Command(
        name="imagine",
        request_type=ImagineRequest,
        parse=lambda text, settings: parse_imagine(text, spec_for(settings, Role.GENERATE)),
        flow="bot.flows.imagine:run_imagine",
        model_role=Role.GENERATE,
        uses_photo=False,
    ),
    "replace-bg": Command(
        name="replace-bg",
        request_type=ReplaceBackgroundRequest,
        parse=lambda text, settings: parse_replace_background(text, spec_for(settings, Role.REPLACE_BG)),
        flow="bot.flows.replace_bg:run_replace_background",
        model_role=Role.REPLACE_BG,
        parse_fields=lambda fields, settings: replace_background_fields(
            fields, spec_for(settings, Role.REPLACE_BG)),
    ),
    "describe": Command(
        name="describe",
        request_type=DescribeRequest,
        parse=lambda text, settings: parse_describe(text),
        flow="bot.flows.describe:run_describe",
        model_role=Role.VISION,
        parse_fields=lambda fields, settings: describe_fields(fields),
    ),
    "edit": Command(
        name="edit",
        request_type=EditRequest,
        parse=lambda text, settings: parse_edit(text, spec_for(settings, Role.EDIT)),
        flow="bot.flows.edit:run_edit",
        model_role=Role.EDIT,
    ),
    "extend": Command(
        name="extend",
        request_type=ExtendRequest,
        parse=lambda text, settings: parse_extend(text, spec_for(settings, Role.EXTEND)),
        flow="bot.flows.edit:run_extend",
        model_role=Role.EXTEND,
        parse_fields=lambda fields, settings: extend_fields(fields, spec_for(settings, Role.EXTEND)),
    ),
    "remove-bg": Command(
        name="remove-bg",
        request_type=RemoveBackgroundRequest,
        parse=lambda text, settings: parse_remove_background(text),
        flow="bot.flows.edit:run_remove_background",
        model_role=Role.REMOVE_BG,
    ),
    "upscale": Command(
        name="upscale",
        request_type=UpscaleRequest,
        parse=lambda text, settings: parse_upscale(text, lambda mode: spec_for(settings, UPSCALE_ROLES[mode])),
        flow="bot.flows.upscale:run_upscale",
        model_role=Role.UPSCALE,
    ),
    "variations": Command(
        name="variations",
        request_type=VariationsRequest,
        parse=_not_typed,
        flow="bot.flows.edit:run_variations",
        model_role=Role.VARIATIONS,
        slash=False,
    ),
}
