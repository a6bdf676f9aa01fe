"""What each Bedrock image model accepts.

The limits come from the AWS documentation ("Amazon Titan Image Generator G1
models" and "Amazon Nova Canvas: request and response structure"); the fake
Bedrock server in ``tests/fakes`` enforces the same rules independently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from handlers.errors import ModelFailed


class ImageFamily(Enum):
    TITAN_V1 = "titan-v1"
    TITAN_V2 = "titan-v2"
    NOVA_CANVAS = "nova-canvas"
    STABILITY = "stability"


class Task(Enum):
    """What a model can do. The first five are also Titan/Nova ``taskType`` values."""

    TEXT_IMAGE = "TEXT_IMAGE"
    INPAINTING = "INPAINTING"
    OUTPAINTING = "OUTPAINTING"
    IMAGE_VARIATION = "IMAGE_VARIATION"
    BACKGROUND_REMOVAL = "BACKGROUND_REMOVAL"
    # Repaint what a description names (Titan/Nova maskPrompt, Stability Search and Replace).
    SEARCH_REPLACE = "SEARCH_REPLACE"
    # Keep the subject, paint a new background (Titan/Nova OUTPAINTING with maskPrompt,
    # Stability Inpaint of a cut-out's transparent background).
    BACKGROUND_REPLACEMENT = "BACKGROUND_REPLACEMENT"
    UPSCALE_FAST = "UPSCALE_FAST"
    UPSCALE_CONSERVATIVE = "UPSCALE_CONSERVATIVE"
    UPSCALE_CREATIVE = "UPSCALE_CREATIVE"
    # A new image in the style of a reference image (Stability Style Guide).
    STYLE_GUIDE = "STYLE_GUIDE"


# The tasks Titan v2 and Nova Canvas share: every taskType plus what maskPrompt allows.
_AMAZON_TASKS = frozenset({Task.TEXT_IMAGE, Task.INPAINTING, Task.OUTPAINTING, Task.IMAGE_VARIATION,
                           Task.BACKGROUND_REMOVAL, Task.SEARCH_REPLACE, Task.BACKGROUND_REPLACEMENT})


# Titan text-to-image accepts only these (width, height) pairs.
TITAN_SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (768, 768), (512, 512),
    (768, 1152), (384, 576), (1152, 768), (576, 384),
    (768, 1280), (384, 640), (1280, 768), (640, 384),
    (896, 1152), (448, 576), (1152, 896), (576, 448),
    (768, 1408), (384, 704), (1408, 768), (704, 384),
    (640, 1408), (320, 704), (1408, 640), (704, 320),
    (1152, 640), (1173, 640),
)


@dataclass(frozen=True)
class ImageModelSpec:
    """Limits of one image model family."""

    family: ImageFamily
    label: str
    max_prompt_chars: int
    max_seed: int
    default_cfg_scale: float
    tasks: frozenset[Task]
    # None means "any size within the min/max/multiple rules below".
    fixed_sizes: tuple[tuple[int, int], ...] | None
    min_side: int
    max_side: int
    side_multiple: int
    max_pixels: int
    max_aspect: float  # longest side / shortest side

    def accepts_size(self, width: int, height: int) -> bool:
        """True when the model can generate exactly ``width`` x ``height``."""
        if self.fixed_sizes is not None:
            return (width, height) in self.fixed_sizes
        return (
            self.min_side <= width <= self.max_side
            and self.min_side <= height <= self.max_side
            and width % self.side_multiple == 0
            and height % self.side_multiple == 0
            and width * height <= self.max_pixels
            and max(width, height) / min(width, height) <= self.max_aspect
        )

    def size_rules(self) -> str:
        """The size rule in words, for usage errors."""
        if self.fixed_sizes is not None:
            return ", ".join(f"{w}x{h}" for w, h in self.fixed_sizes)
        return (
            f"sides {self.min_side}-{self.max_side} px in multiples of {self.side_multiple}, "
            f"at most {self.max_pixels:,} pixels, aspect ratio up to {self.max_aspect:g}:1"
        )


TITAN_V2 = ImageModelSpec(
    family=ImageFamily.TITAN_V2,
    label="Titan Image Generator v2",
    max_prompt_chars=512,
    max_seed=2_147_483_646,
    default_cfg_scale=8.0,
    tasks=_AMAZON_TASKS,
    fixed_sizes=TITAN_SIZES,
    # Edit inputs: at most 1,408 px on the longer side (Titan image generator parameters).
    min_side=320,
    max_side=1408,
    side_multiple=1,
    max_pixels=1408 * 1408,
    max_aspect=4.4,
)
# v1 has the same limits but lacks background removal (and colour-guided generation).
TITAN_V1 = replace(
    TITAN_V2, family=ImageFamily.TITAN_V1, label="Titan Image Generator v1",
    tasks=_AMAZON_TASKS - {Task.BACKGROUND_REMOVAL},
)
NOVA_CANVAS = ImageModelSpec(
    family=ImageFamily.NOVA_CANVAS,
    label="Amazon Nova Canvas",
    max_prompt_chars=1024,
    max_seed=858_993_459,
    default_cfg_scale=6.5,
    tasks=_AMAZON_TASKS,
    fixed_sizes=None,
    min_side=320,
    max_side=4096,
    side_multiple=16,
    max_pixels=4_194_304,
    max_aspect=4.0,
)

# Stability AI text-to-image (Core, Ultra, SD3.5 Large): an aspect_ratio enum, not
# a size; each ratio comes out at about one megapixel (Stability's buckets, used by
# the fake too; AWS documents only "1 megapixel" / "640 to 1,536 px a side").
STABILITY_SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (1344, 768), (768, 1344), (1536, 640), (640, 1536),
    (1216, 832), (832, 1216), (1088, 896), (896, 1088),
)


def _stability(label: str, *tasks: Task, fixed_sizes: tuple[tuple[int, int], ...] | None = None,
               min_side: int = 64, max_side: int = 4096, max_pixels: int = 4_194_304) -> ImageModelSpec:
    # Prompts up to 10,000 characters, seeds up to 4,294,967,294; Image Services inputs
    # take sides from 64 px, aspect ratio up to 2.5:1 (Stability API reference, as
    # documented for Bedrock). Inputs are capped at 4.19 MP (remove background's limit,
    # the strictest of the services a photo passes through) unless a service is stricter.
    return ImageModelSpec(
        family=ImageFamily.STABILITY, label=label, max_prompt_chars=10_000, max_seed=4_294_967_294,
        default_cfg_scale=0.0, tasks=frozenset(tasks), fixed_sizes=fixed_sizes, min_side=min_side,
        max_side=max_side, side_multiple=1, max_pixels=max_pixels, max_aspect=2.5,
    )


STABLE_IMAGE_CORE = _stability("Stable Image Core", Task.TEXT_IMAGE, fixed_sizes=STABILITY_SIZES)
# Ultra and SD3.5 Large also take an ``image`` and a ``strength`` (image-to-image).
STABLE_IMAGE_ULTRA = _stability("Stable Image Ultra", Task.TEXT_IMAGE, Task.IMAGE_VARIATION,
                                fixed_sizes=STABILITY_SIZES)
SD35_LARGE = _stability("Stable Diffusion 3.5 Large", Task.TEXT_IMAGE, Task.IMAGE_VARIATION,
                        fixed_sizes=STABILITY_SIZES)
# Each Stability Image Service is its own model and does one task.
STABILITY_SEARCH_REPLACE = _stability("Stability Search and Replace", Task.SEARCH_REPLACE)
STABILITY_INPAINT = _stability("Stability Inpaint", Task.INPAINTING, Task.BACKGROUND_REPLACEMENT, max_pixels=2_097_152)
STABILITY_OUTPAINT = _stability("Stability Outpaint", Task.OUTPAINTING)
STABILITY_REMOVE_BACKGROUND = _stability("Stability Remove Background", Task.BACKGROUND_REMOVAL)
# Fast upscale: 4x, input 32-1,536 px a side and at most 1,048,576 pixels.
STABILITY_FAST_UPSCALE = _stability("Stability Fast Upscale", Task.UPSCALE_FAST, min_side=32, max_side=1536,
                                    max_pixels=1_048_576)
# Conservative: to about 4 MP, any input the services take; creative: at most 1 MP in.
STABILITY_CONSERVATIVE_UPSCALE = _stability("Stability Conservative Upscale", Task.UPSCALE_CONSERVATIVE)
STABILITY_CREATIVE_UPSCALE = _stability("Stability Creative Upscale", Task.UPSCALE_CREATIVE,
                                        max_pixels=1_048_576)
# Style Guide: the reference takes the Image Services' input rules up to 9,437,184 pixels.
STABILITY_STYLE_GUIDE = _stability("Stability Style Guide", Task.STYLE_GUIDE, max_pixels=9_437_184)

# Model ids may carry a region prefix (``us.``) or be ARNs; match on the base id.
_FAMILY_BY_ID_PART: tuple[tuple[str, ImageModelSpec], ...] = (
    ("amazon.titan-image-generator-v2", TITAN_V2),
    ("amazon.titan-image-generator-v1", TITAN_V1),
    ("amazon.nova-canvas", NOVA_CANVAS),
    ("stability.stable-image-core", STABLE_IMAGE_CORE),
    ("stability.stable-image-ultra", STABLE_IMAGE_ULTRA),
    ("stability.sd3-5-large", SD35_LARGE),
    ("stability.stable-image-search-replace", STABILITY_SEARCH_REPLACE),
    ("stability.stable-image-inpaint", STABILITY_INPAINT),
    ("stability.stable-outpaint", STABILITY_OUTPAINT),
    ("stability.stable-image-remove-background", STABILITY_REMOVE_BACKGROUND),
    ("stability.stable-fast-upscale", STABILITY_FAST_UPSCALE),
    ("stability.stable-conservative-upscale", STABILITY_CONSERVATIVE_UPSCALE),
    ("stability.stable-creative-upscale", STABILITY_CREATIVE_UPSCALE),
    ("stability.stable-image-style-guide", STABILITY_STYLE_GUIDE),
)


# Inference-profile prefixes: a profile id names the same model in a group of regions.
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|global|jp|au|ca)\.")


def base_model_id(model_id: str) -> str:
    """The foundation model behind an id: ARN prefixes and inference-profile prefixes removed."""
    return _PROFILE_PREFIX.sub("", model_id.rsplit("/", 1)[-1])


class UnknownModel(ModelFailed):
    """A configured model id that Studio does not know how to drive."""

    def __init__(self, model_id: str) -> None:
        super().__init__("unknown_model", model=model_id)


def image_model_spec(model_id: str) -> ImageModelSpec:
    """The limits for ``model_id``; raises ``UnknownModel`` for ids Studio cannot drive."""
    for id_part, spec in _FAMILY_BY_ID_PART:
        if id_part in model_id:
            return spec
    raise UnknownModel(model_id)
