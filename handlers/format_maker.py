"""Making every format of a photo: find the subject once, then crop or outpaint each format in parallel."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PIL import Image

from handlers import stability
from handlers.edit_tasks import remove_background
from handlers.errors import ModelBlocked, ModelUnsupported
from handlers.formats import Box, FormatPlan, FormatTarget, check_photo_size, plan_formats
from handlers.image_tasks import b64, require_task, run_task
from handlers.images import check_aspect, decode_rgb, encode, model_input, shrink
from handlers.model_table import STABILITY_OUTPAINT
from handlers.models import Task
from handlers.stability import is_stability

# The photo is worked on at up to 12 MP: a phone photo whole, so a crop keeps every pixel it can.
WORK_MAX_PIXELS = 12_000_000
# A bounding box needs no detail: Remove Background gets a ~1 MP copy, which uploads and runs faster.
SUBJECT_MAX_PIXELS = 1_048_576
# Mask pixels at least this opaque belong to the subject (soft edges and haze do not move the box).
SUBJECT_ALPHA = 128


@dataclass(frozen=True)
class FormatResult:
    """One format of the photo: a PNG of exactly the target's size, or the filter's refusal."""

    target: FormatTarget
    png: bytes | None
    outpainted: bool
    # The content filter's reason when it refused the outpainted part (``png`` is then None).
    blocked: str = ""


def make_formats(client: Any, photo: bytes, targets: tuple[FormatTarget, ...], *, remove_bg_model: str,
                 outpaint_model: str, prompt: str = "", seed: int | None = None) -> list[FormatResult]:
    """Every target made from ``photo`` (image bytes as posted), in the order of ``targets``.

    One Remove Background call finds the subject; each target is then cropped
    round it, or outpainted (Stability Outpaint, ``prompt`` describing the new
    surroundings, all on one ``seed`` so a retry paints the same) where the
    subject does not fit the shape, all at once. Raises ``PhotoTooSmall`` before
    any model call, ``InvalidImage`` for an unusable photo, ``ModelUnsupported``
    for a non-Stability outpaint model, and any model error but a content-filter
    refusal, which is reported per format instead.
    """
    spec = require_task(outpaint_model, Task.OUTPAINTING)
    if not is_stability(outpaint_model):
        # Titan/Nova outpaint to a mask at their own sizes; the planner speaks Stability's margins.
        raise ModelUnsupported(outpaint_model, Task.OUTPAINTING.value, (STABILITY_OUTPAINT,))
    image = decode_rgb(photo, max_pixels=WORK_MAX_PIXELS)
    check_photo_size(image.size, targets)
    check_aspect(image.width, image.height, spec)
    subject = find_subject(client, remove_bg_model, image)
    plans = plan_formats(image.size, subject, targets, spec)
    chosen = seed if seed is not None else random.randint(1, spec.max_seed)

    def make(plan: FormatPlan) -> FormatResult:
        try:
            return FormatResult(plan.target, render(client, outpaint_model, image, plan, prompt, chosen), plan.outpaint)
        except ModelBlocked as refusal:
            return FormatResult(plan.target, None, plan.outpaint, blocked=str(refusal))

    with ThreadPoolExecutor(max_workers=max(1, len(plans))) as pool:
        return list(pool.map(make, plans))


def find_subject(client: Any, model_id: str, image: Image.Image) -> Box | None:
    """The box of ``image``'s subject, from a Remove Background mask; None when nothing was kept."""
    spec = require_task(model_id, Task.BACKGROUND_REMOVAL)
    small = shrink(image, max_pixels=SUBJECT_MAX_PIXELS)
    cutout = remove_background(client, model_id, model_input(small, spec)).images[0]
    return subject_box(cutout, image.size)


def subject_box(cutout_png: bytes, size: tuple[int, int]) -> Box | None:
    """The opaque part of a cut-out, scaled to a photo of ``size`` (rounded outwards)."""
    with Image.open(io.BytesIO(cutout_png)) as cutout:
        alpha = cutout.convert("RGBA").getchannel("A")
    box = alpha.point(lambda value: 255 if value >= SUBJECT_ALPHA else 0).getbbox()
    if box is None:
        return None
    sx, sy = size[0] / alpha.width, size[1] / alpha.height
    return (int(box[0] * sx), int(box[1] * sy), min(size[0], -int(-box[2] * sx)), min(size[1], -int(-box[3] * sy)))


def render(client: Any, outpaint_model: str, image: Image.Image, plan: FormatPlan, prompt: str, seed: int) -> bytes:
    """One format as PNG bytes of exactly the target's size: crop, resize, outpaint if planned, resize."""
    region = image.crop(plan.crop).resize(plan.work_size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    if plan.outpaint:
        m = plan.margins
        body = stability.outpaint_body(b64(encode(region, "png").data), m.left, m.right, m.up, m.down, prompt, seed)
        painted = run_task(client, outpaint_model, body, seed).images[0]
        with Image.open(io.BytesIO(painted)) as canvas:
            region = canvas.convert("RGB")
    size = (plan.target.width, plan.target.height)
    if region.size != size:
        region = region.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    return encode(region, "png").data
