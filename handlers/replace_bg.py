"""Background replacement: keep the subject, paint a new background around it.

Two ways, by model family. Titan/Nova outpaint around a subject named by a mask
prompt, in one call. Stability cuts the subject out (Remove Background), then
Inpaint repaints the cut-out's transparent background; ``precise`` pastes the
subject's own pixels back over the result, so it is exactly the original.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from PIL import Image

from handlers import stability
from handlers.image_tasks import GeneratedImages, b64, one_call_per_image, require_task, run_amazon_task
from handlers.images import PreparedImage
from handlers.models import Task
from handlers.requests import ReplaceBackgroundRequest

# Pixels Inpaint may widen the repainted area into the subject's edge, so hair and
# soft edges blend with the new background (mode=default; precise keeps the edge).
BLEND_EDGE_PIXELS = 5


def replace_background(
    client: Any, model_id: str, request: ReplaceBackgroundRequest, photo: PreparedImage, subject: str
) -> GeneratedImages:
    """Titan/Nova: keep ``subject`` of ``photo`` and paint ``request.prompt`` around it.

    OUTPAINTING changes what lies outside the mask, so the mask prompt names
    what to keep; the output has the input's size, so the subject stays put.
    """
    spec = require_task(model_id, Task.OUTPAINTING)
    params: dict[str, Any] = {
        "image": b64(photo.data),
        "text": request.prompt,
        "maskPrompt": subject,
        "outPaintingMode": "PRECISE" if request.precise else "DEFAULT",
    }
    return run_amazon_task(client, model_id, spec, Task.OUTPAINTING, params, request.count, request.seed,
                           request.negative)


def paint_background(client: Any, model_id: str, request: ReplaceBackgroundRequest, cutout: bytes,
                     photo: PreparedImage) -> GeneratedImages:
    """Stability: Inpaint the transparent part of ``cutout`` (a Remove Background result) with the new background.

    ``photo`` is the image the cut-out was made from; with ``precise`` its pixels
    are pasted back wherever the cut-out is opaque.
    """
    spec = require_task(model_id, Task.BACKGROUND_REPLACEMENT)
    image = b64(cutout)
    grow = 0 if request.precise else BLEND_EDGE_PIXELS

    def paint() -> GeneratedImages:
        return one_call_per_image(
            client, model_id,
            lambda seed: stability.inpaint_body(image, request.prompt, None, request.negative, seed, grow_mask=grow),
            request.seed, request.count, spec.max_seed,
        )

    if not request.precise:
        return paint()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Decode the subject while the model paints, so only the paste is left afterwards.
        subject = pool.submit(subject_layer, cutout, photo)
        result = paint()
        layer = subject.result()
    return replace(result, images=tuple(paste_subject(png, layer) for png in result.images))


def subject_layer(cutout_png: bytes, photo: PreparedImage) -> Image.Image:
    """``photo``'s own pixels, transparent wherever ``cutout_png`` (cut from it) is."""
    with Image.open(io.BytesIO(cutout_png)) as cutout, Image.open(io.BytesIO(photo.data)) as original:
        layer = original.convert("RGBA")
        layer.putalpha(cutout.convert("RGBA").getchannel("A"))
    return layer


def paste_subject(background_png: bytes, subject: Image.Image) -> bytes:
    """``subject`` (a ``subject_layer``) pasted over ``background_png``, as PNG."""
    with Image.open(io.BytesIO(background_png)) as painted:
        result = painted.convert("RGB")
    if result.size != subject.size:  # a model may round the size; the subject must still line up
        result = result.resize(subject.size, Image.Resampling.BICUBIC)
    result.paste(subject, (0, 0), subject)
    out = io.BytesIO()
    result.save(out, "PNG", compress_level=1)
    return out.getvalue()
