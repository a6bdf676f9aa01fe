"""/imagine in a channel's brand style: Stability's Style Guide with the kit's reference image."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers import stability
from handlers.errors import StyleImageTooSmall
from handlers.image_tasks import GeneratedImages, b64, one_call_per_image, require_task
from handlers.images import PreparedImage, decode_for_model, model_input
from handlers.models import Task
from handlers.requests import ImagineRequest


def prepare_style_reference(data: bytes, model_id: str) -> PreparedImage:
    """A style image (as uploaded) checked and encoded for ``model_id`` (Style Guide).

    Raises ``StyleImageTooSmall`` when a side is below the model's minimum (rather
    than blowing a thumbnail up into a style), ``InvalidImage`` when it is not a
    usable image or too stretched. Large images are shrunk to the model's limit.
    """
    spec = require_task(model_id, Task.STYLE_GUIDE)
    image = decode_for_model(data, spec)
    if min(image.size) < spec.min_side:
        raise StyleImageTooSmall(image.width, image.height, spec.min_side)
    return model_input(image, spec)


def imagine_in_style(client: Any, model_id: str, request: ImagineRequest, style: PreparedImage,
                     fidelity: float = stability.DEFAULT_STYLE_FIDELITY) -> GeneratedImages:
    """``request.count`` images of ``request.prompt`` in the style of ``style`` (one call each).

    The shape is the aspect-ratio enum value nearest ``request.width`` x ``request.height``,
    as for the generators; ``fidelity`` (0-1) is how closely the style follows the reference.
    """
    spec = require_task(model_id, Task.STYLE_GUIDE)
    ratio = stability.closest_aspect_ratio(request.width, request.height)
    image = b64(style.data)
    result = one_call_per_image(
        client, model_id,
        lambda seed: stability.style_guide_body(image, request.prompt, request.negative, ratio, seed, fidelity),
        request.seed, request.count, spec.max_seed,
    )
    return replace(result, aspect_ratio=ratio)
