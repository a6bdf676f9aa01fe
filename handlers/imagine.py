"""Text to image (TEXT_IMAGE) on Titan Image Generator or Nova Canvas."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from typing import Any

from handlers.bedrock import invoke_json
from handlers.errors import ModelBlocked
from handlers.models import Task, image_model_spec


@dataclass(frozen=True)
class ImagineRequest:
    """A validated /imagine request; sizes are already fitted to the model."""

    prompt: str
    width: int
    height: int
    negative: str = ""
    count: int = 1
    seed: int | None = None
    quality: str = "standard"
    cfg_scale: float | None = None


@dataclass(frozen=True)
class GeneratedImages:
    """What an image model returned."""

    images: tuple[bytes, ...]
    model_id: str
    seed: int
    width: int
    height: int
    # How many requested images the output filter withheld (0 when all came back).
    blocked: int = 0


def imagine(client: Any, model_id: str, request: ImagineRequest) -> GeneratedImages:
    """Generate ``request.count`` PNG images for ``request.prompt``."""
    spec = image_model_spec(model_id)
    seed = request.seed if request.seed is not None else random.randint(0, spec.max_seed)
    text_params: dict[str, Any] = {"text": request.prompt}
    if request.negative:
        text_params["negativeText"] = request.negative
    body = {
        "taskType": Task.TEXT_IMAGE.value,
        "textToImageParams": text_params,
        "imageGenerationConfig": {
            "numberOfImages": request.count,
            "width": request.width,
            "height": request.height,
            "cfgScale": request.cfg_scale or spec.default_cfg_scale,
            "seed": seed,
            "quality": request.quality,
        },
    }
    images = decode_images(invoke_json(client, model_id, body), request.count)
    return GeneratedImages(
        images=images,
        model_id=model_id,
        seed=seed,
        width=request.width,
        height=request.height,
        blocked=request.count - len(images),
    )


def decode_images(response: dict[str, Any], requested: int) -> tuple[bytes, ...]:
    """The PNG bytes in an image-model response.

    The output filter reports blocked images in ``error`` and returns the rest;
    when nothing came back that is a refusal, otherwise a partial result.
    """
    images = tuple(base64.b64decode(item) for item in response.get("images") or ())
    if not images:
        raise ModelBlocked(response.get("error") or "The model returned no images.")
    return images[:requested]
