"""The format list and the crop/outpaint planner: the subject is never cut and every size comes out exact."""

from __future__ import annotations

import itertools

import pytest

from handlers.errors import PhotoTooSmall, UnknownFormat
from handlers.formats import (
    DEFAULT_FORMATS,
    MAX_UPSCALE,
    FormatPlan,
    FormatSettingError,
    FormatTarget,
    check_photo_size,
    format_file_name,
    parse_format_setting,
    pick_formats,
    plan_format,
    plan_formats,
)
from handlers.models import STABILITY_OUTPAINT
from handlers.stability import MAX_OUTPAINT_PIXELS

SQUARE, PORTRAIT, STORY, LANDSCAPE, BANNER = DEFAULT_FORMATS

# Photos of many shapes (up to the services' 2.5:1) and subjects in many places.
PHOTOS = [(4000, 3000), (3000, 4000), (4032, 4032), (6000, 2400), (2400, 6000), (2200, 1700), (5000, 2813)]


def subjects(width: int, height: int) -> list[tuple[int, int, int, int] | None]:
    return [
        None,
        (width // 3, height // 3, 2 * width // 3, 2 * height // 3),  # centre
        (0, 0, width // 4, height // 4),  # top-left corner
        (width * 3 // 4, height // 2, width, height),  # bottom-right
        (width // 10, height * 2 // 5, width * 9 // 10, height * 3 // 5),  # wide (a car)
        (width * 2 // 5, height // 10, width * 3 // 5, height * 9 // 10),  # tall (a person)
        (0, 0, width, height),  # fills the photo
    ]


def canvas_in_photo(plan: FormatPlan) -> tuple[float, float, float, float]:
    """The final canvas in photo pixels, from the crop and the margins."""
    x0, y0, x1, y1 = plan.crop
    sx, sy = plan.work_size[0] / (x1 - x0), plan.work_size[1] / (y1 - y0)
    m = plan.margins
    return x0 - m.left / sx, y0 - m.up / sy, x1 + m.right / sx, y1 + m.down / sy


CASES = [(size, subject, target) for size in PHOTOS for subject in subjects(*size) for target in DEFAULT_FORMATS]


@pytest.mark.parametrize(("size", "subject", "target"), CASES)
def test_plan_keeps_the_subject_whole_and_the_shape_exact(size: tuple[int, int], subject: tuple[int, int, int, int] | None,
                                                          target: FormatTarget) -> None:
    plan = plan_format(size, subject, target)
    x0, y0, x1, y1 = plan.crop
    assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]
    if subject is not None:
        # Every subject pixel is in the region kept; margins only add around it.
        assert x0 <= subject[0] and y0 <= subject[1] and subject[2] <= x1 and subject[3] <= y1, plan
    canvas_w, canvas_h = plan.canvas_size
    # The canvas has the target's shape to within a pixel, so the final resize does not distort.
    assert abs(canvas_w / canvas_h - target.width / target.height) <= 1.5 / min(canvas_w, canvas_h), plan
    if plan.outpaint:
        m = plan.margins
        assert all(0 <= side <= MAX_OUTPAINT_PIXELS for side in (m.left, m.right, m.up, m.down))
        work_w, work_h = plan.work_size
        assert min(work_w, work_h) >= STABILITY_OUTPAINT.min_side
        assert work_w * work_h <= STABILITY_OUTPAINT.max_pixels
        assert max(work_w, work_h) / min(work_w, work_h) <= STABILITY_OUTPAINT.max_aspect
        # It grows on one axis only, and past the photo on that axis: the photo is not cut there.
        assert (m.left or m.right) != (m.up or m.down)
        if m.up or m.down:
            assert (y0, y1) == (0, size[1])
        else:
            assert (x0, x1) == (0, size[0])
    else:
        assert plan.work_size == (target.width, target.height)


def test_a_subject_that_fits_is_cropped_around_not_at_the_centre() -> None:
    # A product at the left edge of a landscape photo, cut to a story.
    plan = plan_format((4000, 3000), (100, 1000, 900, 2000), STORY)
    assert not plan.outpaint
    x0, y0, x1, y1 = plan.crop
    assert x0 == 0 and y0 == 0 and y1 == 3000  # the full height, at the subject's side
    assert abs((x1 - x0) / (y1 - y0) - 1080 / 1920) < 0.001
    centre = plan_format((4000, 3000), None, STORY)
    assert centre.crop[0] == pytest.approx((4000 - (x1 - x0)) / 2, abs=1)


def test_a_subject_wider_than_the_shape_is_outpainted_above_and_below() -> None:
    # A car spanning most of a landscape photo cannot fit a 9:16 crop: the canvas grows.
    plan = plan_format((4000, 3000), (400, 1200, 3600, 2400), STORY)
    assert plan.outpaint
    m = plan.margins
    assert m.left == m.right == 0 and m.up > 0 and m.down > 0
    canvas = canvas_in_photo(plan)
    assert canvas[0] <= 400 and canvas[2] >= 3600
    # The smallest such canvas: about as wide as the padded car, so little is painted.
    assert canvas[2] - canvas[0] < 3200 * 1.2
    # Work size is about the target's, not the photo's.
    assert plan.canvas_size[0] == pytest.approx(1080, rel=0.01)


def test_banner_from_a_portrait_photo_grows_sideways() -> None:
    plan = plan_format((3000, 4000), (500, 1500, 2500, 2500), BANNER)
    assert plan.outpaint and plan.margins.up == plan.margins.down == 0
    assert plan.margins.left > 0 and plan.margins.right > 0


def test_outpaint_region_is_never_more_stretched_than_the_model_takes() -> None:
    tall = FormatTarget("skyscraper", 400, 1600)  # 1:4, narrower than Outpaint's 1:2.5 input
    plan = plan_format((4000, 3000), (1000, 1000, 3000, 2000), tall)
    work_w, work_h = plan.work_size
    assert plan.outpaint and work_h / work_w <= STABILITY_OUTPAINT.max_aspect + 0.01


def test_margins_stay_within_one_call_for_a_huge_target() -> None:
    huge = FormatTarget("poster", 4096, 1024)
    plan = plan_format((3000, 4000), (0, 0, 3000, 4000), huge)
    m = plan.margins
    assert plan.outpaint and max(m.left, m.right) <= MAX_OUTPAINT_PIXELS


@pytest.mark.parametrize(("size", "target"), list(itertools.product(
    [(1080, 1080), (2000, 1200), (1200, 2000)], DEFAULT_FORMATS)))
def test_every_default_format_fits_a_common_photo(size: tuple[int, int], target: FormatTarget) -> None:
    check_photo_size(size, (target,))


def test_a_photo_too_small_is_refused_with_the_size_it_needs() -> None:
    with pytest.raises(PhotoTooSmall) as caught:
        plan_formats((1024, 768), (100, 100, 500, 400), DEFAULT_FORMATS)
    error = caught.value
    assert (error.width, error.height) == (1024, 768)
    # Only the story needs more than twice the pixels of a 9:16 cut of this photo.
    assert error.targets == ("story 1080x1920",)
    assert (error.min_width, error.min_height) == (1280, 960)
    # A photo of the reported size passes, and one just smaller does not.
    check_photo_size((error.min_width, error.min_height), DEFAULT_FORMATS)
    with pytest.raises(PhotoTooSmall):
        check_photo_size((error.min_width - 4, error.min_height - 3), DEFAULT_FORMATS)
    assert 1080 / (error.min_height * 1080 / 1920) <= MAX_UPSCALE


def test_setting_parses_names_and_sizes() -> None:
    assert parse_format_setting("") == DEFAULT_FORMATS
    assert parse_format_setting(" Square=1080x1080, story = 1080 x 1920 ,") == (
        FormatTarget("square", 1080, 1080), FormatTarget("story", 1080, 1920))


@pytest.mark.parametrize(("text", "problem"), [
    ("square", "is not name=WxH"),
    ("square=1080", "is not name=WxH"),
    ("sq uare=10x10", "needs a name"),
    ("tiny=10x10", "needs sides of 64-4096"),
    ("a=100x100,a=200x200", "repeats a name"),
    (",", "names no format"),
])
def test_setting_errors_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(FormatSettingError) as caught:
        parse_format_setting(text)
    assert problem in str(caught.value) and "story=1080x1920" in str(caught.value)


def test_picking_formats_by_name() -> None:
    assert pick_formats("story,square") == (STORY, SQUARE)
    assert pick_formats(" Story  square, story") == (STORY, SQUARE)
    assert pick_formats("") == DEFAULT_FORMATS
    with pytest.raises(UnknownFormat) as caught:
        pick_formats("story,sqare")
    assert caught.value.name == "sqare"
    assert caught.value.known == ("square", "portrait", "story", "landscape", "banner")


def test_a_subject_that_fits_only_without_air_is_cropped_not_outpainted() -> None:
    # 1000 px tall subject, 1125 px tall 16:9 crop: too tight with 5% air each side, fine without.
    plan = plan_format((2000, 1500), (333, 250, 1667, 1250), LANDSCAPE)
    assert not plan.outpaint
    assert plan.crop[1] <= 250 and plan.crop[3] >= 1250


@pytest.mark.parametrize(("photo", "expected"), [
    ("IMG_0042.JPG", "IMG_0042-story-1080x1920.png"),
    ("summer campaign (final).jpeg", "summer-campaign-final-story-1080x1920.png"),
    ("no-extension", "no-extension-story-1080x1920.png"),
    ("../../etc/passwd", "passwd-story-1080x1920.png"),
    ("", "photo-story-1080x1920.png"),
])
def test_file_names(photo: str, expected: str) -> None:
    assert format_file_name(photo, STORY) == expected
