"""Fitting aspect ratios to the sizes each model accepts."""

from __future__ import annotations

import pytest

from bot.commands.parsers import IMAGINE_RATIOS, NAMED_RATIOS
from handlers.models import NOVA_CANVAS, TITAN_V1, TITAN_V2, UnknownModel, image_model_spec
from handlers.sizes import fit_size


@pytest.mark.parametrize(
    ("ratio", "size"),
    [((1, 1), (1024, 1024)), ((16, 9), (1152, 640)),
     ((3, 2), (1152, 768)), ((2, 3), (768, 1152)), ((4, 3), (1152, 896)), ((3, 4), (896, 1152))],
)
def test_titan_picks_closest_listed_size(ratio: tuple[int, int], size: tuple[int, int]) -> None:
    assert fit_size(TITAN_V2, *ratio) == size


@pytest.mark.parametrize("spec", [TITAN_V1, TITAN_V2, NOVA_CANVAS])
@pytest.mark.parametrize("ratio", [*IMAGINE_RATIOS, *NAMED_RATIOS.values()])
def test_every_ratio_fits_a_size_the_model_accepts(spec, ratio: str) -> None:
    ratio_w, ratio_h = (int(part) for part in ratio.split(":"))
    width, height = fit_size(spec, ratio_w, ratio_h)
    assert spec.accepts_size(width, height)
    assert abs(width / height - ratio_w / ratio_h) / (ratio_w / ratio_h) < 0.12


def test_nova_keeps_shape_near_one_megapixel() -> None:
    assert fit_size(NOVA_CANVAS, 16, 9) == (1360, 768)
    assert fit_size(NOVA_CANVAS, 1, 1) == (1024, 1024)


def test_model_ids_with_profiles_and_arns_resolve() -> None:
    assert image_model_spec("us.amazon.nova-canvas-v1:0") is NOVA_CANVAS
    assert image_model_spec("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-image-generator-v1") is TITAN_V1
    with pytest.raises(UnknownModel):
        image_model_spec("stability.sd3-large-v1:0")


def test_nova_reaches_its_extreme_ratios() -> None:
    assert fit_size(NOVA_CANVAS, 4, 1) == (2048, 512)
    assert fit_size(NOVA_CANVAS, 1, 4) == (512, 2048)
