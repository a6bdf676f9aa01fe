"""Text to image: Stability's generators (one image per call) or Titan/Nova TEXT_IMAGE."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers import stability
from handlers.image_tasks import GeneratedImages, one_call_per_image, require_task, run_amazon_task
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
    return run_amazon_task(
        client, model_id, spec, Task.TEXT_IMAGE, {"text": request.prompt}, request.count, request.seed,
        request.negative, width=request.width, height=request.height, cfgScale=request.cfg_scale,
        quality=request.quality,
    )
