"""Background replacement: outpainting around a subject named by a mask prompt."""

from __future__ import annotations

from typing import Any

from handlers.errors import ModelUnsupported
from handlers.image_tasks import GeneratedImages, b64, generation_config, require_task, run_task
from handlers.images import PreparedImage
from handlers.models import Task, models_for
from handlers.requests import ReplaceBackgroundRequest
from handlers.stability import is_stability


def replace_background(
    client: Any, model_id: str, request: ReplaceBackgroundRequest, photo: PreparedImage, subject: str
) -> GeneratedImages:
    """Keep ``subject`` of ``photo`` and paint ``request.prompt`` around it.

    OUTPAINTING changes what lies outside the mask, so the mask prompt names
    what to keep; the output has the input's size, so the subject stays put.
    """
    if is_stability(model_id):
        # Stability's outpaint grows a canvas; Bedrock offers no Stability model that keeps
        # a named subject and replaces what is around it.
        raise ModelUnsupported(model_id, "BACKGROUND_REPLACEMENT", models_for(Task.OUTPAINTING, exclude_stability=True))
    spec = require_task(model_id, Task.OUTPAINTING)
    params: dict[str, Any] = {
        "image": b64(photo.data),
        "text": request.prompt,
        "maskPrompt": subject,
        "outPaintingMode": "PRECISE" if request.precise else "DEFAULT",
    }
    if request.negative:
        params["negativeText"] = request.negative
    config, seed = generation_config(spec, request.count, request.seed)
    body = {"taskType": Task.OUTPAINTING.value, "outPaintingParams": params, "imageGenerationConfig": config}
    return run_task(client, model_id, body, seed)
