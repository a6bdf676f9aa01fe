"""Editing tasks on a photo: inpainting, outpainting to a new format, variations, background removal."""

from __future__ import annotations

from typing import Any

from handlers.image_tasks import GeneratedImages, b64, generation_config, require_task, run_task
from handlers.images import PreparedImage
from handlers.models import Task
from handlers.requests import EditRequest, ExtendRequest, VariationsRequest


def inpaint(client: Any, model_id: str, request: EditRequest, photo: PreparedImage,
            mask: PreparedImage | None) -> GeneratedImages:
    """Repaint the part of ``photo`` named by ``request.mask`` (or black in ``mask``) with ``request.prompt``."""
    spec = require_task(model_id, Task.INPAINTING)
    params: dict[str, Any] = {"image": b64(photo.data), "text": request.prompt}
    if mask is not None:
        params["maskImage"] = b64(mask.data)
    else:
        params["maskPrompt"] = request.mask
    if request.negative:
        params["negativeText"] = request.negative
    config, seed = generation_config(spec, request.count, request.seed)
    body = {"taskType": Task.INPAINTING.value, "inPaintingParams": params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)


def extend(client: Any, model_id: str, request: ExtendRequest, canvas: PreparedImage,
           mask: PreparedImage) -> GeneratedImages:
    """Paint ``request.prompt`` around the photo on ``canvas``; black in ``mask`` is kept as it is."""
    spec = require_task(model_id, Task.OUTPAINTING)
    params: dict[str, Any] = {
        "image": b64(canvas.data),
        "maskImage": b64(mask.data),
        "text": request.prompt,
        # PRECISE keeps the photo's pixels exactly; the new area must blend with them.
        "outPaintingMode": "PRECISE",
    }
    if request.negative:
        params["negativeText"] = request.negative
    config, seed = generation_config(spec, request.count, request.seed)
    body = {"taskType": Task.OUTPAINTING.value, "outPaintingParams": params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)


def variations(client: Any, model_id: str, request: VariationsRequest, photo: PreparedImage) -> GeneratedImages:
    """New images like ``photo`` (IMAGE_VARIATION), guided by the original prompt when there is one."""
    spec = require_task(model_id, Task.IMAGE_VARIATION)
    params: dict[str, Any] = {"images": [b64(photo.data)], "similarityStrength": request.similarity}
    if request.prompt:
        params["text"] = request.prompt[: spec.max_prompt_chars]
    config, seed = generation_config(spec, request.count, request.seed)
    body = {"taskType": Task.IMAGE_VARIATION.value, "imageVariationParams": params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)


def remove_background(client: Any, model_id: str, photo: PreparedImage) -> GeneratedImages:
    """The subject of ``photo`` on a transparent background (a PNG with alpha)."""
    require_task(model_id, Task.BACKGROUND_REMOVAL)
    body = {"taskType": Task.BACKGROUND_REMOVAL.value, "backgroundRemovalParams": {"image": b64(photo.data)}}
    return run_task(client, model_id, body, seed=0)
