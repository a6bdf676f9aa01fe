"""Every social format from one photo: which formats, and how each is cut or grown.

A format is a name and an exact pixel size. For each one the planner picks the
region of the photo to keep and, where the photo is too narrow or too short
for the subject to fit that shape, how many pixels Outpaint must add per side;
a final resize gives the exact size. The subject's box comes from a Remove
Background mask, so crops follow the subject rather than the centre, and it is
never cut. The planner is pure; ``handlers.format_maker`` runs the plans.
No Pillow here: the Slack ingress parses format names with this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from handlers.errors import PhotoTooSmall, UnknownFormat
from handlers.models import STABILITY_OUTPAINT, ImageModelSpec
from handlers.stability import MAX_OUTPAINT_PIXELS


@dataclass(frozen=True)
class FormatTarget:
    """A named output size, e.g. ``story`` 1080x1920."""

    name: str
    width: int
    height: int

    @property
    def label(self) -> str:
        """``story 1080x1920``, for lists and errors."""
        return f"{self.name} {self.width}x{self.height}"


DEFAULT_FORMATS: tuple[FormatTarget, ...] = (
    FormatTarget("square", 1080, 1080),  # Instagram feed
    FormatTarget("portrait", 1080, 1350),  # Instagram feed, 4:5
    FormatTarget("story", 1080, 1920),  # Instagram/Facebook story, reel
    FormatTarget("landscape", 1920, 1080),
    FormatTarget("banner", 1584, 396),  # LinkedIn profile/page banner
)

# A result may enlarge the photo's pixels at most this much; beyond it the blur shows.
MAX_UPSCALE = 2.0
# Air left around the subject, as a share of its larger side, so it never touches the frame.
SUBJECT_MARGIN = 0.05
# Output sides Studio makes (Slack shows anything; this keeps a typo like 10800 from costing minutes).
MIN_FORMAT_SIDE, MAX_FORMAT_SIDE = 64, 4096
# (left, top, right, bottom) in pixels, right/bottom exclusive, as Pillow's crop takes it.
Box = tuple[int, int, int, int]
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_SIZE = re.compile(r"^(\d{1,5})\s*[x×]\s*(\d{1,5})$")


class FormatSettingError(ValueError):
    """``STUDIO_FORMATS`` is not a ``name=WxH,...`` list; ``entry`` is the part that is wrong."""

    def __init__(self, entry: str, problem: str) -> None:
        super().__init__(f"STUDIO_FORMATS: {entry!r} {problem} (expected name=WxH, e.g. story=1080x1920)")
        self.entry = entry
        self.problem = problem


def parse_format_setting(text: str) -> tuple[FormatTarget, ...]:
    """The formats of a ``name=WxH,...`` setting (``square=1080x1080, story=1080x1920``); empty means the defaults."""
    if not text.strip():
        return DEFAULT_FORMATS
    targets: list[FormatTarget] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, equals, size = (piece.strip() for piece in entry.partition("="))
        name = name.lower()
        match = _SIZE.match(size.lower())
        if not equals or not match:
            raise FormatSettingError(entry, "is not name=WxH")
        if not _NAME.match(name):
            raise FormatSettingError(entry, "needs a name of letters, digits, - or _")
        width, height = int(match.group(1)), int(match.group(2))
        if not (MIN_FORMAT_SIDE <= width <= MAX_FORMAT_SIDE and MIN_FORMAT_SIDE <= height <= MAX_FORMAT_SIDE):
            raise FormatSettingError(entry, f"needs sides of {MIN_FORMAT_SIDE}-{MAX_FORMAT_SIDE} px")
        if any(target.name == name for target in targets):
            raise FormatSettingError(entry, "repeats a name")
        targets.append(FormatTarget(name, width, height))
    if not targets:
        raise FormatSettingError(text, "names no format")
    return tuple(targets)


def pick_formats(text: str, available: tuple[FormatTarget, ...] = DEFAULT_FORMATS) -> tuple[FormatTarget, ...]:
    """The formats named in ``text`` (``story,square`` or ``story square``), in the order given; none means all.

    Raises ``UnknownFormat`` for a name not in ``available``, listing the known ones.
    """
    by_name = {target.name: target for target in available}
    picked: list[FormatTarget] = []
    for name in re.split(r"[\s,]+", text.strip().lower()):
        if not name:
            continue
        if name not in by_name:
            raise UnknownFormat(name, tuple(by_name))
        if by_name[name] not in picked:
            picked.append(by_name[name])
    return tuple(picked) or available


def format_file_name(photo_name: str, target: FormatTarget) -> str:
    """``<photo>-<format>-<W>x<H>.png``: the photo's name without its extension, made safe for a file."""
    stem = photo_name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem
    stem = re.sub(r"[^\w.-]+", "-", stem).strip("-.") or "photo"
    return f"{stem}-{target.name}-{target.width}x{target.height}.png"


@dataclass(frozen=True)
class Margins:
    """Pixels Outpaint adds on each side of the (resized) region; all zero means a plain crop."""

    left: int = 0
    right: int = 0
    up: int = 0
    down: int = 0

    def __bool__(self) -> bool:
        return any((self.left, self.right, self.up, self.down))


@dataclass(frozen=True)
class FormatPlan:
    """How one format is made: crop ``crop`` from the photo, resize it to ``work_size``,
    outpaint ``margins`` (if any), then resize to the target's exact size."""

    target: FormatTarget
    crop: Box
    work_size: tuple[int, int]
    margins: Margins

    @property
    def outpaint(self) -> bool:
        """True when the canvas grows, so the model must paint the new part."""
        return bool(self.margins)

    @property
    def canvas_size(self) -> tuple[int, int]:
        """The size of the image before the final resize."""
        m = self.margins
        return self.work_size[0] + m.left + m.right, self.work_size[1] + m.up + m.down


def check_photo_size(size: tuple[int, int], targets: tuple[FormatTarget, ...]) -> None:
    """Refuse, before any model call, a photo too small for some of ``targets``.

    The rule: the largest region of the target's shape that the photo holds may be
    enlarged at most ``MAX_UPSCALE`` times. A canvas that has to grow round the
    subject is larger than that region, so it never needs more enlarging.
    ``size`` is the photo as shown (``images.upright_size``).
    """
    width, height = size
    short = [(target, _upscale_of_largest_crop(size, target)) for target in targets]
    short = [(target, scale) for target, scale in short if scale > MAX_UPSCALE]
    if short:
        factor = max(scale for _, scale in short) / MAX_UPSCALE
        raise PhotoTooSmall(width, height, tuple(target.label for target, _ in short),
                            math.ceil(width * factor), math.ceil(height * factor))


def plan_formats(size: tuple[int, int], subject: Box | None, targets: tuple[FormatTarget, ...],
                 spec: ImageModelSpec = STABILITY_OUTPAINT) -> tuple[FormatPlan, ...]:
    """One plan per target for a photo of ``size`` whose subject lies in ``subject``.

    ``subject`` is None when no subject was found: the crops are then centred.
    ``spec`` gives the outpaint model's input limits. Raises ``PhotoTooSmall``.
    """
    check_photo_size(size, targets)
    return tuple(plan_format(size, subject, target, spec) for target in targets)


def plan_format(size: tuple[int, int], subject: Box | None, target: FormatTarget,
                spec: ImageModelSpec = STABILITY_OUTPAINT) -> FormatPlan:
    """The plan for one target (see ``plan_formats``); does not check the photo's size."""
    width, height = size
    ratio = target.width / target.height
    crop_w, crop_h = _largest_crop(size, ratio)
    # With air round the subject if it fits, else without: a tight crop beats paying the
    # model to paint a sliver.
    for margin in (SUBJECT_MARGIN, 0.0):
        tight = _padded_subject(size, subject, margin)
        if tight[2] - tight[0] <= crop_w and tight[3] - tight[1] <= crop_h:
            # The subject fits in the largest crop: keep as much photo as possible, centred on the subject.
            box = _place(tight, size, crop_w, crop_h)
            return FormatPlan(target, _round_box(box, size), (target.width, target.height), Margins())
    sx0, sy0, sx1, sy1 = _padded_subject(size, subject, SUBJECT_MARGIN)
    # The subject is too wide (or tall) for that shape: the canvas is the smallest box of the
    # shape around the subject, which runs past the photo on one axis only; that keeps the
    # painted area smallest.
    canvas_w = max(sx1 - sx0, (sy1 - sy0) * ratio)
    grows_down = canvas_w <= width  # the canvas is taller than the photo (else wider)
    # The photo part sent to Outpaint must itself be a shape the model takes (1% spare for rounding).
    max_aspect = spec.max_aspect * 0.99
    if grows_down:
        canvas_w = max(canvas_w, min(width, height / max_aspect))
    else:
        canvas_w = max(canvas_w, min(height, width / max_aspect) * ratio)
    canvas = _place((sx0, sy0, sx1, sy1), size, canvas_w, canvas_w / ratio)
    return _outpaint_plan(size, canvas, target, grows_down, spec)


def _outpaint_plan(size: tuple[int, int], canvas: tuple[float, float, float, float], target: FormatTarget,
                   grows_down: bool, spec: ImageModelSpec) -> FormatPlan:
    """Scale the canvas to about the target's size within the model's limits, then split the new pixels."""
    crop = _round_box(canvas, size)
    region_w, region_h = crop[2] - crop[0], crop[3] - crop[1]
    cx0, cy0, cx1, cy1 = canvas
    before, after = (crop[1] - cy0, cy1 - crop[3]) if grows_down else (crop[0] - cx0, cx1 - crop[2])
    scale = min(
        target.width / (cx1 - cx0),
        math.sqrt((spec.max_pixels - 1) / (region_w * region_h)),
        math.sqrt((spec.max_pixels - 1) / ((cx1 - cx0) * (cy1 - cy0))),
        (MAX_OUTPAINT_PIXELS - 1) / max(before, after, 1),
    )
    # Tiny regions go up to the model's smallest side (the final resize takes care of the rest).
    scale = max(scale, spec.min_side / min(region_w, region_h))
    # Rounding towards square keeps a region at the model's aspect limit within it.
    if region_w < region_h:
        work_w, work_h = math.ceil(region_w * scale), max(1, math.floor(region_h * scale))
    else:
        work_w, work_h = max(1, math.floor(region_w * scale)), math.ceil(region_h * scale)
    ratio = target.width / target.height
    extra = (round(work_w / ratio) - work_h) if grows_down else (round(work_h * ratio) - work_w)
    if extra <= 0:  # the canvas was within a rounding of the photo: a crop does
        return FormatPlan(target, crop, (target.width, target.height), Margins())
    first = min(extra, round(extra * before / (before + after))) if before + after > 0 else extra // 2
    margins = Margins(up=first, down=extra - first) if grows_down else Margins(left=first, right=extra - first)
    return FormatPlan(target, crop, (work_w, work_h), margins)


def _largest_crop(size: tuple[int, int], ratio: float) -> tuple[float, float]:
    width, height = size
    return (height * ratio, float(height)) if width / height >= ratio else (float(width), width / ratio)


def _upscale_of_largest_crop(size: tuple[int, int], target: FormatTarget) -> float:
    crop_w, _ = _largest_crop(size, target.width / target.height)
    return target.width / crop_w


def _padded_subject(size: tuple[int, int], subject: Box | None,
                    margin: float) -> tuple[float, float, float, float]:
    """The subject box with ``margin`` air around it, within the photo; a point at the centre when there is none."""
    width, height = size
    if subject is None:
        return width / 2, height / 2, width / 2, height / 2
    x0, y0, x1, y1 = subject
    pad = margin * max(x1 - x0, y1 - y0)
    return max(0.0, x0 - pad), max(0.0, y0 - pad), min(float(width), x1 + pad), min(float(height), y1 + pad)


def _place(subject: tuple[float, float, float, float], size: tuple[int, int], box_w: float,
           box_h: float) -> tuple[float, float, float, float]:
    """A ``box_w`` x ``box_h`` box centred on the subject, moved to stay inside the photo where it is
    smaller than the photo and to cover the photo where it is larger."""
    x = _clamp((subject[0] + subject[2]) / 2 - box_w / 2, size[0] - box_w)
    y = _clamp((subject[1] + subject[3]) / 2 - box_h / 2, size[1] - box_h)
    return x, y, x + box_w, y + box_h


def _clamp(start: float, slack: float) -> float:
    # slack >= 0: the box fits, start in [0, slack]; slack < 0: the box overhangs, start in [slack, 0].
    return min(max(start, min(0.0, slack)), max(0.0, slack))


def _round_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    """The part of ``box`` inside the photo, in whole pixels (never empty)."""
    x0, y0 = max(0, math.floor(box[0] + 1e-6)), max(0, math.floor(box[1] + 1e-6))
    x1, y1 = min(size[0], math.ceil(box[2] - 1e-6)), min(size[1], math.ceil(box[3] - 1e-6))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)
