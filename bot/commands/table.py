"""The command table: one row per command says everything Studio knows about it.

A row names the request type, the parser (for text and for a form's fields), the
flow, the model role, and the command's own words (usage, example, verb, the ask
for a missing prompt); help, the mention and App Home how-tos and the manifest
check read them from here. Flows are named as ``"module:function"`` and imported
on first use, so the Slack ingress can parse commands without loading Pillow or
the Bedrock handlers (it must cold-start fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.commands.parsers import (
    describe_fields,
    extend_fields,
    parse_brand,
    parse_describe,
    parse_edit,
    parse_extend,
    parse_formats,
    parse_imagine,
    parse_remove_background,
    parse_replace_background,
    parse_upscale,
    replace_background_fields,
)
from bot.errors import UsageError
from bot.jobs import Job
from bot.settings import Settings, spec_for
from handlers.model_table import UPSCALE_ROLES, Role
from handlers.models import ImageModelSpec
from handlers.requests import (
    BrandRequest,
    DescribeRequest,
    EditRequest,
    ExtendRequest,
    FormatsRequest,
    ImagineRequest,
    RemoveBackgroundRequest,
    ReplaceBackgroundRequest,
    UpscaleRequest,
    VariationsRequest,
)

if TYPE_CHECKING:
    from bot.context import WorkerContext

# A job over an S3 folder (``s3://bucket/prefix/``) is a catalogue batch of its command, whichever it is.
S3_BATCH_FLOW = "bot.flows.catalogue_s3:run_s3_batch"


@dataclass(frozen=True)
class Specs:
    """The image-model limits a parser checks against, looked up only when the parser asks."""

    settings: Settings
    role: Role

    def __call__(self, role: Role | None = None) -> ImageModelSpec:
        """The limits of the model for the command's role (or a sibling ``role``, e.g. an upscale mode's)."""
        return spec_for(self.settings, role or self.role)


@dataclass(frozen=True)
class Command:
    """One Studio command."""

    name: str
    request_type: type
    # Text -> request; ``Specs`` gives the limits of the row's model when the parser needs them.
    parse: Callable[[str, Specs], Any]
    # "module:function" of the flow that runs the job in a worker.
    flow: str
    # The role whose model's limits the parser checks against (flows may pick a sibling role).
    model_role: Role
    # The help text; ``/name help`` answers it with the example.
    usage: str = ""
    example: str = ""
    # What the progress message says was asked for ("asked for a repaint"), for photo edits.
    verb: str = ""
    # The words that start a "missing_prompt" problem ("Tell me what to draw").
    prompt_ask: str = ""
    # Photo commands work on an image someone posted; /imagine does not.
    uses_photo: bool = True
    # Internal commands (Variations) are reached only through result buttons.
    slash: bool = True
    # The request from a form's fields (for commands a modal asks about); fields are values, not command text.
    parse_fields: Callable[[Mapping[str, str], Specs], Any] | None = None

    def parse_text(self, text: str, settings: Settings) -> Any:
        """The validated request for ``text``."""
        return self.parse(text, Specs(settings, self.model_role))

    def parse_form(self, fields: Mapping[str, str], settings: Settings) -> Any:
        """The validated request for a form's ``fields``."""
        assert self.parse_fields is not None, f"/{self.name} has no form"
        return self.parse_fields(fields, Specs(settings, self.model_role))

    def image_spec(self, settings: Settings) -> ImageModelSpec | None:
        """The limits of the image model this command uses (None for vision-only commands)."""
        if self.model_role is Role.VISION:
            return None
        return spec_for(settings, self.model_role)

    def run(self, job: Job, ctx: WorkerContext) -> None:
        """Run ``job`` with this command's flow (or as a batch over the S3 folder it names)."""
        module, _, function = (S3_BATCH_FLOW if job.s3_uri else self.flow).partition(":")
        getattr(importlib.import_module(module), function)(job, ctx)


def load_flows() -> None:
    """Import every flow now, so a worker's first job does not pay for Pillow and the handlers."""
    for flow in (*(command.flow for command in COMMANDS.values()), S3_BATCH_FLOW):
        importlib.import_module(flow.partition(":")[0])


def _not_typed(text: str, specs: Specs) -> Any:
    raise UsageError("imagine", "variations_from_button")


# Said in the usage of every command that also runs on a whole ZIP or S3 folder.
_WHOLE_BATCH = "A ZIP of photos (the newest you posted) or `s3://bucket/folder/` (on AWS) runs it on every photo."

_ROWS = (
    Command(
        name="imagine",
        request_type=ImagineRequest,
        parse=lambda text, specs: parse_imagine(text, specs()),
        flow="bot.flows.imagine:run_imagine",
        model_role=Role.GENERATE,
        uses_photo=False,
        usage=(
            "*/imagine* _what to draw_ [options]\n"
            "• `no=` what to leave out  • `ar=` 1:1, 16:9, 9:16, 4:5, 5:4, 3:2, 2:3, 21:9, 9:21 (4:3 and 3:4 go to "
            "the nearest the model offers), or `size=WxH`\n"
            "• `n=` 1–5 images  • `seed=` repeat a result  • `quality=standard|premium`  "
            "• `cfg=` 1.1–10 prompt strength (Titan/Nova only)\n"
            "• `enhance` (as the last word) lets Studio write a richer prompt first\n"
            "• `brand=off` ignores this channel's brand kit  • `logo=on|off` the kit's logo in a corner\n"
            "Midjourney spellings work too: `--no people --ar 16:9 --seed 7`."
        ),
        example="/imagine sneaker on a neon street no=people ar=16:9 n=3",
        prompt_ask="Tell me what to draw",
    ),
    Command(
        name="replace-bg",
        request_type=ReplaceBackgroundRequest,
        parse=lambda text, specs: parse_replace_background(text, specs()),
        parse_fields=lambda fields, specs: replace_background_fields(fields, specs()),
        flow="bot.flows.replace_bg:run_replace_background",
        model_role=Role.REPLACE_BG,
        usage=(
            "*/replace-bg* [keep=_subject_] _new background_ [options]\n"
            "Uses the newest photo you posted in this channel (last 15 minutes).\n"
            "• `keep=` what to keep (`auto` lets Studio find the subject; the default)\n"
            "• `mode=default|precise`  • `no=` what to leave out  • `n=` 1–5  • `seed=`\n"
            f"{_WHOLE_BATCH}"
        ),
        example="/replace-bg keep=car beach at sunset mode=precise",
        prompt_ask="Describe the new background",
    ),
    Command(
        name="describe",
        request_type=DescribeRequest,
        parse=lambda text, specs: parse_describe(text),
        parse_fields=lambda fields, specs: describe_fields(fields),
        flow="bot.flows.describe:run_describe",
        model_role=Role.VISION,
        usage=(
            "*/describe* [preset | question]\n"
            "Presets: `caption` (default), `detail`, `alt`, `objects`, `classify`, `subject`, "
            "`story`, `text`, `social`, `translate=<language>`.\n"
            "Or ask anything: `/describe what colour is the car?`\n"
            "`/describe alt` on a ZIP of photos (or `s3://bucket/folder/` on AWS) answers with a CSV of alt texts."
        ),
        example="/describe alt",
    ),
    Command(
        name="edit",
        request_type=EditRequest,
        parse=lambda text, specs: parse_edit(text, specs()),
        flow="bot.flows.edit:run_edit",
        model_role=Role.EDIT,
        usage=(
            "*/edit* mask=_what to repaint_ _what to paint there_ [no=… n=… seed=…]\n"
            "Or post two images (photo, then a black-and-white mask) and `@Studio edit …`."
        ),
        example='/edit mask="bowl of salsa" bowl of black beans',
        verb="a repaint",
        prompt_ask="Say what to paint",
    ),
    Command(
        name="extend",
        request_type=ExtendRequest,
        parse=lambda text, specs: parse_extend(text, specs()),
        parse_fields=lambda fields, specs: extend_fields(fields, specs()),
        flow="bot.flows.edit:run_extend",
        model_role=Role.EXTEND,
        usage=(
            "*/extend* ar=_format_ _new surroundings_ [no=… n=… seed=…]\n"
            "Formats: any ratio such as `9:16`, or `square`, `story`, `banner`, `portrait`."
        ),
        example="/extend ar=9:16 city street at dusk",
        verb="an extended version",
        prompt_ask="Describe the new surroundings",
    ),
    Command(
        name="remove-bg",
        request_type=RemoveBackgroundRequest,
        parse=lambda text, specs: parse_remove_background(text),
        flow="bot.flows.remove_bg:run_remove_background",
        model_role=Role.REMOVE_BG,
        usage=("*/remove-bg* — cuts the subject of your newest photo out onto a transparent PNG.\n"
               f"{_WHOLE_BATCH}"),
        example="/remove-bg",
        verb="a cut-out",
    ),
    Command(
        name="upscale",
        request_type=UpscaleRequest,
        parse=lambda text, specs: parse_upscale(text, lambda mode: specs(UPSCALE_ROLES[mode])),
        flow="bot.flows.upscale:run_upscale",
        model_role=Role.UPSCALE,
        usage=(
            "*/upscale* [mode=fast|conservative|creative] [_prompt_]\n"
            "Enlarges your newest photo: `fast` 4× (the default; photos over 1 MP are shrunk first), "
            "`conservative` to about 4 MP keeping every detail, `creative` to about 4 MP re-imagining "
            "fine detail (a prompt guides the last two).\n"
            f"{_WHOLE_BATCH}"
        ),
        example="/upscale mode=conservative",
        verb="an upscale",
        prompt_ask="Describe the photo",
    ),
    Command(
        name="brand",
        request_type=BrandRequest,
        parse=lambda text, specs: parse_brand(text),
        flow="bot.flows.brand:run_brand",
        model_role=Role.STYLE,
        usage=(
            "*/brand* [style | logo | clear | lock | unlock | logo=always|optional]\n"
            "This channel's brand kit. `/brand` shows it; `style` and `logo` take the newest image you "
            "posted here (last 15 minutes) as the style reference or the logo (a PNG keeps its "
            "transparency); `clear` empties the kit. With a style, `/imagine` here draws in it "
            "(`brand=off` opts out); `logo=always` puts the logo on every image, `optional` only with "
            "`/imagine … logo=on`. Channel members change the kit; admins can `lock` it."
        ),
        example="/brand style",
    ),
    Command(
        name="formats",
        request_type=FormatsRequest,
        parse=lambda text, specs: parse_formats(text, specs(), specs.settings.formats),
        flow="bot.flows.formats:run_formats",
        model_role=Role.EXTEND,
        usage=(
            "*/formats* [_format names_]\n"
            "Makes every social format from your newest photo, each at its exact size: the subject is kept "
            "whole, and the canvas is extended where the photo is too narrow or too short.\n"
            "Name some to make only those (`story,square`); the set is the `STUDIO_FORMATS` setting.\n"
            f"{_WHOLE_BATCH}"
        ),
        example="/formats story,square",
        verb="every format",
    ),
    Command(
        name="variations",
        request_type=VariationsRequest,
        parse=_not_typed,
        flow="bot.flows.edit:run_variations",
        model_role=Role.VARIATIONS,
        slash=False,
        verb="variations",
    ),
)

COMMANDS: dict[str, Command] = {command.name: command for command in _ROWS}
