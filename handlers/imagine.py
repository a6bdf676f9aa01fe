"""Text to image (TEXT_IMAGE) on Titan Image Generator or Nova Canvas."""

from __future__ import annotations

import random
from typing import Any

from handlers import stability
from handlers.image_tasks import GeneratedImages, combine, generation_config, require_task, run_task
from handlers.models import Task
from handlers.requests import ImagineRequest
from handlers.stability import is_stability


def imagine(client: Any, model_id: str, request: ImagineRequest) -> GeneratedImages:
    """Generate ``request.count`` PNG images for ``request.prompt``."""
    spec = require_task(model_id, Task.TEXT_IMAGE)
    if is_stability(model_id):
        return _imagine_stability(client, model_id, request, spec.max_seed)
    text_params: dict[str, Any] = {"text": request.prompt}
    if request.negative:
        text_params["negativeText"] = request.negative
    config, seed = generation_config(
        spec, request.count, request.seed, width=request.width, height=request.height,
        cfgScale=request.cfg_scale, quality=request.quality,
    )
    body = {"taskType": Task.TEXT_IMAGE.value, "textToImageParams": text_params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)


def _imagine_stability(client: Any, model_id: str, request: ImagineRequest, max_seed: int) -> GeneratedImages:
    """Stability models make one image per call and take an aspect ratio, not a size."""
    seed = request.seed if request.seed is not None else random.randint(0, max_seed)
    ratio = stability.closest_aspect_ratio(request.width, request.height)
    return combine([
        run_task(client, model_id, stability.text_to_image_body(request.prompt, request.negative, ratio,
                                                                (seed + index) % (max_seed + 1)), seed)
        for index in range(request.count)
    ])
