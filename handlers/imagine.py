"""Text to image: Stability's generators (one image per call) or Titan/Nova TEXT_IMAGE."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers import stability
from handlers.image_tasks import GeneratedImages, generation_config, one_call_per_image, require_task, run_task
from handlers.models import Task
from handlers.requests import ImagineRequest
from handlers.stability import is_stability


def imagine(client: Any, model_id: str, request: ImagineRequest) -> GeneratedImages:
    """Generate ``request.count`` PNG images for ``request.prompt``."""
    spec = require_task(model_id, Task.TEXT_IMAGE)
    if is_stability(model_id):
        # Stability takes an aspect ratio, not a size: the nearest one to the fitted size.
        ratio = stability.closest_aspect_ratio(request.width, request.height)
        result = one_call_per_image(
            client, model_id,
            lambda seed: stability.text_to_image_body(request.prompt, request.negative, ratio, seed),
            request.seed, request.count, spec.max_seed,
        )
        return replace(result, aspect_ratio=ratio)
    text_params: dict[str, Any] = {"text": request.prompt}
    if request.negative:
        text_params["negativeText"] = request.negative
    config, seed = generation_config(
        spec, request.count, request.seed, width=request.width, height=request.height,
        cfgScale=request.cfg_scale, quality=request.quality,
    )
    body = {"taskType": Task.TEXT_IMAGE.value, "textToImageParams": text_params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)
