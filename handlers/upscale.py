"""Upscaling with Stability's upscalers: fast (4x), conservative (to ~4 MP) and creative."""

from __future__ import annotations

import random
from typing import Any

from handlers import stability
from handlers.image_tasks import GeneratedImages, b64, require_task, run_task
from handlers.images import PreparedImage
from handlers.model_table import ROLES, UPSCALE_ROLES
from handlers.requests import UpscaleRequest

# Conservative and creative need a prompt; with none given, ask for fidelity, not new content.
NEUTRAL_PROMPT = "a sharp, detailed, high-resolution version of this image"


def upscale(client: Any, model_id: str, request: UpscaleRequest, photo: PreparedImage) -> GeneratedImages:
    """``photo`` enlarged by the upscaler ``request.mode`` names (the photo already fits its input limits)."""
    task = ROLES[UPSCALE_ROLES[request.mode]].task
    assert task is not None  # every upscale role names its task
    spec = require_task(model_id, task)
    seed = request.seed if request.seed is not None else random.randint(0, spec.max_seed)
    body = stability.upscale_body(request.mode, b64(photo.data), request.prompt or NEUTRAL_PROMPT, seed)
    return run_task(client, model_id, body, seed)
