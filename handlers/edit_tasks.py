"""Editing tasks on a photo: inpainting, outpainting to a new format, variations, background removal."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageOps

from handlers import stability
from handlers.image_tasks import GeneratedImages, b64, one_call_per_image, require_task, run_amazon_task, run_task
from handlers.images import PreparedImage, encode
from handlers.models import ImageModelSpec, Task
from handlers.requests import EditRequest, ExtendRequest, VariationsRequest
from handlers.stability import is_stability


def inpaint(client: Any, model_id: str, request: EditRequest, photo: PreparedImage,
            mask: PreparedImage | None) -> GeneratedImages:
    """Repaint the part of ``photo`` named by ``request.mask`` (or black in ``mask``) with ``request.prompt``."""
    spec = require_task(model_id, Task.INPAINTING if mask is not None else Task.SEARCH_REPLACE)
    if is_stability(model_id):
        return _inpaint_stability(client, model_id, request, photo, mask, spec)
    params: dict[str, Any] = {"image": b64(photo.data), "text": request.prompt}
    if mask is not None:
        params["maskImage"] = b64(mask.data)
    else:
        params["maskPrompt"] = request.mask
    return run_amazon_task(client, model_id, spec, Task.INPAINTING, params, request.count, request.seed,
                           request.negative)


def extend(client: Any, model_id: str, request: ExtendRequest, canvas: PreparedImage,
           mask: PreparedImage) -> GeneratedImages:
    """Paint ``request.prompt`` around the photo on ``canvas``; black in ``mask`` is kept as it is."""
    spec = require_task(model_id, Task.OUTPAINTING)
    if is_stability(model_id):
        return _extend_stability(client, model_id, request, canvas, mask, spec)
    params: dict[str, Any] = {
        "image": b64(canvas.data),
        "maskImage": b64(mask.data),
        "text": request.prompt,
        # PRECISE keeps the photo's pixels exactly; the new area must blend with them.
        "outPaintingMode": "PRECISE",
    }
    return run_amazon_task(client, model_id, spec, Task.OUTPAINTING, params, request.count, request.seed,
                           request.negative)


def variations(client: Any, model_id: str, request: VariationsRequest, photo: PreparedImage) -> GeneratedImages:
    """New images like ``photo``, guided by ``request.prompt``.

    Titan/Nova have IMAGE_VARIATION; Stability's Ultra and SD3.5 do image-to-image
    with ``strength``, one image per call, and need a prompt.
    """
    spec = require_task(model_id, Task.IMAGE_VARIATION)
    if is_stability(model_id):
        image = b64(photo.data)
        return one_call_per_image(
            client, model_id,
            lambda seed: stability.image_to_image_body(model_id, image, request.prompt, "", request.strength, seed),
            request.seed, request.count, spec.max_seed,
        )
    params: dict[str, Any] = {"images": [b64(photo.data)], "similarityStrength": request.similarity}
    if request.prompt:
        params["text"] = request.prompt[: spec.max_prompt_chars]
    return run_amazon_task(client, model_id, spec, Task.IMAGE_VARIATION, params, request.count, request.seed)


def remove_background(client: Any, model_id: str, photo: PreparedImage) -> GeneratedImages:
    """The subject of ``photo`` on a transparent background (a PNG with alpha)."""
    require_task(model_id, Task.BACKGROUND_REMOVAL)
    if is_stability(model_id):
        return run_task(client, model_id, stability.remove_background_body(b64(photo.data)), seed=0)
    body = {"taskType": Task.BACKGROUND_REMOVAL.value, "backgroundRemovalParams": {"image": b64(photo.data)}}
    return run_task(client, model_id, body, seed=0)


def _inpaint_stability(client: Any, model_id: str, request: EditRequest, photo: PreparedImage,
                       mask: PreparedImage | None, spec: ImageModelSpec) -> GeneratedImages:
    """Search-and-replace repaints what a description names; Inpaint repaints a mask image."""
    image = b64(photo.data)
    # Stability's masks are the other way round: white is what gets repainted.
    inverted = b64(stability.invert_mask_png(mask.data)) if mask is not None else None

    def body(seed: int) -> dict[str, Any]:
        if inverted is None:
            return stability.search_replace_body(image, request.mask, request.prompt, request.negative, seed)
        return stability.inpaint_body(image, request.prompt, inverted, request.negative, seed)

    return one_call_per_image(client, model_id, body, request.seed, request.count, spec.max_seed)


def _extend_stability(client: Any, model_id: str, request: ExtendRequest, canvas: PreparedImage,
                      mask: PreparedImage, spec: ImageModelSpec) -> GeneratedImages:
    """Stability's outpaint grows the photo by margins; they are read off the canvas mask."""
    with Image.open(io.BytesIO(mask.data)) as mask_image:
        kept = ImageOps.invert(mask_image.convert("L")).getbbox()
        left, top, right, bottom = kept or (0, 0, canvas.width, canvas.height)
    with Image.open(io.BytesIO(canvas.data)) as canvas_image:
        photo = encode(canvas_image.convert("RGB").crop((left, top, right, bottom)), "png")
    margins = (left, canvas.width - right, top, canvas.height - bottom)
    image = b64(photo.data)
    return one_call_per_image(
        client, model_id, lambda seed: stability.outpaint_body(image, *margins, request.prompt, seed),
        request.seed, request.count, spec.max_seed,
    )
