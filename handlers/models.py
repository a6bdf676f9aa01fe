"""What each Bedrock image model accepts.

The limits come from the AWS documentation ("Amazon Titan Image Generator G1
models" and "Amazon Nova Canvas: request and response structure"); the fake
Bedrock server in ``tests/fakes`` enforces the same rules independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ImageFamily(Enum):
    TITAN_V1 = "titan-v1"
    TITAN_V2 = "titan-v2"
    NOVA_CANVAS = "nova-canvas"


class Task(Enum):
    TEXT_IMAGE = "TEXT_IMAGE"
    INPAINTING = "INPAINTING"
    OUTPAINTING = "OUTPAINTING"
    IMAGE_VARIATION = "IMAGE_VARIATION"
    BACKGROUND_REMOVAL = "BACKGROUND_REMOVAL"


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


_EDIT_TASKS = frozenset({Task.INPAINTING, Task.OUTPAINTING, Task.IMAGE_VARIATION})

TITAN_V1 = ImageModelSpec(
    family=ImageFamily.TITAN_V1,
    label="Titan Image Generator v1",
    max_prompt_chars=512,
    max_seed=2_147_483_646,
    default_cfg_scale=8.0,
    tasks=frozenset({Task.TEXT_IMAGE}) | _EDIT_TASKS,
    fixed_sizes=TITAN_SIZES,
    min_side=320,
    max_side=1408,
    side_multiple=1,
    max_pixels=1408 * 1408,
    max_aspect=4.4,
)
TITAN_V2 = ImageModelSpec(
    family=ImageFamily.TITAN_V2,
    label="Titan Image Generator v2",
    max_prompt_chars=512,
    max_seed=2_147_483_646,
    default_cfg_scale=8.0,
    tasks=frozenset(Task),
    fixed_sizes=TITAN_SIZES,
    min_side=320,
    max_side=1408,
    side_multiple=1,
    max_pixels=1408 * 1408,
    max_aspect=4.4,
)
NOVA_CANVAS = ImageModelSpec(
    family=ImageFamily.NOVA_CANVAS,
    label="Amazon Nova Canvas",
    max_prompt_chars=1024,
    max_seed=858_993_459,
    default_cfg_scale=6.5,
    tasks=frozenset(Task),
    fixed_sizes=None,
    min_side=320,
    max_side=4096,
    side_multiple=16,
    max_pixels=4_194_304,
    max_aspect=4.0,
)

# Model ids may carry a region prefix (``us.``) or be ARNs; match on the base id.
_FAMILY_BY_ID_PART: tuple[tuple[str, ImageModelSpec], ...] = (
    ("amazon.titan-image-generator-v2", TITAN_V2),
    ("amazon.titan-image-generator-v1", TITAN_V1),
    ("amazon.nova-canvas", NOVA_CANVAS),
)


class UnknownModel(ValueError):
    """A configured model id that Studio does not know how to drive."""


def image_model_spec(model_id: str) -> ImageModelSpec:
    """The limits for ``model_id``; raises ``UnknownModel`` for ids Studio cannot drive."""
    for id_part, spec in _FAMILY_BY_ID_PART:
        if id_part in model_id:
            return spec
    raise UnknownModel(
        f"{model_id!r} is not an image model Studio supports "
        "(Titan Image Generator v1/v2 or Amazon Nova Canvas)"
    )


def models_for(task: Task) -> tuple[str, ...]:
    """Model ids (one per family) that can do ``task``, for "configure one of these" messages."""
    ids = {TITAN_V2: "amazon.titan-image-generator-v2:0", NOVA_CANVAS: "amazon.nova-canvas-v1:0",
           TITAN_V1: "amazon.titan-image-generator-v1"}
    return tuple(model for spec, model in ids.items() if task in spec.tasks)
