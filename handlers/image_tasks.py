"""Pieces shared by every image-model task: the config block and running the call."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from handlers import stability
from handlers.bedrock import invoke_json
from handlers.errors import ModelBlocked, ModelUnsupported
from handlers.model_table import models_for
from handlers.models import ImageModelSpec, Task, image_model_spec
from handlers.stability import is_stability


@dataclass(frozen=True)
class GeneratedImages:
    """What an image model returned."""

    images: tuple[bytes, ...]
    model_id: str
    seed: int
    # How many requested images the output filter withheld (0 when all came back).
    blocked: int = 0
    # The seed of each image, where the model makes one image per seed (Stability).
    seeds: tuple[int, ...] = ()
    # The aspect ratio the model was asked for, where it takes a named one (Stability's enum).
    aspect_ratio: str = ""


def require_task(model_id: str, task: Task) -> ImageModelSpec:
    """The model's spec, or ``ModelUnsupported`` naming a model that can do ``task``."""
    spec = image_model_spec(model_id)
    if task not in spec.tasks:
        raise ModelUnsupported(model_id, task.value, models_for(task))
    return spec


def _generation_config(spec: ImageModelSpec, count: int, seed: int | None, **extra: Any) -> tuple[dict[str, Any], int]:
    """The ``imageGenerationConfig`` block and the seed it uses (random if none was fixed)."""
    chosen = seed if seed is not None else random.randint(0, spec.max_seed)
    config = {"numberOfImages": count, "seed": chosen, **{k: v for k, v in extra.items() if v is not None}}
    config.setdefault("cfgScale", spec.default_cfg_scale)
    return config, chosen


# Where each Titan/Nova generation task's parameters go in its request body.
_PARAMS_KEY = {
    Task.TEXT_IMAGE: "textToImageParams",
    Task.INPAINTING: "inPaintingParams",
    Task.OUTPAINTING: "outPaintingParams",
    Task.IMAGE_VARIATION: "imageVariationParams",
}


def run_amazon_task(client: Any, model_id: str, spec: ImageModelSpec, task: Task, params: dict[str, Any],
                    count: int, seed: int | None, negative: str = "", **config: Any) -> GeneratedImages:
    """One Titan/Nova generation call: ``task`` with ``params`` (and ``negative`` as its negativeText),
    ``count`` images from ``seed`` (random if None); ``config`` adds to the generation config."""
    if negative:
        params = {**params, "negativeText": negative}
    generation, chosen = _generation_config(spec, count, seed, **config)
    body = {"taskType": task.value, _PARAMS_KEY[task]: params, "imageGenerationConfig": generation}
    return run_task(client, model_id, body, chosen)


def run_task(client: Any, model_id: str, body: dict[str, Any], seed: int) -> GeneratedImages:
    """Invoke an image model and collect its images.

    The output filter reports blocked images in ``error`` and returns the rest;
    when nothing came back that is a refusal, otherwise a partial result.
    """
    response = invoke_json(client, model_id, body)
    if is_stability(model_id):
        kept, filtered = stability.parse_images(response)  # raises ModelBlocked when all were filtered
        return GeneratedImages(images=tuple(kept), model_id=model_id, seed=seed, blocked=filtered)
    images = tuple(base64.b64decode(item) for item in response.get("images") or ())
    requested = int(body.get("imageGenerationConfig", {}).get("numberOfImages", 1))
    if not images:
        raise ModelBlocked(response.get("error") or "The model returned no images.")
    return GeneratedImages(images=images[:requested], model_id=model_id, seed=seed,
                           blocked=max(0, requested - len(images)))


def one_call_per_image(client: Any, model_id: str, body: Callable[[int], dict[str, Any]], seed: int | None,
                       count: int, max_seed: int) -> GeneratedImages:
    """``count`` one-image calls (Stability makes one image per call) at once, on consecutive seeds.

    A call whose image the filter withheld counts as blocked; when every call was
    refused, the refusal is raised. Any other failure fails the whole request, so
    a retry sends the same seeds again.
    """
    first = seed if seed is not None else random.randint(0, max_seed)
    seeds = [(first + index) % (max_seed + 1) for index in range(count)]

    def call(one_seed: int) -> GeneratedImages | ModelBlocked:
        try:
            return run_task(client, model_id, body(one_seed), one_seed)
        except ModelBlocked as refusal:
            return refusal

    if count == 1:
        outcomes = [call(seeds[0])]  # no thread to start and join for a single call
    else:
        with ThreadPoolExecutor(max_workers=count) as pool:
            outcomes = list(pool.map(call, seeds))
    made = [(one_seed, outcome) for one_seed, outcome in zip(seeds, outcomes, strict=True)
            if isinstance(outcome, GeneratedImages)]
    if not made:
        raise next(outcome for outcome in outcomes if isinstance(outcome, ModelBlocked))
    return GeneratedImages(
        images=tuple(image for _, result in made for image in result.images), model_id=model_id, seed=first,
        blocked=count - len(made) + sum(result.blocked for _, result in made),
        seeds=tuple(one_seed for one_seed, result in made for _ in result.images),
    )


def b64(data: bytes) -> str:
    """Base64 text for an image field in a request body."""
    return base64.b64encode(data).decode("ascii")
