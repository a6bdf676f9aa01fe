"""Request bodies and response parsing for the Stability AI models on Bedrock.

Stability models take a flat JSON body (``prompt``, ``negative_prompt``,
``aspect_ratio``, ``seed``, ``output_format``, ``image``...) instead of the
Titan/Nova ``taskType`` schema, return exactly one image per call, and report
content-filter refusals in the body (HTTP 200, ``finish_reasons``) rather than as
a ``ValidationException``. Sources: AWS Bedrock user guide pages "Stable Image
Core request and response", "Stable Image Ultra request and response",
"Stability.ai Stable Diffusion 3.5 Large" and "Stability AI Image Services";
input-image limits come from Stability's API reference, which those pages point
to. Everything here is pure: no boto3 client, no Slack, no environment.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Any

from handlers.errors import ModelBlocked, ModelFailed
from handlers.models import base_model_id

# The aspect_ratio enum of Core, Ultra and SD3.5 (default "1:1"); there is no width/height.
STABILITY_ASPECT_RATIOS: tuple[str, ...] = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")

# prompt and negative_prompt: "Maximum 10,000 characters" (AWS model pages).
MAX_PROMPT_CHARS = 10_000
# seed: 0 asks for a random seed; the upper bound is 4,294,967,294 (Stability API reference).
MAX_SEED = 4_294_967_294
# Outpaint: left/right/up/down are 0-2000 px each and at least one must be > 0.
MAX_OUTPAINT_PIXELS = 2_000

# Input image limits of the Image Services are part of their specs in handlers.models.

# Model ids live in handlers.model_table.

# finish_reasons values that mean a content filter withheld the image.
_FILTER_PREFIX = "Filter reason:"


def is_stability(model_id: str) -> bool:
    """True for any Stability AI model id, bare, profile-prefixed or as an ARN."""
    return base_model_id(model_id).startswith("stability.")


def _check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be 0-{MAX_SEED}, got {seed}")


def _with_negative(body: dict[str, Any], negative: str) -> dict[str, Any]:
    # Bedrock's schema rejects an empty string (minLength 1), so leave the key out.
    if negative:
        body["negative_prompt"] = negative[:MAX_PROMPT_CHARS]
    return body


def text_to_image_body(prompt: str, negative: str, aspect_ratio: str, seed: int,
                       output_format: str = "png") -> dict[str, Any]:
    """Body for Stable Image Core / Ultra / SD3.5 Large text-to-image (one image per call).

    ``output_format`` is ``png`` or ``jpeg``: Core and Ultra refuse ``webp``.
    """
    if aspect_ratio not in STABILITY_ASPECT_RATIOS:
        raise ValueError(f"aspect_ratio must be one of {', '.join(STABILITY_ASPECT_RATIOS)}")
    if output_format not in ("png", "jpeg"):
        raise ValueError("output_format must be png or jpeg")
    _check_seed(seed)
    body = {"prompt": prompt[:MAX_PROMPT_CHARS], "aspect_ratio": aspect_ratio, "seed": seed,
            "output_format": output_format}
    return _with_negative(body, negative)


def image_to_image_body(model_id: str, image_b64: str, prompt: str, negative: str, strength: float,
                        seed: int) -> dict[str, Any]:
    """Body for image-to-image on Ultra (``image`` + ``strength``) or SD3.5 Large (``mode``).

    ``strength`` 0-1: how far the result may move from the image (0 keeps it). The
    output takes the input's shape, so there is no ``aspect_ratio``.
    """
    if not 0 <= strength <= 1:
        raise ValueError("strength must be 0-1")
    _check_seed(seed)
    body: dict[str, Any] = {"prompt": prompt[:MAX_PROMPT_CHARS], "image": image_b64, "strength": strength,
                            "seed": seed, "output_format": "png"}
    if "sd3-5" in model_id:
        body["mode"] = "image-to-image"
    return _with_negative(body, negative)


def upscale_body(kind: str, image_b64: str, prompt: str, seed: int) -> dict[str, Any]:
    """Body for the upscalers: ``fast`` takes only the image; conservative and creative a prompt too."""
    if kind == "fast":
        return {"image": image_b64, "output_format": "png"}
    _check_seed(seed)
    return {"image": image_b64, "prompt": prompt[:MAX_PROMPT_CHARS], "seed": seed, "output_format": "png"}


def search_replace_body(image_b64: str, search_prompt: str, prompt: str, negative: str,
                        seed: int) -> dict[str, Any]:
    """Body for Search and Replace: the model finds ``search_prompt`` and paints ``prompt`` there.

    It needs no mask, which makes it the Stability counterpart of Titan/Nova
    inpainting with ``maskPrompt``.
    """
    _check_seed(seed)
    body = {"image": image_b64, "search_prompt": search_prompt[:MAX_PROMPT_CHARS],
            "prompt": prompt[:MAX_PROMPT_CHARS], "seed": seed, "output_format": "png"}
    return _with_negative(body, negative)


def inpaint_body(image_b64: str, prompt: str, mask_b64: str | None, negative: str, seed: int,
                 grow_mask: int | None = None) -> dict[str, Any]:
    """Body for Inpaint. ``mask_b64``: WHITE repaints, BLACK keeps (the opposite of Titan/Nova).

    Without a mask the service uses the image's alpha channel (transparent = repaint).
    Use :func:`invert_mask_png` on a Titan/Nova-style mask before passing it here.
    ``grow_mask`` (0-100 px) widens the repainted area so the edge blends.
    """
    _check_seed(seed)
    body: dict[str, Any] = {"image": image_b64, "prompt": prompt[:MAX_PROMPT_CHARS], "seed": seed,
                            "output_format": "png"}
    if grow_mask is not None:
        body["grow_mask"] = grow_mask
    if mask_b64 is not None:
        body["mask"] = mask_b64
    return _with_negative(body, negative)


def outpaint_body(image_b64: str, left: int, right: int, up: int, down: int, prompt: str,
                  seed: int) -> dict[str, Any]:
    """Body for Outpaint: grow the canvas by the given pixels per side (0-2000, one > 0)."""
    sides = {"left": left, "right": right, "up": up, "down": down}
    if any(not 0 <= value <= MAX_OUTPAINT_PIXELS for value in sides.values()):
        raise ValueError(f"left/right/up/down must be 0-{MAX_OUTPAINT_PIXELS} pixels")
    if not any(sides.values()):
        raise ValueError("outpainting needs at least one of left/right/up/down > 0")
    _check_seed(seed)
    body: dict[str, Any] = {"image": image_b64, **{k: v for k, v in sides.items() if v}, "seed": seed,
                            "output_format": "png"}
    if prompt:
        body["prompt"] = prompt[:MAX_PROMPT_CHARS]
    return body


def remove_background_body(image_b64: str) -> dict[str, Any]:
    """Body for Remove Background; PNG keeps the alpha channel (JPEG is refused)."""
    return {"image": image_b64, "output_format": "png"}


def parse_images(response: dict[str, Any]) -> tuple[list[bytes], int]:
    """Images from a Stability response and how many the content filter withheld.

    A refusal is HTTP 200 with ``finish_reasons`` like ``["Filter reason: prompt"]``
    (the ``images`` key may be missing). Raises ``ModelBlocked`` when every image was
    filtered and ``ModelFailed`` when none came back for another reason.
    """
    reasons = list(response.get("finish_reasons") or [])
    encoded = list(response.get("images") or [])
    images: list[bytes] = []
    filtered = 0
    for index in range(max(len(reasons), len(encoded))):
        reason = reasons[index] if index < len(reasons) else None
        item = encoded[index] if index < len(encoded) else None
        if reason is not None:
            filtered += str(reason).startswith(_FILTER_PREFIX)
            continue
        if item:
            try:
                images.append(base64.b64decode(item, validate=True))
            except (binascii.Error, ValueError):
                raise ModelFailed("bad_image_data") from None
    if images:
        return images, filtered
    problems = [str(r) for r in reasons if r is not None]
    if filtered and filtered == len(problems):
        raise ModelBlocked(problems[0])
    raise ModelFailed("no_image", detail=", ".join(problems) or "empty response")


def closest_aspect_ratio(width: int, height: int) -> str:
    """The enum value nearest to ``width``:``height``.

    Compared on a log scale, so 2:1 and 1:2 are equally far from 1:1.
    """
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - target)

    return min(STABILITY_ASPECT_RATIOS, key=distance)



def invert_mask_png(mask_png: bytes) -> bytes:
    """A Titan/Nova mask (black = change) as a Stability mask (white = change), as PNG bytes."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(mask_png)) as img:
        inverted = ImageOps.invert(img.convert("L"))
    out = io.BytesIO()
    inverted.save(out, format="PNG")
    return out.getvalue()


# Style Guide fidelity: how closely the result's style follows the reference, 0-1, default 0.5.
DEFAULT_STYLE_FIDELITY = 0.5


def style_guide_body(image_b64: str, prompt: str, negative: str, aspect_ratio: str, seed: int,
                     fidelity: float = DEFAULT_STYLE_FIDELITY) -> dict[str, Any]:
    """Body for Style Guide: a new image of ``prompt`` in the style of the reference ``image``.

    Unlike image-to-image, the output takes ``aspect_ratio`` (the generators' enum),
    not the reference's shape.
    """
    if aspect_ratio not in STABILITY_ASPECT_RATIOS:
        raise ValueError(f"aspect_ratio must be one of {', '.join(STABILITY_ASPECT_RATIOS)}")
    if not 0 <= fidelity <= 1:
        raise ValueError("fidelity must be 0-1")
    _check_seed(seed)
    body = {"image": image_b64, "prompt": prompt[:MAX_PROMPT_CHARS], "aspect_ratio": aspect_ratio,
            "fidelity": fidelity, "seed": seed, "output_format": "png"}
    return _with_negative(body, negative)
