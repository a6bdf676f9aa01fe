"""Fitting an aspect ratio to a size the image model accepts."""

from __future__ import annotations

import math

from handlers.models import ImageModelSpec

# Generation looks best near one megapixel on every supported model, and it is
# the default size of both Titan and Nova.
TARGET_PIXELS = 1024 * 1024


def fit_size(spec: ImageModelSpec, ratio_w: int, ratio_h: int) -> tuple[int, int]:
    """The model-accepted (width, height) whose shape is closest to ``ratio_w:ratio_h``.

    Titan only takes a fixed list, so the closest list entry wins (ties go to
    the larger image). Nova takes any size within its rules, so the ratio is
    scaled to about one megapixel and rounded to the required multiple.
    """
    target = math.log(ratio_w / ratio_h)
    if spec.fixed_sizes is not None:
        return min(
            spec.fixed_sizes,
            key=lambda size: (abs(math.log(size[0] / size[1]) - target), -size[0] * size[1]),
        )
    ratio = min(max(ratio_w / ratio_h, 1 / spec.max_aspect), spec.max_aspect)
    width = _round_to(math.sqrt(TARGET_PIXELS * ratio), spec.side_multiple)
    height = _round_to(width / ratio, spec.side_multiple)
    width = min(max(width, spec.min_side), spec.max_side)
    height = min(max(height, spec.min_side), spec.max_side)
    return width, height


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)
