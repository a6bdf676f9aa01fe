"""Text to image (TEXT_IMAGE) on Titan Image Generator or Nova Canvas."""

from __future__ import annotations

from typing import Any

from handlers.image_tasks import GeneratedImages, generation_config, require_task, run_task
from handlers.models import Task
from handlers.requests import ImagineRequest


def imagine(client: Any, model_id: str, request: ImagineRequest) -> GeneratedImages:
    """Generate ``request.count`` PNG images for ``request.prompt``."""
    spec = require_task(model_id, Task.TEXT_IMAGE)
    text_params: dict[str, Any] = {"text": request.prompt}
    if request.negative:
        text_params["negativeText"] = request.negative
    config, seed = generation_config(
        spec, request.count, request.seed, width=request.width, height=request.height,
        cfgScale=request.cfg_scale, quality=request.quality,
    )
    body = {"taskType": Task.TEXT_IMAGE.value, "textToImageParams": text_params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)
