"""A local fake of the Amazon Bedrock Runtime service for tests.

The fake is a small HTTP server that speaks the same REST-JSON wire protocol as
``bedrock-runtime`` (InvokeModel and Converse), so the *real* boto3 client can be
pointed at it with ``endpoint_url=`` or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and
used unmodified. It validates requests the way the real service does (per the
AWS documentation: the comment next to each constant says which page), so a
wrong payload fails in tests the same way it would fail in production, with the
same ``ClientError`` code and a message worded like the real one.

Note: ``Config(retries={"max_attempts": 1})`` still makes botocore retry once
(standard mode turns it into two total attempts); use
``{"total_max_attempts": 1}`` or ``FakeBedrock.client()`` for no retries.

Usage::

    with FakeBedrock() as fake:
        client = boto3.client("bedrock-runtime", endpoint_url=fake.url, ...)
        ...
        assert fake.invocations("TEXT_IMAGE")[0].body["imageGenerationConfig"]["width"] == 1024

The same server also answers the Bedrock *control plane* call GetFoundationModel
(``GET /foundation-models/{id}``, service ``bedrock``); point
``AWS_ENDPOINT_URL_BEDROCK`` (or ``endpoint_url=``) of a ``bedrock`` client at
``fake.url``. InvokeModel understands Titan, Nova Canvas and the Stability AI
models (Stable Image Core/Ultra, SD3.5 Large and the Stability AI Image
Services, Style Guide included); see ``_validate_stability`` for their rules.
Converse understands Claude, including the newer models that refuse sampling
parameters (``CLAUDE_NO_SAMPLING``). Model lifecycle and account faults are knobs:
``retire``, ``legacy_unused``, ``block_account``, ``pending_subscription``.

Only the standard library and Pillow are used.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageDraw

__all__ = [
    "BedrockCall",
    "FakeBedrock",
    "decode_image",
    "encode_image",
    "ERROR_STATUS",
    "TITAN_SIZES",
    "STABILITY_MODELS",
    "STABILITY_OUTPUT_SIZES",
    "AWS_END_OF_LIFE",
    "CLAUDE_HAIKU_4_5",
    "CLAUDE_HAIKU_5_5",
    "CLAUDE_NO_SAMPLING",
    "CLAUDE_ONE_SAMPLING_PARAM",
    "STYLE_GUIDE",
]

# --------------------------------------------------------------------------------------
# Wire-level facts
# --------------------------------------------------------------------------------------

# HTTP status per error code, from botocore/data/bedrock-runtime/2023-09-30/service-2.json
# (each error shape's "httpStatusCode"). botocore's rest-json parser takes the error
# code from the ``x-amzn-ErrorType`` header (text before ':') and the message from the
# JSON body's ``message`` key, so that is exactly what we send.
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "ConflictException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ModelErrorException": 424,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    # Not in the service model: raised by the AWS front door before the service.
    "MissingAuthenticationTokenException": 403,
    "IncompleteSignatureException": 403,
    "InvalidSignatureException": 403,
    "UnknownOperationException": 404,
}

# Default messages. The ones marked (seen) are wording reported verbatim from the real
# service in public issues/code; the others are plausible stand-ins.
DEFAULT_MESSAGES: dict[str, str] = {
    # (seen) many Bedrock users' logs
    "ThrottlingException": "Too many requests, please wait before trying again.",
    # (seen)
    "AccessDeniedException": "You don't have access to the model with the specified model ID.",
    "ModelNotReadyException": "Model is not ready for inference. Wait and try your request again.",
    # (seen as "Bedrock is unable to process your request")
    "ServiceUnavailableException": "Bedrock is unable to process your request.",
    "ModelTimeoutException": "Model has timed out in processing the request. Try your request again.",
    "InternalServerException": "The system encountered an unexpected error during processing. Try your request again.",
    "ModelErrorException": "The system encountered an unexpected error during processing. Try your request again.",
    "ResourceNotFoundException": "The requested resource could not be found.",
    "ServiceQuotaExceededException": "Your request exceeds the service quota for your account.",
    "ValidationException": "Malformed input request, please reformat your input and try again.",
}

# (seen) "ValidationException: The provided model identifier is invalid."
MSG_INVALID_MODEL = "The provided model identifier is invalid."
# (seen) note the typographic apostrophe in "isn’t" - the real service sends U+2019.
MSG_NEEDS_PROFILE = (
    "Invocation of model ID {model} with on-demand throughput isn\u2019t supported. "
    "Retry your request with the ID or ARN of an inference profile that contains this model."
)
# (seen) Converse conversation-shape errors.
MSG_START_WITH_USER = (
    "A conversation must start with a user message. "
    "Try again with a conversation that starts with a user message."
)
MSG_ALTERNATE_ROLES = (
    "A conversation must alternate between user and assistant roles. "
    "Make sure the conversation alternates between user and assistant roles and try again."
)
# (seen) Prefix Bedrock puts on errors passed through from the model provider.
MODEL_ERRORS = "The model returned the following errors: "
# Converse against a non-chat model (stand-in wording).
MSG_CONVERSE_UNSUPPORTED = (
    "This action doesn't support the model that you provided. "
    "Try again with a supported text or chat model."
)
# (seen) Titan wording for a prompt caught by the input filter.
MSG_TITAN_INPUT_BLOCKED = (
    "This request has been blocked by our content filters. Our filters automatically flagged "
    "this prompt because it may conflict our AUP or AWS Responsible AI Policy. "
    "Please adjust your text prompt to submit a new request."
)
# Nova Canvas user guide, "Error handling": RAI input deflection messages.
MSG_INPUT_TEXT_BLOCKED = (
    "This request has been blocked by our content filters. "
    "Please adjust your text prompt to submit a new request."
)
MSG_INPUT_IMAGE_BLOCKED = (
    "This request has been blocked by our content filters. "
    "Please adjust your input image to submit a new request."
)
# Nova Canvas user guide, "Error handling": RAI output deflection -> 200 with `error`.
MSG_OUTPUT_SOME_BLOCKED = "Some of the generated images have been blocked by our content filters."
MSG_OUTPUT_ALL_BLOCKED = "All of the generated images have been blocked by our content filters."

# --------------------------------------------------------------------------------------
# Image model facts
# --------------------------------------------------------------------------------------

TITAN_V1 = "amazon.titan-image-generator-v1"
TITAN_V2 = "amazon.titan-image-generator-v2:0"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"

# Base model id -> family. ``:0`` alias for Titan v1 is also listed on the
# Bedrock model-id page.
IMAGE_MODELS: dict[str, str] = {
    TITAN_V1: "titan-v1",
    "amazon.titan-image-generator-v1:0": "titan-v1",
    TITAN_V2: "titan-v2",
    NOVA_CANVAS: "nova",
}

# Task types per family. Titan page (model-parameters-titan-image): TEXT_IMAGE,
# INPAINTING, OUTPAINTING, IMAGE_VARIATION for both; COLOR_GUIDED_GENERATION and
# BACKGROUND_REMOVAL are "V2 only". Nova Canvas supports all of them (plus
# VIRTUAL_TRY_ON, which this fake does not implement). "Image conditioning" is not a
# task type: it is TEXT_IMAGE with textToImageParams.conditionImage (v2/Nova only).
TASK_PARAMS: dict[str, str] = {
    "TEXT_IMAGE": "textToImageParams",
    "INPAINTING": "inPaintingParams",
    "OUTPAINTING": "outPaintingParams",
    "IMAGE_VARIATION": "imageVariationParams",
    "COLOR_GUIDED_GENERATION": "colorGuidedGenerationParams",
    "BACKGROUND_REMOVAL": "backgroundRemovalParams",
}
FAMILY_TASKS: dict[str, frozenset[str]] = {
    "titan-v1": frozenset({"TEXT_IMAGE", "INPAINTING", "OUTPAINTING", "IMAGE_VARIATION"}),
    "titan-v2": frozenset(TASK_PARAMS),
    "nova": frozenset(TASK_PARAMS),
}
EDIT_TASKS = frozenset({"INPAINTING", "OUTPAINTING", "BACKGROUND_REMOVAL"})

# Titan text-to-image (and variation/colour-guided) output sizes: the table
# "The following sizes are permissible" on model-parameters-titan-image (same list for
# G1 v1 and v2), width x height.
TITAN_SIZES: frozenset[tuple[int, int]] = frozenset(
    {
        (1024, 1024), (768, 768), (512, 512),
        (768, 1152), (384, 576), (1152, 768), (576, 384),
        (768, 1280), (384, 640), (1280, 768), (640, 384),
        (896, 1152), (448, 576), (1152, 896), (576, 448),
        (768, 1408), (384, 704), (1408, 768), (704, 384),
        (640, 1408), (320, 704), (1408, 640), (704, 320),
        (1152, 640), (1173, 640),
    }
)
# Titan input images (in/outpainting, variation, conditioning, reference, background
# removal): "<= 1,408 on the longer side" (model-parameters-titan-image) and
# "Max input image size - 5 MB" (titan-image-models). JPEG or PNG only.
TITAN_MAX_INPUT_SIDE = 1408
TITAN_MAX_INPUT_BYTES = 5 * 1024 * 1024
# Titan prompt limits: text and negativeText "<= 512 characters".
TITAN_MAX_TEXT = 512

# Nova Canvas "Supported image resolutions": each side 320-4096 px inclusive, evenly
# divisible by 16, aspect ratio between 1:4 and 4:1, total pixels "less than 4,194,304".
# 2048x2048 (= 4,194,304) is priced and offered by AWS, so the cap is applied as <=.
# The input-image section points at the same table for input sizes.
NOVA_MIN_SIDE = 320
NOVA_MAX_SIDE = 4096
NOVA_SIDE_MULTIPLE = 16
NOVA_MAX_ASPECT = 4
NOVA_MAX_PIXELS = 4_194_304
# Nova Canvas text / negativeText: "must be 1-1024 characters in length".
NOVA_MAX_TEXT = 1024

# Shared imageGenerationConfig ranges (Titan and Nova): numberOfImages 1-5,
# cfgScale 1.1-10.0, quality standard|premium. Seeds: Titan 0-2,147,483,646; Nova
# 0-858,993,459 (the AWS Nova Canvas code examples: "random seed between 0 and
# 858,993,459"). Defaults: Titan seed 42 / cfg 8.0, Nova seed 12 / cfg 6.5.
MIN_IMAGES, MAX_IMAGES = 1, 5
MIN_CFG, MAX_CFG = 1.1, 10.0
SEED_MAX = {"titan-v1": 2_147_483_646, "titan-v2": 2_147_483_646, "nova": 858_993_459}
DEFAULT_SEED = {"titan-v1": 42, "titan-v2": 42, "nova": 12}
QUALITIES = ("standard", "premium")
DEFAULT_SIZE = 1024
MAX_VARIATION_IMAGES = 5
MIN_SIMILARITY, MAX_SIMILARITY = 0.2, 1.0
MAX_COLORS = 10
CONTROL_MODES = ("CANNY_EDGE", "SEGMENTATION")
OUTPAINTING_MODES = ("DEFAULT", "PRECISE")
NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH", "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION", "MAXIMALISM", "MIDCENTURY_RETRO", "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)

# --------------------------------------------------------------------------------------
# Stability AI facts
# --------------------------------------------------------------------------------------

# Text-to-image models (AWS user guide: "Stable Image Core request and response",
# "Stable Image Ultra request and response", "Stability.ai Stable Diffusion 3.5 Large").
# One image per call; the body is flat JSON (prompt, negative_prompt, aspect_ratio,
# seed, output_format[, mode]). Invocable by the bare id (on-demand) in their regions.
STABILITY_GENERATORS: dict[str, str] = {
    "stability.stable-image-core-v1:0": "core",
    "stability.stable-image-core-v1:1": "core",
    "stability.stable-image-ultra-v1:0": "ultra",
    "stability.stable-image-ultra-v1:1": "ultra",
    "stability.sd3-5-large-v1:0": "sd3.5",
}
# Stability AI Image Services (AWS user guide "Stability AI Image Services"). Bedrock
# lists them with inferenceTypesSupported = [INFERENCE_PROFILE] only, and every AWS code
# sample calls them as ``us.stability....``: the bare id is refused like a newer Claude.
# Of the Control/Style services only Style Guide is implemented (sketch, structure and
# style transfer are not).
STYLE_GUIDE = "stability.stable-image-style-guide-v1:0"
STABILITY_SERVICES: dict[str, str] = {
    "stability.stable-image-search-replace-v1:0": "search-replace",
    "stability.stable-image-search-recolor-v1:0": "search-recolor",
    "stability.stable-image-inpaint-v1:0": "inpaint",
    "stability.stable-outpaint-v1:0": "outpaint",
    "stability.stable-image-remove-background-v1:0": "remove-background",
    "stability.stable-image-erase-object-v1:0": "erase",
    "stability.stable-creative-upscale-v1:0": "creative-upscale",
    "stability.stable-conservative-upscale-v1:0": "conservative-upscale",
    "stability.stable-fast-upscale-v1:0": "fast-upscale",
    STYLE_GUIDE: "style-guide",
}
STABILITY_MODELS: dict[str, str] = {**STABILITY_GENERATORS, **STABILITY_SERVICES}

# aspect_ratio enum, default 1:1 (same list on the Core, Ultra and SD3.5 pages).
STABILITY_ASPECT_RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
# Output size per aspect ratio. AWS only says "1 megapixel" (SD3.5) and "640 to 1,536 px"
# a side (Core); these are Stability's ~1 MP buckets for those ratios. The exact pixels
# Bedrock returns per ratio (and whether Ultra is larger) are NOT verified.
STABILITY_OUTPUT_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "21:9": (1536, 640),
    "9:21": (640, 1536), "3:2": (1216, 832), "2:3": (832, 1216), "5:4": (1088, 896),
    "4:5": (896, 1088),
}
# prompt / negative_prompt: "Maximum 10,000 characters". seed: 0 (= random) to
# 4,294,967,294 (Stability API reference; one AWS translation says ...295).
STABILITY_MAX_TEXT = 10_000
STABILITY_SEED_MAX = 4_294_967_294
# output_format: Core/Ultra take jpeg|png (AWS Core page: "JPEG, PNG"; a Bedrock client
# project reports webp is rejected); SD3.5 and the services also take webp. Remove
# background returns an alpha channel, so png|webp only (Stability API reference).
STABILITY_FORMATS = {"core": ("jpeg", "png"), "ultra": ("jpeg", "png")}
STABILITY_FORMATS_DEFAULT = ("jpeg", "png", "webp")
STABILITY_FORMATS_REMOVE_BG = ("png", "webp")
STABILITY_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
STYLE_PRESETS = (
    "3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
    "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk",
    "origami", "photographic", "pixel-art", "tile-texture",
)
# Input images (Stability API reference for the edit/upscale services; the AWS pages
# point there): jpeg/png/webp, every side >= 64 px, 4,096 to 9,437,184 pixels, aspect
# ratio between 1:2.5 and 2.5:1. Remove background caps at 4,194,304 pixels, creative
# upscale at 1,048,576; fast upscale takes 32-1,536 px a side and 1,024-1,048,576 pixels.
STABILITY_MIN_SIDE = 64
STABILITY_MIN_PIXELS = 4_096
STABILITY_MAX_PIXELS = 9_437_184
STABILITY_MAX_ASPECT = 2.5
STABILITY_MAX_PIXELS_BY_SERVICE = {"remove-background": 4_194_304, "creative-upscale": 1_048_576}
# Fast upscale (AWS "Stability AI Image Services", Fast Upscale): "Width must be between
# 32 and 1,536 pixels. Height must be between 32 and 1,536 pixels. Total pixel count must
# be between 1,024 and 1,048,576 pixels." No aspect-ratio rule (nor for Creative Upscale,
# whose AWS entry gives only sides >= 64 and 4,096-1,048,576 pixels).
FAST_UPSCALE_SIDES = (32, 1_536)
FAST_UPSCALE_PIXELS = (1_024, 1_048_576)
# Stable Image Ultra image-to-image input (Stability API reference, "generate/ultra",
# `image`: "Width must be between 64 and 16,384 pixels. Height must be between 64 and
# 16,384 pixels. Total pixel count must be at least 4,096 pixels"; the AWS Ultra page
# only says "Supported formats: JPEG, PNG, WebP"). No 9,437,184-pixel cap and no aspect
# rule are documented for Ultra, so the fake applies none. SD3.5 Large (AWS page, Image to
# image): "Minimum 64 pixels per side".
ULTRA_INPUT_SIDES = (64, 16_384)
# Input kinds without the Image Services' 1:2.5-2.5:1 aspect rule.
NO_ASPECT_RULE = frozenset({"fast-upscale", "creative-upscale", "ultra", "sd3.5"})
# Outpaint: left/right/up/down 0-2000 px each, at least one > 0; creativity 0-1.
OUTPAINT_MAX = 2_000
# grow_mask: inpaint 0-100 (default 5; Stability API reference - the AWS page says 0-20);
# erase and search services 0-20.
GROW_MASK_MAX = {"inpaint": 100}
GROW_MASK_MAX_DEFAULT = 20
# creativity ranges: outpaint 0-1 (0.5), creative upscale 0.1-0.5 (0.3),
# conservative upscale 0.2-0.5 (0.35; Stability API reference - the AWS page says 0.1-0.5).
CREATIVITY = {"outpaint": (0.0, 1.0), "creative-upscale": (0.1, 0.5), "conservative-upscale": (0.2, 0.5)}
# Style Guide (AWS "Stability AI Image Services", Control > Style Guide): required prompt
# and image; optional aspect_ratio (default 1:1), negative_prompt, seed, output_format
# (jpeg/png/webp), fidelity "How closely the output image's style resembles the input
# image's style. Range 0 to 1. Default 0.5", style_preset. The output is a new ~1 MP image
# at aspect_ratio (STABILITY_OUTPUT_SIZES), not the input's size.
STYLE_GUIDE_FIDELITY = (0.0, 1.0)
# Ultra/SD3.5 image-to-image strength: "Range: 0.0 to 1.0" (AWS pages). Stability's API
# reference for Ultra: "Important: The strength parameter is required when image is
# provided" (the AWS Ultra page gives a 0.35 default; the fake follows Stability and
# requires it). AWS SD3.5: "image-to-image requires the prompt, image, and strength".
STRENGTH_RANGE = (0.0, 1.0)
# aspect_ratio with an input image: "This parameter is only valid for text-to-image
# requests" (AWS Ultra page; SD3.5: "Valid for text-to-image requests only"). The real
# rejection wording is not verified; this is a stand-in.
MSG_ASPECT_TEXT_TO_IMAGE_ONLY = "aspect_ratio is only valid for text-to-image requests."
# Upscaled output: fast = 4x each side; creative/conservative "up to 4 megapixels"
# (the fake scales the input to ~4 MP, never below 1x).
UPSCALE_TARGET_PIXELS = 4_194_304
# finish_reasons values (AWS pages): null = success.
FILTER_PROMPT = "Filter reason: prompt"
FILTER_OUTPUT = "Filter reason: output image"
FILTER_INPUT = "Filter reason: input image"

# Fields each service accepts (anything else is "extraneous", as Bedrock's schema check
# answers for Core/Ultra style_preset/width/height).
_SERVICE_FIELDS: dict[str, set[str]] = {
    "search-replace": {"image", "prompt", "search_prompt", "negative_prompt", "grow_mask", "seed",
                       "output_format", "style_preset"},
    "search-recolor": {"image", "prompt", "select_prompt", "negative_prompt", "grow_mask", "seed",
                       "output_format", "style_preset"},
    "inpaint": {"image", "prompt", "mask", "negative_prompt", "grow_mask", "seed", "output_format",
                "style_preset"},
    "outpaint": {"image", "prompt", "negative_prompt", "left", "right", "up", "down", "creativity", "seed",
                 "output_format", "style_preset"},
    "remove-background": {"image", "output_format"},
    "erase": {"image", "mask", "grow_mask", "seed", "output_format"},
    "creative-upscale": {"image", "prompt", "negative_prompt", "creativity", "seed", "output_format",
                         "style_preset"},
    "conservative-upscale": {"image", "prompt", "negative_prompt", "creativity", "seed", "output_format"},
    "fast-upscale": {"image", "output_format"},
    "style-guide": {"image", "prompt", "aspect_ratio", "negative_prompt", "seed", "output_format", "fidelity",
                    "style_preset"},
}
_SERVICE_REQUIRED: dict[str, tuple[str, ...]] = {
    "search-replace": ("image", "prompt", "search_prompt"),
    "search-recolor": ("image", "prompt", "select_prompt"),
    "inpaint": ("image", "prompt"),
    "outpaint": ("image",),
    "remove-background": ("image",),
    "erase": ("image",),
    "creative-upscale": ("image", "prompt"),
    "conservative-upscale": ("image", "prompt"),
    "fast-upscale": ("image",),
    "style-guide": ("image", "prompt"),
}

# GetFoundationModel metadata for the models the fake knows (name, provider, inputs).
_MODEL_NAMES: dict[str, str] = {
    TITAN_V1: "Titan Image Generator G1", "amazon.titan-image-generator-v1:0": "Titan Image Generator G1",
    TITAN_V2: "Titan Image Generator G1 v2", NOVA_CANVAS: "Nova Canvas",
    "stability.stable-image-core-v1:0": "Stable Image Core", "stability.stable-image-core-v1:1": "Stable Image Core 1.0",
    "stability.stable-image-ultra-v1:0": "Stable Image Ultra",
    "stability.stable-image-ultra-v1:1": "Stable Image Ultra 1.0",
    "stability.sd3-5-large-v1:0": "Stable Diffusion 3.5 Large",
    "stability.stable-image-search-replace-v1:0": "Stable Image Search and Replace",
    "stability.stable-image-search-recolor-v1:0": "Stable Image Search and Recolor",
    "stability.stable-image-inpaint-v1:0": "Stable Image Inpaint",
    "stability.stable-outpaint-v1:0": "Stable Image Outpaint",
    "stability.stable-image-remove-background-v1:0": "Stable Image Remove Background",
    "stability.stable-image-erase-object-v1:0": "Stable Image Erase Object",
    "stability.stable-creative-upscale-v1:0": "Stable Image Creative Upscale",
    "stability.stable-conservative-upscale-v1:0": "Stable Image Conservative Upscale",
    "stability.stable-fast-upscale-v1:0": "Stable Image Fast Upscale",
    STYLE_GUIDE: "Stable Image Style Guide",
    "anthropic.claude-haiku-4-5-20251001-v1:0": "Claude Haiku 4.5",
    "anthropic.claude-haiku-5-5": "Claude Haiku 5.5",
}

# --------------------------------------------------------------------------------------
# Claude / Converse facts
# --------------------------------------------------------------------------------------

# Converse Message.content (botocore service model documentation): "You can include up
# to 20 images. Each image's size, height, and width must be no more than 3.75 MB,
# 8000 px, and 8000 px, respectively." and "You can only include images and documents
# if the role is user."
CONVERSE_MAX_IMAGES = 20
CONVERSE_MAX_IMAGE_BYTES = int(3.75 * 1024 * 1024)
CONVERSE_MAX_IMAGE_SIDE = 8000
CONVERSE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}

# Inference-profile prefixes that Bedrock uses for cross-region/global profiles.
PROFILE_PREFIXES = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
CLAUDE_ID = re.compile(r"^anthropic\.claude-[a-z0-9.\-]+(:\d+)?$")
# Claude base model ids that still accept on-demand invocation by the bare id. Every
# newer Claude (3.5 Sonnet v2, 3.5 Haiku, 3.7 Sonnet, Sonnet/Opus/Haiku 4.x, ...) must
# be invoked through an inference profile id (us./eu./apac./global.).
CLAUDE_ON_DEMAND = frozenset(
    {
        "anthropic.claude-v2",
        "anthropic.claude-v2:1",
        "anthropic.claude-instant-v1",
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "anthropic.claude-3-opus-20240229-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
    }
)

# Claude Haiku 4.5 and 5.5 base ids. Haiku 5.5 is undated on Bedrock
# ("anthropic.claude-haiku-5-5" / "us.anthropic.claude-haiku-5-5": vercel/ai release
# @ai-sdk/amazon-bedrock 4.0.192 "add Claude Haiku 5.5 support"), inference-profile only.
CLAUDE_HAIKU_4_5 = "anthropic.claude-haiku-4-5-20251001-v1:0"
CLAUDE_HAIKU_5_5 = "anthropic.claude-haiku-5-5"
# Claude models that refuse sampling parameters: Converse inferenceConfig.temperature
# answers "`temperature` is deprecated for this model." and topP "`top_p` is deprecated
# for this model." (seen: cline/cline#10572 and openclaw/openclaw#73663 for Opus 4.7 on
# Bedrock; promptfoo/promptfoo#10307 for Opus 5; router-for-me/CLIProxyAPI#4383 for top_p
# on Opus 4.7/4.8; Haiku 5.5 and Sonnet 5.5 "reject a custom temperature" per a Bedrock
# benchmark note and the Memrain 1.0.7 changelog). Base ids, matched after stripping
# the us./global. profile prefix.
CLAUDE_NO_SAMPLING = frozenset(
    {
        CLAUDE_HAIKU_5_5,
        "anthropic.claude-sonnet-5-5",
        "anthropic.claude-opus-5-5",
        "anthropic.claude-opus-4-7",
        "anthropic.claude-opus-4-8",
    }
)
# Claude models that take temperature OR top_p but not both: "`temperature` and `top_p`
# cannot both be specified for this model. Please use only one." (seen with Haiku 4.5 in
# aws-samples/bedrock-access-gateway#191, Sonnet 4.5 in BerriAI/litellm#15070, Sonnet 4.6
# in bedrock-access-gateway#238, Opus 4.5 likewise, Opus 4.6 in iOfficeAI/gemini-cli-pro#38).
CLAUDE_ONE_SAMPLING_PARAM = frozenset(
    {
        CLAUDE_HAIKU_4_5,
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "anthropic.claude-sonnet-4-6",
        "anthropic.claude-opus-4-6-v1",
    }
)
MSG_TEMPERATURE_DEPRECATED = MODEL_ERRORS + "`temperature` is deprecated for this model."
MSG_TOP_P_DEPRECATED = MODEL_ERRORS + "`top_p` is deprecated for this model."
MSG_TEMPERATURE_AND_TOP_P = (
    MODEL_ERRORS + "`temperature` and `top_p` cannot both be specified for this model. Please use only one."
)

# (seen) InvokeModel on an unknown or retired model id.
MSG_NO_FOUNDATION_MODEL = "Could not resolve the foundation model from the provided model identifier."
# (seen) ResourceNotFoundException on a model past its end-of-life date (e.g.
# gsd-build/gsd-2#5425: "This model version has reached the end of its life").
MSG_END_OF_LIFE = (
    "This model version has reached the end of its life. Please refer to the AWS documentation for more details."
)
# (seen) ResourceNotFoundException for a Legacy model the account has not used lately,
# verbatim for Nova Canvas and Titan v2 in us-east-1 in a public project log (2026), and
# gsd-build/gsd-2#5425 for Claude 3.x.
MSG_LEGACY_UNUSED = (
    "Access denied. This Model is marked by provider as Legacy and you have not been actively using the "
    "model in the last 30 days. Please upgrade to an active model on Amazon Bedrock"
)
# (seen) ValidationException for an account-level block, whatever the model:
# aws/aws-cli#8717 ("Turns out it was an issue with the account"), langchain#19215,
# langgenius/dify#7488, kirodotdev/Kiro#11191 (any model, console and API).
MSG_OPERATION_NOT_ALLOWED = "Operation not allowed"
# (seen) AccessDeniedException while the automatic AWS Marketplace subscription of a first
# call is not complete (aws-samples/anthropic-on-aws#251, aws-samples/
# sample-host-openclaw-on-amazon-bedrock-agentcore#41). AWS user guide "Access Amazon
# Bedrock foundation models": "it may take up to 2 minutes for the subscription to
# complete. During this time, API calls may continue to return AccessDeniedException."
MSG_MARKETPLACE_PENDING = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required AWS "
    "Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to "
    "this model. Refer to the Amazon Bedrock documentation for further details. Your AWS Marketplace "
    "subscription for this model cannot be completed at this time. If you recently fixed this issue, try "
    "again after 2 minutes."
)
# Amazon Bedrock end-of-life dates of the legacy image models (DESIGN "Models (December
# 2026)": Titan v2 2026-06-30; Nova Canvas 2026-09-30, also "AWS lists
# amazon.nova-canvas-v1:0 as Legacy ... end-of-life date of 2026-09-30" in a 2026-07-09
# note). Used by ``FakeBedrock.retire``; NOT applied by default, so the legacy stack stays
# testable (GetFoundationModel reports every known model ACTIVE unless told otherwise).
AWS_END_OF_LIFE: dict[str, str] = {TITAN_V2: "2026-06-30", NOVA_CANVAS: "2026-09-30"}

# Region used in ARNs of simulated responses.
REGION = "us-east-1"
_CORAL = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


# --------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------


def decode_image(b64: str) -> Image.Image:
    """Decode a base64 image string (as found in Bedrock responses) into a loaded PIL image."""
    img = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    img.load()
    return img


def encode_image(img: Image.Image, fmt: str = "PNG", **save: Any) -> str:
    """Encode a PIL image as base64 text, the way InvokeModel image fields expect it."""
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass
class BedrockCall:
    """One HTTP request received by the fake (successful or not)."""

    operation: str  # "InvokeModel" | "Converse" | "Unknown"
    model_id: str
    body: dict[str, Any]
    status: int
    error_code: str | None = None
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """True when the request was answered with HTTP 200."""
        return self.status == 200


class BedrockError(Exception):
    """An error the fake answers with (code -> HTTP status via ERROR_STATUS)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or DEFAULT_MESSAGES.get(code, code))
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, code)
        self.status = ERROR_STATUS.get(code, 400)


def _malformed(path: str, detail: str) -> BedrockError:
    """Schema violation, worded like the real service's JSON-schema validator.

    Real example: "Malformed input request: #/textToImageParams/text: expected
    maxLength: 512, actual: 536, please reformat your input and try again."
    """
    return BedrockError(
        "ValidationException",
        f"Malformed input request: {path}: {detail}, please reformat your input and try again.",
    )


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------


class FakeBedrock:
    """In-process fake of the Bedrock Runtime HTTP API (InvokeModel + Converse).

    Attributes that tests set directly:

    - ``blocked_terms``: prompt containing any term (case-insensitive) -> input
      content-filter ``ValidationException``.
    - ``output_blocked_terms``: prompt containing a term -> HTTP 200 with the ``error``
      field set and only the first image (none when one image was requested).
    - ``denied_models``: model ids (as sent, or their base id) -> ``AccessDeniedException``.
    - ``latency``: seconds every answer takes at least (the fake's own work included).
    - ``throttle_fraction``: share of requests (0-1) answered with ``ThrottlingException``
      at random (seeded, so a run is repeatable), like a busy account quota.
    - ``converse_answer``: fixed text, or ``f(request_body) -> text``, or None for the
      default deterministic description of the images received.
    - ``lifecycle``: base model id -> (``"ACTIVE"`` | ``"LEGACY"``, end-of-life date as ISO
      ``YYYY-MM-DD`` or None), answered by GetFoundationModel. Known models default to
      ACTIVE; an id set here is known even if the fake does not implement it. A LEGACY
      model whose date has passed answers InvokeModel/Converse with
      ``ResourceNotFoundException`` "...reached the end of its life...".
      ``retire(model_id)`` sets that up with the model's real end-of-life date.
    - ``legacy_models``: base ids answering ``ResourceNotFoundException`` "Access denied.
      This Model is marked by provider as Legacy..." (``legacy_unused(model_id)``).
    - ``account_blocked``: every InvokeModel/Converse answers ``ValidationException``
      "Operation not allowed" (``block_account()``).
    - ``pending_subscription(model_id, calls=n)``: the next ``n`` calls to that model
      answer ``AccessDeniedException`` (Marketplace auto-subscription still under way).
    - ``block_input_images``: Stability requests that carry an input image are refused
      with ``["Filter reason: input image"]``.
    - ``filtered_with_image``: Stability refusals also carry ``seeds`` and a (blurred)
      image that must not be shown; by default they are ``{"finish_reasons": [...]}``
      only, as in the AWS pages' example.

    Stability AI models report content-filter refusals the way the AWS pages say:
    HTTP 200 with ``finish_reasons`` ``["Filter reason: prompt"]`` (a ``blocked_terms``
    hit), ``["Filter reason: input image"]`` (``block_input_images``) or
    ``["Filter reason: output image"]`` (an ``output_blocked_terms`` hit).
    """

    def __init__(self) -> None:
        self.calls: list[BedrockCall] = []
        self.blocked_terms: set[str] = set()
        self.output_blocked_terms: set[str] = set()
        self.denied_models: set[str] = set()
        self.latency: float = 0.0
        self.throttle_fraction: float = 0.0
        self._random = random.Random(7)
        self.converse_answer: str | Callable[[dict[str, Any]], str] | None = None
        self.lifecycle: dict[str, tuple[str, str | None]] = {}
        # Base model ids this account has not been granted access to (GetFoundationModelAvailability).
        self.unauthorized_models: set[str] = set()
        self.legacy_models: set[str] = set()
        self.account_blocked: bool = False
        self.block_input_images: bool = False
        self.filtered_with_image: bool = False
        # Base model id -> calls still refused while its Marketplace subscription completes.
        self._pending: dict[str, int] = {}
        self._failures: list[tuple[str, str | None]] = []
        # Recent Stability images by request body: the fake is deterministic, so a request sent
        # again (a batch of like photos) is answered without encoding the image again. Real
        # Bedrock's work is not on the caller's machine; the fake's CPU should not stand in for it.
        self._rendered: dict[bytes, str] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str = ""

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeBedrock:
        """Start the server on 127.0.0.1 (random port) in a daemon thread."""
        if self._server is not None:
            return self
        handler = _make_handler(self)
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bedrock", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeBedrock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- inspection

    def invocations(self, task_type: str | None = None) -> list[BedrockCall]:
        """InvokeModel calls (successful or not), optionally only those with ``taskType``."""
        with self._lock:
            calls = [c for c in self.calls if c.operation == "InvokeModel"]
        if task_type is not None:
            calls = [c for c in calls if c.body.get("taskType") == task_type]
        return calls

    def foundation_model_calls(self) -> list[BedrockCall]:
        """GetFoundationModel calls (successful or not)."""
        with self._lock:
            return [c for c in self.calls if c.operation == "GetFoundationModel"]

    def converse_calls(self) -> list[BedrockCall]:
        """Converse calls (successful or not)."""
        with self._lock:
            return [c for c in self.calls if c.operation == "Converse"]

    @property
    def last_call(self) -> BedrockCall | None:
        """The most recent request, or None."""
        with self._lock:
            return self.calls[-1] if self.calls else None

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 at this fake (for monkeypatch.setenv)."""
        return {
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": self.url,
            # The control plane (GetFoundationModel) is served by the same server.
            "AWS_ENDPOINT_URL_BEDROCK": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, **config: Any) -> Any:
        """A real boto3 bedrock-runtime client bound to this fake (no retries by default)."""
        import boto3
        from botocore.config import Config

        config.setdefault("retries", {"total_max_attempts": 1})
        return boto3.client(
            "bedrock-runtime",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(**config),
        )

    def control_client(self, **config: Any) -> Any:
        """A real boto3 ``bedrock`` (control plane) client bound to this fake (no retries)."""
        import boto3
        from botocore.config import Config

        config.setdefault("retries", {"total_max_attempts": 1})
        return boto3.client(
            "bedrock",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(**config),
        )

    # ----------------------------------------------------------------- faults

    def reset(self) -> None:
        """Forget recorded calls and clear every fault setting and the converse answer."""
        with self._lock:
            self.calls.clear()
            self._failures.clear()
        self.blocked_terms = set()
        self.output_blocked_terms = set()
        self.denied_models = set()
        self.latency = 0.0
        self.throttle_fraction = 0.0
        self.converse_answer = None
        self.lifecycle = {}
        self.unauthorized_models = set()
        self.legacy_models = set()
        self.account_blocked = False
        self.block_input_images = False
        self.filtered_with_image = False
        with self._lock:
            self._pending.clear()

    def retire(self, model_id: str) -> None:
        """Make ``model_id`` (any form: bare, profile id or ARN) past its end of life.

        GetFoundationModel then reports it LEGACY with its real end-of-life date
        (``AWS_END_OF_LIFE``, or yesterday for other models or a date still ahead), and
        InvokeModel/Converse answer ``ResourceNotFoundException`` "This model version has
        reached the end of its life...".
        """
        base = _base_model_id(model_id) or model_id
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86_400))
        date = AWS_END_OF_LIFE.get(base, yesterday)
        self.lifecycle[base] = ("LEGACY", min(date, yesterday))

    def legacy_unused(self, model_id: str) -> None:
        """Make ``model_id`` a Legacy model this account has not used in the last 30 days.

        InvokeModel/Converse answer ``ResourceNotFoundException`` "Access denied. This
        Model is marked by provider as Legacy and you have not been actively using the
        model in the last 30 days. Please upgrade to an active model on Amazon Bedrock";
        GetFoundationModel reports it LEGACY (with its ``lifecycle`` date, if one is set).
        """
        self.legacy_models.add(_base_model_id(model_id) or model_id)

    def block_account(self, blocked: bool = True) -> None:
        """Block (or unblock) the whole account: every InvokeModel/Converse, whatever the
        model, answers ``ValidationException`` "Operation not allowed". The control plane
        (GetFoundationModel) keeps answering (real behaviour not verified)."""
        self.account_blocked = blocked

    def pending_subscription(self, model_id: str, calls: int = 1) -> None:
        """Refuse the next ``calls`` InvokeModel/Converse calls to ``model_id`` (any form)
        with ``AccessDeniedException`` "Model access is denied due to ... AWS Marketplace
        ...", as while the automatic Marketplace subscription of a first call is under
        way; later calls succeed. GetFoundationModelAvailability reports the agreement
        PENDING meanwhile."""
        with self._lock:
            self._pending[_base_model_id(model_id) or model_id] = calls

    def fail_next(
        self, n: int, code: str = "ThrottlingException", message: str | None = None
    ) -> None:
        """Make the next ``n`` HTTP requests (after authentication) fail with ``code``.

        Every HTTP attempt counts, so a client that retries consumes one failure per
        attempt. The status comes from ERROR_STATUS (400 for unknown codes).
        """
        with self._lock:
            self._failures.extend([(code, message)] * n)

    # ----------------------------------------------------------------- request pipeline

    def _handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes, BedrockCall]:
        """Process one request; returns (status, headers, body, call record)."""
        operation, model_id = _route(method, path)
        call = BedrockCall(operation=operation, model_id=model_id, body={}, status=200,
                           headers=dict(headers))
        try:
            call.body = _parse_json_object(raw)
        except BedrockError:
            call.body = {}
        try:
            _check_auth(headers)
            if operation == "Unknown":
                raise BedrockError("UnknownOperationException", f"No operation matches {method} {path}")
            with self._lock:
                failure = self._failures.pop(0) if self._failures else None
                if failure is None and self._random.random() < self.throttle_fraction:
                    failure = ("ThrottlingException", None)
            if failure is not None:
                raise BedrockError(failure[0], failure[1])
            if self.account_blocked and operation in ("InvokeModel", "Converse"):
                raise BedrockError("ValidationException", MSG_OPERATION_NOT_ALLOWED)
            if operation == "InvokeModel":
                payload = self._invoke_model(model_id, headers, raw)
                out = json.dumps(payload).encode("utf-8")
                resp_headers = {"Content-Type": "application/json"}
            elif operation == "GetFoundationModel":
                payload = self._get_foundation_model(model_id)
                out = json.dumps(payload).encode("utf-8")
                resp_headers = {"Content-Type": "application/json"}
            elif operation == "GetFoundationModelAvailability":
                self._get_foundation_model(model_id)  # same existence and permission rules
                granted = model_id not in self.unauthorized_models
                with self._lock:
                    agreement = "PENDING" if self._pending.get(model_id, 0) > 0 else "NOT_AVAILABLE"
                payload = {
                    "modelId": model_id,
                    "agreementAvailability": {"status": agreement},
                    "authorizationStatus": "AUTHORIZED" if granted else "NOT_AUTHORIZED",
                    "entitlementAvailability": "AVAILABLE" if granted else "NOT_AVAILABLE",
                    "regionAvailability": "AVAILABLE",
                }
                out = json.dumps(payload).encode("utf-8")
                resp_headers = {"Content-Type": "application/json"}
            else:
                payload = self._converse(model_id, raw)
                out = json.dumps(payload).encode("utf-8")
                resp_headers = {"Content-Type": "application/json"}
            status = 200
        except BedrockError as err:
            status = err.status
            out = json.dumps({"message": err.message}).encode("utf-8")
            resp_headers = {
                "Content-Type": "application/json",
                "x-amzn-ErrorType": err.code + _CORAL,
            }
            call.error_code = err.code
            call.error_message = err.message
        call.status = status
        resp_headers["x-amzn-RequestId"] = str(uuid.uuid4())
        with self._lock:
            self.calls.append(call)
        return status, resp_headers, out, call

    # ----------------------------------------------------------------- model ids

    def _check_denied(self, model_id: str, base: str) -> None:
        """Access and lifecycle checks for a runtime call, in the order the causes nest:
        IAM denial, end of life, Legacy-and-unused, then a pending Marketplace subscription
        (only calls that get that far use one up)."""
        denied = self.denied_models
        if model_id in denied or base in denied:
            raise BedrockError("AccessDeniedException")
        self._check_end_of_life(base)
        if base in self.legacy_models:
            raise BedrockError("ResourceNotFoundException", MSG_LEGACY_UNUSED)
        with self._lock:
            pending = self._pending.get(base, 0)
            if pending > 0:
                self._pending[base] = pending - 1
        if pending > 0:
            raise BedrockError("AccessDeniedException", MSG_MARKETPLACE_PENDING)

    def _check_end_of_life(self, base: str) -> None:
        status, date = self.lifecycle.get(base, ("ACTIVE", None))
        if status == "LEGACY" and date is not None and date <= time.strftime("%Y-%m-%d", time.gmtime()):
            raise BedrockError("ResourceNotFoundException", MSG_END_OF_LIFE)

    # ----------------------------------------------------------------- GetFoundationModel

    def _get_foundation_model(self, model_id: str) -> dict[str, Any]:
        """GetFoundationModel, shaped like botocore's bedrock service model (2023-04-20)."""
        mid = model_id
        if mid.startswith("arn:"):
            arn = re.match(r"^arn:aws[a-z\-]*:bedrock:[a-z0-9\-]*::foundation-model/(.+)$", mid)
            if arn is None:
                raise BedrockError("ValidationException", MSG_INVALID_MODEL)
            mid = arn.group(1)
        if mid.split(".", 1)[0] in PROFILE_PREFIXES:
            # An inference-profile id is not a foundation model id (stand-in wording;
            # real behaviour unverified): callers must strip the prefix.
            raise BedrockError("ValidationException", MSG_INVALID_MODEL)
        if mid in self.denied_models:
            raise BedrockError("AccessDeniedException")
        details = _foundation_model_details(mid)
        if details is None and mid not in self.lifecycle:
            raise BedrockError("ResourceNotFoundException", MSG_NO_FOUNDATION_MODEL)
        if details is None:
            details = _foundation_model_details(mid, force=True)
            assert details is not None
        status, date = self.lifecycle.get(mid, ("ACTIVE", None))
        if mid in self.legacy_models:
            status = "LEGACY"
        lifecycle: dict[str, Any] = {"status": status}
        if date is not None:
            # Timestamps in rest-json bodies are epoch seconds by default; botocore
            # parses them into datetimes.
            lifecycle["endOfLifeTime"] = _epoch(date)
        details["modelLifecycle"] = lifecycle
        return {"modelDetails": details}

    # ----------------------------------------------------------------- InvokeModel

    def _invoke_model(self, model_id: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        base = _base_model_id(model_id)
        family = IMAGE_MODELS.get(base)
        if family is None and base in STABILITY_MODELS:
            return self._invoke_stability(model_id, base, headers, raw)
        if family is None:
            if base is not None and CLAUDE_ID.match(base):
                self._check_denied(model_id, base)
                _check_profile(model_id, base)
                raise BedrockError(
                    "ValidationException",
                    "FakeBedrock only implements Converse for Claude models; use converse().",
                )
            raise BedrockError("ValidationException", MSG_INVALID_MODEL)
        self._check_denied(model_id, base)
        _check_json_headers(headers)
        body = _parse_json_object(raw)
        req = _validate_image_request(family, body)
        self._check_blocked(req.texts, titan=family.startswith("titan"))
        return self._generate(family, req)

    def _invoke_stability(self, model_id: str, base: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        self._check_denied(model_id, base)
        if base in STABILITY_SERVICES and not _is_profile(model_id):
            raise BedrockError("ValidationException", MSG_NEEDS_PROFILE.format(model=model_id))
        _check_json_headers(headers)
        body = _parse_json_object(raw)
        req = _validate_stability(STABILITY_MODELS[base], body)
        # Stability reports refusals in the body (HTTP 200), per the AWS model pages:
        # {"finish_reasons": ["Filter reason: prompt"]}.
        reason = None
        if _contains_any(req.texts, self.blocked_terms):
            reason = FILTER_PROMPT
        elif self.block_input_images and req.source is not None:
            reason = FILTER_INPUT
        elif _contains_any(req.texts, self.output_blocked_terms):
            reason = FILTER_OUTPUT
        if reason is None:
            return {"seeds": [req.seed], "finish_reasons": [None], "images": [self._render_once(raw, req)]}
        if not self.filtered_with_image:
            return {"finish_reasons": [reason]}
        # Stability's own API blurs a filtered result ("CONTENT_FILTERED = successful
        # generation, however the output violated our content moderation policy and has
        # been blurred"); the image must never be shown.
        return {"seeds": [req.seed], "finish_reasons": [reason], "images": [_filtered_image(req)]}

    def _render_once(self, raw: bytes, req: _StabilityRequest) -> str:
        # Keyed by the service too: remove-background and fast upscale take the very same body.
        key = hashlib.sha256(req.kind.encode() + b"\0" + raw).digest()
        with self._lock:
            image = self._rendered.get(key)
        if image is None:
            image = _render_stability(req)
            with self._lock:
                if len(self._rendered) >= 8:
                    self._rendered.pop(next(iter(self._rendered)))
                self._rendered[key] = image
        return image

    def _check_blocked(self, texts: list[str], titan: bool) -> None:
        if _contains_any(texts, self.blocked_terms):
            raise BedrockError(
                "ValidationException", MSG_TITAN_INPUT_BLOCKED if titan else MSG_INPUT_TEXT_BLOCKED
            )

    def _generate(self, family: str, req: _ImageRequest) -> dict[str, Any]:
        images = [_render(req, i) for i in range(req.count)]
        error: str | None = None
        if _contains_any(req.texts, self.output_blocked_terms):
            images = images[:1] if req.count > 1 else []
            error = MSG_OUTPUT_SOME_BLOCKED if images else MSG_OUTPUT_ALL_BLOCKED
        result: dict[str, Any] = {"images": images}
        # Titan documents {"images": [...], "error": "string"}; Nova says `error` is
        # "omitted from the response" unless an image was blocked.
        if family.startswith("titan") or error is not None:
            result["error"] = error
        return result

    # ----------------------------------------------------------------- Converse

    def _converse(self, model_id: str, raw: bytes) -> dict[str, Any]:
        started = time.monotonic()
        base = _base_model_id(model_id)
        if base is None:
            raise BedrockError("ValidationException", MSG_INVALID_MODEL)
        if base in IMAGE_MODELS:
            self._check_denied(model_id, base)
            raise BedrockError("ValidationException", MSG_CONVERSE_UNSUPPORTED)
        if not CLAUDE_ID.match(base):
            raise BedrockError("ValidationException", MSG_INVALID_MODEL)
        self._check_denied(model_id, base)
        _check_profile(model_id, base)
        body = _parse_json_object(raw)
        texts, images = _validate_converse(body)
        _check_sampling(base, body.get("inferenceConfig") or {})
        if _contains_any(texts, self.blocked_terms):
            raise BedrockError("ValidationException", MSG_INPUT_TEXT_BLOCKED)
        answer = self.converse_answer
        if callable(answer):
            text = answer(body)
        elif answer is not None:
            text = answer
        else:
            text = _default_answer(images)
        input_tokens = sum(len(t) for t in texts) // 4 + sum(w * h // 750 for _, w, h in images) + 1
        output_tokens = max(1, len(text) // 4)
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens,
            },
            "metrics": {"latencyMs": int((time.monotonic() - started) * 1000) + int(self.latency * 1000)},
        }


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


def _make_handler(fake: FakeBedrock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeBedrock/1.0"
        # Head and body leave in one write (the server flushes after each request): as two, the
        # body would wait for the client's delayed ACK of the head under Nagle's algorithm (~40 ms
        # on Linux), and the client would wake twice per answer, a cost real Bedrock does not add.
        wbufsize = 256 * 1024
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            started = time.monotonic()
            status, resp_headers, out, _ = fake._handle(self.command, self.path, headers, raw)
            # ``latency`` is the time to answer, as a client sees it: the fake's
            # own work counts towards it, as the model's does on the real service.
            time.sleep(max(0.0, fake.latency - (time.monotonic() - started)))
            self.send_response(status)
            for key, value in resp_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_POST = _serve
        do_GET = _serve
        do_PUT = _serve
        do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # keep pytest output clean

    return Handler


_PATH = re.compile(r"^/model/(?P<model>[^/?]+)/(?P<op>invoke|converse)/?(?:\?.*)?$")
# botocore bedrock service model: GetFoundationModel is GET /foundation-models/{modelIdentifier}.
_FOUNDATION_MODEL_PATH = re.compile(r"^/foundation-models/(?P<model>[^/?]+)/?(?:\?.*)?$")
# GetFoundationModelAvailability is GET /foundation-model-availability/{modelId}.
_AVAILABILITY_PATH = re.compile(r"^/foundation-model-availability/(?P<model>[^/?]+)/?(?:\?.*)?$")


def _route(method: str, path: str) -> tuple[str, str]:
    control = _FOUNDATION_MODEL_PATH.match(path)
    if method == "GET" and control is not None:
        return "GetFoundationModel", unquote(control.group("model"))
    availability = _AVAILABILITY_PATH.match(path)
    if method == "GET" and availability is not None:
        return "GetFoundationModelAvailability", unquote(availability.group("model"))
    match = _PATH.match(path)
    if method != "POST" or match is None:
        return "Unknown", ""
    op = "InvokeModel" if match.group("op") == "invoke" else "Converse"
    return op, unquote(match.group("model"))


def _check_auth(headers: dict[str, str]) -> None:
    """Require a SigV4 Authorization header scoped to the `bedrock` signing name."""
    auth = headers.get("authorization", "")
    if not auth:
        raise BedrockError("MissingAuthenticationTokenException", "Missing Authentication Token")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise BedrockError(
            "IncompleteSignatureException",
            f"Authorization header is not a SigV4 signature. Authorization={auth.split(' ')[0]}",
        )
    parts = dict(
        p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p
    )
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        raise BedrockError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        )
    scope = parts["Credential"].split("/")
    # Credential=<key>/<date>/<region>/<service>/aws4_request; the service must be
    # bedrock (the signing name from the service model), not bedrock-runtime.
    if len(scope) != 5 or scope[3] != "bedrock" or scope[4] != "aws4_request":
        raise BedrockError(
            "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'. "
        )
    if "x-amz-date" not in headers and "date" not in headers:
        raise BedrockError(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )


def _check_json_headers(headers: dict[str, str]) -> None:
    accept = headers.get("accept", "")
    if accept and accept not in ("application/json", "*/*"):
        raise BedrockError(
            "ValidationException", f"The provided Accept Type is invalid or not supported for this model: {accept}"
        )
    ctype = headers.get("content-type", "")
    if ctype and not ctype.startswith("application/json"):
        raise BedrockError(
            "ValidationException", f"The provided Content Type is invalid or not supported for this model: {ctype}"
        )


def _parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict):
        raise BedrockError("ValidationException", DEFAULT_MESSAGES["ValidationException"])
    return value


def _base_model_id(model_id: str) -> str | None:
    """Strip ARN and inference-profile prefixes: returns the base model id (or None)."""
    mid = model_id
    if mid.startswith("arn:"):
        arn = re.match(
            r"^arn:aws[a-z\-]*:bedrock:[a-z0-9\-]*:\d*:(foundation-model|inference-profile)/(.+)$", mid
        )
        if arn is None:
            return None
        mid = arn.group(2)
    prefix, _, rest = mid.partition(".")
    if prefix in PROFILE_PREFIXES and rest:
        mid = rest
    return mid or None


def _is_profile(model_id: str) -> bool:
    mid = model_id
    if mid.startswith("arn:"):
        if ":inference-profile/" in mid:
            return True
        mid = mid.rsplit("/", 1)[-1]
    return mid.split(".", 1)[0] in PROFILE_PREFIXES


def _check_profile(model_id: str, base: str) -> None:
    if base not in CLAUDE_ON_DEMAND and not _is_profile(model_id):
        raise BedrockError("ValidationException", MSG_NEEDS_PROFILE.format(model=model_id))


def _check_sampling(base: str, config: dict[str, Any]) -> None:
    """Reject sampling parameters the way the newer Claude models do (see CLAUDE_NO_SAMPLING)."""
    if base in CLAUDE_NO_SAMPLING:
        if "temperature" in config:
            raise BedrockError("ValidationException", MSG_TEMPERATURE_DEPRECATED)
        if "topP" in config:
            raise BedrockError("ValidationException", MSG_TOP_P_DEPRECATED)
    elif base in CLAUDE_ONE_SAMPLING_PARAM and "temperature" in config and "topP" in config:
        raise BedrockError("ValidationException", MSG_TEMPERATURE_AND_TOP_P)


def _contains_any(texts: list[str], terms: set[str]) -> bool:
    lowered = [t.lower() for t in texts]
    return any(term.lower() in text for term in terms if term for text in lowered)


# --------------------------------------------------------------------------------------
# Image request validation
# --------------------------------------------------------------------------------------


@dataclass
class _Input:
    """A decoded input image."""

    image: Image.Image
    fmt: str
    nbytes: int

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


@dataclass
class _ImageRequest:
    family: str
    task: str
    texts: list[str]
    width: int
    height: int
    count: int
    seed: int
    source: _Input | None = None
    mask: _Input | None = None
    key: str = ""


def _type_name(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "BigDecimal"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


def _obj(parent: dict[str, Any], key: str, path: str, required: bool) -> dict[str, Any] | None:
    if key not in parent:
        if required:
            raise _malformed(path, f"required key [{key}] not found")
        return None
    value = parent[key]
    if not isinstance(value, dict):
        raise _malformed(f"{path}/{key}", f"expected type: JSONObject, found: {_type_name(value)}")
    return value


def _only_keys(obj: dict[str, Any], allowed: set[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _malformed(path, f"extraneous key [{key}] is not permitted")


def _string(obj: dict[str, Any], key: str, path: str, required: bool, max_len: int | None = None) -> str | None:
    if key not in obj:
        if required:
            raise _malformed(path, f"required key [{key}] not found")
        return None
    value = obj[key]
    if not isinstance(value, str):
        raise _malformed(f"{path}/{key}", f"expected type: String, found: {_type_name(value)}")
    if len(value) < 1:
        raise _malformed(f"{path}/{key}", "expected minLength: 1, actual: 0")
    if max_len is not None and len(value) > max_len:
        raise _malformed(f"{path}/{key}", f"expected maxLength: {max_len}, actual: {len(value)}")
    return value


def _number(obj: dict[str, Any], key: str, path: str, lo: float, hi: float, integer: bool) -> float | int | None:
    if key not in obj:
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        expected = "Integer" if integer else "Number"
        raise _malformed(f"{path}/{key}", f"expected type: {expected}, found: {_type_name(value)}")
    if value < lo:
        raise _malformed(f"{path}/{key}", f"{value} is not greater or equal to {lo}")
    if value > hi:
        raise _malformed(f"{path}/{key}", f"{value} is not less or equal to {hi}")
    return value


def _enum(obj: dict[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str | None:
    if key not in obj:
        return None
    value = obj[key]
    if value not in allowed:
        raise _malformed(f"{path}/{key}", f"{value} is not a valid enum value")
    return value


def _decode_input(value: Any, path: str, family: str) -> _Input:
    """Decode and check one base64 input image against the family's documented limits."""
    if not isinstance(value, str):
        raise _malformed(path, f"expected type: String, found: {_type_name(value)}")
    try:
        data = base64.b64decode(value, validate=True)
        img = Image.open(io.BytesIO(data))
        img.load()
    except (binascii.Error, ValueError, OSError):
        raise BedrockError(
            "ValidationException",
            f"Unable to decode the image at {path}. Images must be base64-encoded PNG or JPEG.",
        ) from None
    fmt = img.format or ""
    if fmt not in ("PNG", "JPEG"):
        raise BedrockError(
            "ValidationException",
            f"Unsupported image format {fmt or 'unknown'} at {path}. Supported formats are PNG and JPEG.",
        )
    width, height = img.size
    if family.startswith("titan"):
        if len(data) > TITAN_MAX_INPUT_BYTES:
            raise BedrockError(
                "ValidationException",
                f"The input image at {path} is {len(data)} bytes; the maximum input image size is 5 MB.",
            )
        if max(width, height) > TITAN_MAX_INPUT_SIDE:
            raise BedrockError(
                "ValidationException",
                f"The input image at {path} is {width}x{height}; "
                f"the longer side of an input image must be <= {TITAN_MAX_INPUT_SIDE} pixels.",
            )
    else:
        problem = _nova_size_problem(width, height)
        if problem:
            raise BedrockError("ValidationException", f"Invalid input image at {path} ({width}x{height}): {problem}")
        # Nova: "8 bits per color channel (RGB). PNG images may contain an additional
        # alpha channel, but that channel must not contain any transparent or
        # translucent pixels."
        if img.mode not in ("RGB", "RGBA", "L", "P", "LA"):
            raise BedrockError(
                "ValidationException", f"The input image at {path} must use 8 bits per color channel (RGB)."
            )
        if _has_transparency(img):
            raise BedrockError(
                "ValidationException",
                f"The input image at {path} has transparent or translucent pixels; "
                "the alpha channel must be fully opaque.",
            )
    return _Input(image=img, fmt=fmt, nbytes=len(data))


def _has_transparency(img: Image.Image) -> bool:
    if img.mode in ("RGBA", "LA"):
        low, _ = img.getchannel("A").getextrema()
        return low < 255
    if img.mode == "P" and "transparency" in img.info:
        return True
    return False


def _nova_size_problem(width: int, height: int) -> str | None:
    """Return the violated Nova Canvas resolution rule, worded like the docs, or None."""
    if not (NOVA_MIN_SIDE <= width <= NOVA_MAX_SIDE and NOVA_MIN_SIDE <= height <= NOVA_MAX_SIDE):
        return "Each side must be between 320-4096 pixels, inclusive."
    if width % NOVA_SIDE_MULTIPLE or height % NOVA_SIDE_MULTIPLE:
        return "Each side must be evenly divisible by 16."
    if width > NOVA_MAX_ASPECT * height or height > NOVA_MAX_ASPECT * width:
        return (
            "The aspect ratio must be between 1:4 and 4:1. That is, one side can't be more "
            "than 4 times longer than the other side."
        )
    if width * height > NOVA_MAX_PIXELS:
        return "The total pixel count must be less than 4,194,304."
    return None


def _check_output_size(family: str, width: int, height: int) -> None:
    if family.startswith("titan"):
        if (width, height) not in TITAN_SIZES:
            raise BedrockError(
                "ValidationException",
                f"The requested image size {width}x{height} is not supported. Use one of the "
                "supported width and height combinations for Titan Image Generator.",
            )
    else:
        problem = _nova_size_problem(width, height)
        if problem:
            raise BedrockError("ValidationException", f"Invalid image size {width}x{height}: {problem}")


def _check_mask(mask: _Input, source: _Input, path: str) -> None:
    if mask.size != source.size:
        raise BedrockError(
            "ValidationException",
            f"The mask image at {path} must be the same size as the input image "
            f"({mask.size[0]}x{mask.size[1]} vs {source.size[0]}x{source.size[1]}).",
        )
    colors = mask.image.convert("RGB").getcolors(maxcolors=2)
    if colors is None or any(c not in ((0, 0, 0), (255, 255, 255)) for _, c in colors):
        raise BedrockError(
            "ValidationException",
            f"The mask image at {path} must contain only pure black (0 0 0) and pure white "
            "(255 255 255) pixels.",
        )


def _validate_image_request(family: str, body: dict[str, Any]) -> _ImageRequest:
    """Validate an InvokeModel body for Titan v1/v2 or Nova Canvas; raise BedrockError."""
    titan = family.startswith("titan")
    max_text = TITAN_MAX_TEXT if titan else NOVA_MAX_TEXT
    if "taskType" not in body:
        raise _malformed("#", "required key [taskType] not found")
    task = body["taskType"]
    if not isinstance(task, str):
        raise _malformed("#/taskType", f"expected type: String, found: {_type_name(task)}")
    if task not in FAMILY_TASKS[family]:
        raise _malformed("#/taskType", f"{task} is not a valid enum value")
    params_key = TASK_PARAMS[task]
    _only_keys(body, {"taskType", params_key, "imageGenerationConfig"}, "#")
    params = _obj(body, params_key, "#", required=True)
    assert params is not None
    ppath = f"#/{params_key}"
    texts: list[str] = []
    source: _Input | None = None
    mask: _Input | None = None
    inputs: list[_Input] = []

    def text_field(key: str, required: bool) -> None:
        value = _string(params, key, ppath, required, max_text)
        if value is not None:
            texts.append(value)

    if task == "TEXT_IMAGE":
        allowed = {"text", "negativeText"}
        if family != "titan-v1":
            allowed |= {"conditionImage", "controlMode", "controlStrength"}
        if family == "nova":
            allowed.add("style")
        _only_keys(params, allowed, ppath)
        text_field("text", required=True)
        text_field("negativeText", required=False)
        _enum(params, "style", ppath, NOVA_STYLES)
        _enum(params, "controlMode", ppath, CONTROL_MODES)
        _number(params, "controlStrength", ppath, 0.0, 1.0, integer=False)
        if "conditionImage" in params:
            inputs.append(_decode_input(params["conditionImage"], f"{ppath}/conditionImage", family))
        elif "controlMode" in params or "controlStrength" in params:
            raise BedrockError(
                "ValidationException",
                "If controlMode or controlStrength are provided, then conditionImage must also be provided.",
            )
    elif task == "COLOR_GUIDED_GENERATION":
        _only_keys(params, {"text", "negativeText", "colors", "referenceImage"}, ppath)
        text_field("text", required=True)
        text_field("negativeText", required=False)
        colors = params.get("colors")
        if colors is None:
            raise _malformed(ppath, "required key [colors] not found")
        if not isinstance(colors, list):
            raise _malformed(f"{ppath}/colors", f"expected type: JSONArray, found: {_type_name(colors)}")
        if not 1 <= len(colors) <= MAX_COLORS:
            raise _malformed(
                f"{ppath}/colors",
                f"expected {'minimum' if not colors else 'maximum'} item count: "
                f"{1 if not colors else MAX_COLORS}, found: {len(colors)}",
            )
        for i, color in enumerate(colors):
            if not isinstance(color, str) or not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
                raise _malformed(f"{ppath}/colors/{i}", f"string [{color}] does not match pattern ^#[0-9A-Fa-f]{{6}}$")
        if "referenceImage" in params:
            inputs.append(_decode_input(params["referenceImage"], f"{ppath}/referenceImage", family))
    elif task == "IMAGE_VARIATION":
        _only_keys(params, {"text", "negativeText", "images", "similarityStrength"}, ppath)
        text_field("text", required=False)
        text_field("negativeText", required=False)
        _number(params, "similarityStrength", ppath, MIN_SIMILARITY, MAX_SIMILARITY, integer=False)
        images = params.get("images")
        if images is None:
            raise _malformed(ppath, "required key [images] not found")
        if not isinstance(images, list):
            raise _malformed(f"{ppath}/images", f"expected type: JSONArray, found: {_type_name(images)}")
        if not images:
            raise _malformed(f"{ppath}/images", "expected minimum item count: 1, found: 0")
        if len(images) > MAX_VARIATION_IMAGES:
            raise _malformed(
                f"{ppath}/images", f"expected maximum item count: {MAX_VARIATION_IMAGES}, found: {len(images)}"
            )
        for i, item in enumerate(images):
            inputs.append(_decode_input(item, f"{ppath}/images/{i}", family))
        source = inputs[0]
    elif task in ("INPAINTING", "OUTPAINTING"):
        allowed = {"image", "text", "negativeText", "maskPrompt", "maskImage"}
        if titan:
            allowed.add("returnMask")
        if task == "OUTPAINTING":
            allowed.add("outPaintingMode")
        _only_keys(params, allowed, ppath)
        # Titan: outpainting text is Required, inpainting text Optional. Nova: omitting
        # text in either task removes the masked content, so it is optional.
        text_field("text", required=titan and task == "OUTPAINTING")
        text_field("negativeText", required=False)
        if "returnMask" in params and not isinstance(params["returnMask"], bool):
            found = _type_name(params["returnMask"])
            raise _malformed(f"{ppath}/returnMask", f"expected type: Boolean, found: {found}")
        _enum(params, "outPaintingMode", ppath, OUTPAINTING_MODES)
        if "image" not in params:
            raise _malformed(ppath, "required key [image] not found")
        source = _decode_input(params["image"], f"{ppath}/image", family)
        has_prompt, has_image = "maskPrompt" in params, "maskImage" in params
        if has_prompt == has_image:
            raise BedrockError(
                "ValidationException",
                "You must specify either maskPrompt or maskImage, but not both."
                if has_prompt
                else "You must specify either maskPrompt or maskImage.",
            )
        if has_prompt:
            text_field("maskPrompt", required=True)
        else:
            mask = _decode_input(params["maskImage"], f"{ppath}/maskImage", family)
            _check_mask(mask, source, f"{ppath}/maskImage")
    elif task == "BACKGROUND_REMOVAL":
        _only_keys(params, {"image"}, ppath)
        if "image" not in params:
            raise _malformed(ppath, "required key [image] not found")
        source = _decode_input(params["image"], f"{ppath}/image", family)

    config = _obj(body, "imageGenerationConfig", "#", required=False) or {}
    cpath = "#/imageGenerationConfig"
    _only_keys(config, {"numberOfImages", "height", "width", "cfgScale", "seed", "quality"}, cpath)
    count = _number(config, "numberOfImages", cpath, MIN_IMAGES, MAX_IMAGES, integer=True)
    width = _number(config, "width", cpath, 1, 100_000, integer=True)
    height = _number(config, "height", cpath, 1, 100_000, integer=True)
    _number(config, "cfgScale", cpath, MIN_CFG, MAX_CFG, integer=False)
    seed = _number(config, "seed", cpath, 0, SEED_MAX[family], integer=True)
    _enum(config, "quality", cpath, QUALITIES)

    if task in EDIT_TASKS:
        assert source is not None
        if family == "nova" and task != "BACKGROUND_REMOVAL" and ("width" in config or "height" in config):
            # Nova docs: "The width and height values should not be provided for the
            # INPAINTING, OUTPAINTING, or VIRTUAL_TRY_ON task types."
            raise BedrockError(
                "ValidationException",
                f"width and height must not be provided for the {task} task type; "
                "the output has the size of the input image.",
            )
        # Output keeps the input size; Titan's width/height are ignored for edits.
        out_w, out_h = source.size
    else:
        if (width is None) != (height is None):
            raise _malformed(cpath, f"required key [{'height' if height is None else 'width'}] not found")
        out_w = int(width) if width is not None else DEFAULT_SIZE
        out_h = int(height) if height is not None else DEFAULT_SIZE
        _check_output_size(family, out_w, out_h)

    n = 1 if task == "BACKGROUND_REMOVAL" else int(count or 1)
    seed_value = int(seed) if seed is not None else DEFAULT_SEED[family]
    key = json.dumps([family, task, texts, seed_value, out_w, out_h], sort_keys=True)
    return _ImageRequest(
        family=family, task=task, texts=texts, width=out_w, height=out_h, count=n,
        seed=seed_value, source=source, mask=mask, key=key,
    )


# --------------------------------------------------------------------------------------
# Image generation (deterministic, fast)
# --------------------------------------------------------------------------------------


def _gradient(width: int, height: int, key: str) -> Image.Image:
    """A smooth 4-corner gradient whose colours come from a hash of ``key``."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    corners = [tuple(digest[i * 3:i * 3 + 3]) for i in range(4)]
    small = Image.new("RGB", (2, 2))
    small.putdata(corners)
    return small.resize((width, height), Image.Resampling.BILINEAR)


def _png_b64(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


@functools.lru_cache(maxsize=64)
def _art_png_b64(width: int, height: int, key: str) -> str:
    """Generated art as base64 PNG. Deterministic, so cached: a batch asks for the same art many times."""
    return _png_b64(_gradient(width, height, key))


def _render(req: _ImageRequest, index: int) -> str:
    """Render image ``index`` of a request as base64 PNG (same request -> same bytes)."""
    if req.task not in ("BACKGROUND_REMOVAL", "INPAINTING", "OUTPAINTING") or req.source is None or (
        req.mask is None and req.task != "BACKGROUND_REMOVAL"
    ):
        return _art_png_b64(req.width, req.height, f"{req.key}#{index}")
    art = _gradient(req.width, req.height, f"{req.key}#{index}")
    if req.task == "BACKGROUND_REMOVAL":
        assert req.source is not None
        out = req.source.image.convert("RGBA")
        alpha = Image.new("L", out.size, 0)
        w, h = out.size
        ImageDraw.Draw(alpha).ellipse((w // 6, h // 6, w - w // 6, h - h // 6), fill=255)
        out.putalpha(alpha)
        return _png_b64(out)
    if req.task in ("INPAINTING", "OUTPAINTING") and req.source is not None:
        base = req.source.image.convert("RGB")
        if req.mask is not None:
            # Black mask pixels are the "mask": inpainting repaints them, outpainting
            # keeps them and repaints the rest.
            black = req.mask.image.convert("L").point(lambda v: 255 if v < 128 else 0)
            region = black if req.task == "INPAINTING" else black.point(lambda v: 255 - v)
            return _png_b64(Image.composite(art, base, region))
        # With a mask prompt the fake cannot know the subject's outline. Its own
        # art (the input's size) stands in: cheap to encode, so the fake's CPU
        # does not throttle benchmarks that simulate model latency.
    return _png_b64(art)


# --------------------------------------------------------------------------------------
# Converse validation
# --------------------------------------------------------------------------------------


def _validate_converse(body: dict[str, Any]) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Validate a Converse body; returns (texts, [(format, width, height), ...])."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BedrockError("ValidationException", MSG_START_WITH_USER)
    texts: list[str] = []
    images: list[tuple[str, int, int]] = []
    previous = None
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _malformed(f"#/messages/{i}", f"expected type: JSONObject, found: {_type_name(message)}")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise BedrockError(
                "ValidationException", f"Invalid role {role!r} at messages.{i}: must be user or assistant."
            )
        if i == 0 and role != "user":
            raise BedrockError("ValidationException", MSG_START_WITH_USER)
        if role == previous:
            raise BedrockError("ValidationException", MSG_ALTERNATE_ROLES)
        previous = role
        content = message.get("content")
        if not isinstance(content, list) or not content:
            raise BedrockError(
                "ValidationException",
                f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock object "
                "to the content field and try again.",
            )
        for j, block in enumerate(content):
            if not isinstance(block, dict) or len(block) != 1:
                raise BedrockError(
                    "ValidationException",
                    f"messages.{i}.content.{j}: a ContentBlock must set exactly one member.",
                )
            (kind, value), = block.items()
            if kind == "text":
                if not isinstance(value, str):
                    found = _type_name(value)
                    raise _malformed(f"#/messages/{i}/content/{j}/text", f"expected type: String, found: {found}")
                texts.append(value)
            elif kind == "image":
                if role != "user":
                    raise BedrockError(
                        "ValidationException", "You can only include images and documents if the role is user."
                    )
                images.append(_converse_image(value, i, j))
                if len(images) > CONVERSE_MAX_IMAGES:
                    raise BedrockError(
                        "ValidationException",
                        f"Too many images and documents were provided: the maximum is {CONVERSE_MAX_IMAGES} images.",
                    )
            # Other block kinds (document, toolUse, cachePoint, ...) are accepted as-is.
    for k, block in enumerate(body.get("system") or []):
        if isinstance(block, dict) and "text" in block:
            if not isinstance(block["text"], str) or not block["text"]:
                raise _malformed(f"#/system/{k}/text", "expected minLength: 1, actual: 0")
            texts.append(block["text"])
    config = body.get("inferenceConfig")
    if config is not None:
        if not isinstance(config, dict):
            raise _malformed("#/inferenceConfig", f"expected type: JSONObject, found: {_type_name(config)}")
        _number(config, "maxTokens", "#/inferenceConfig", 1, 10_000_000, integer=True)
        _number(config, "temperature", "#/inferenceConfig", 0.0, 1.0, integer=False)
        _number(config, "topP", "#/inferenceConfig", 0.0, 1.0, integer=False)
    return texts, images


def _converse_image(value: Any, i: int, j: int) -> tuple[str, int, int]:
    where = f"messages.{i}.content.{j}.image"
    if not isinstance(value, dict):
        raise _malformed(f"#/messages/{i}/content/{j}/image", f"expected type: JSONObject, found: {_type_name(value)}")
    declared = value.get("format")
    if declared not in CONVERSE_FORMATS:
        raise _malformed(f"#/messages/{i}/content/{j}/image/format", f"{declared} is not a valid enum value")
    source = value.get("source")
    if not isinstance(source, dict) or "bytes" not in source:
        if isinstance(source, dict) and "s3Location" in source:
            raise BedrockError("ValidationException", f"{where}: this model doesn't support S3 image sources.")
        raise _malformed(f"#/messages/{i}/content/{j}/image/source", "required key [bytes] not found")
    try:
        data = base64.b64decode(source["bytes"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise BedrockError("ValidationException", f"{where}.source.bytes is not valid base64.") from None
    if len(data) > CONVERSE_MAX_IMAGE_BYTES:
        raise BedrockError(
            "ValidationException",
            f"{MODEL_ERRORS}{where}.source.bytes: image exceeds 3.75 MB maximum: "
            f"{len(data)} bytes > {CONVERSE_MAX_IMAGE_BYTES} bytes",
        )
    try:
        img = Image.open(io.BytesIO(data))
        actual = img.format or ""
        width, height = img.size
    except (OSError, ValueError):
        # (seen) "The model returned the following errors: Could not process image"
        raise BedrockError("ValidationException", MODEL_ERRORS + "Could not process image") from None
    if actual != CONVERSE_FORMATS[declared]:
        # (seen) Bedrock wording for a declared format that does not match the bytes.
        raise BedrockError(
            "ValidationException",
            MODEL_ERRORS + "The provided image does not match the specified image format.",
        )
    if width > CONVERSE_MAX_IMAGE_SIDE or height > CONVERSE_MAX_IMAGE_SIDE:
        # (seen) "The model returned the following errors: Image exceeds max pixels allowed."
        raise BedrockError("ValidationException", MODEL_ERRORS + "Image exceeds max pixels allowed.")
    return declared, width, height


def _default_answer(images: list[tuple[str, int, int]]) -> str:
    if not images:
        return "Fake Claude answer: no images received."
    described = ", ".join(f"{w}x{h} {fmt}" for fmt, w, h in images)
    noun = "image" if len(images) == 1 else "images"
    return f"Fake Claude answer: {len(images)} {noun} received ({described})."


# --------------------------------------------------------------------------------------
# Stability AI validation and rendering
# --------------------------------------------------------------------------------------


@dataclass
class _StabilityRequest:
    kind: str  # "core" | "ultra" | "sd3.5" | a STABILITY_SERVICES value
    texts: list[str]
    width: int
    height: int
    seed: int
    output_format: str
    source: _Input | None = None
    mask: _Input | None = None
    key: str = ""
    # Outpaint: where the original's top-left corner lands on the larger canvas.
    offset: tuple[int, int] = (0, 0)
    # Image-to-image strength (0 keeps the input, 1 ignores it); Style Guide fidelity.
    strength: float = 1.0


def _stability_seed(body: dict[str, Any], key: str) -> int:
    seed = _number(body, "seed", "#", 0, STABILITY_SEED_MAX, integer=True)
    if seed:
        return int(seed)
    # 0 or absent means "random"; the response reports the seed actually used.
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") or 1


def _validate_stability(kind: str, body: dict[str, Any]) -> _StabilityRequest:
    """Validate a Stability AI InvokeModel body (generation or Image Service); raise BedrockError."""
    texts: list[str] = []

    def text(key: str, required: bool) -> str | None:
        value = _string(body, key, "#", required, STABILITY_MAX_TEXT)
        if value is not None:
            texts.append(value)
        return value

    if kind in ("core", "ultra", "sd3.5"):
        # Core takes no input image (AWS Core page: text to image only), so `image` is
        # an extraneous key there. Ultra has no image-to-image `mode` value: an `image`
        # makes the request image-to-image. SD3.5 needs mode "image-to-image".
        allowed = {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode"}
        if kind in ("ultra", "sd3.5"):
            allowed |= {"image", "strength"}
        _only_keys(body, allowed, "#")
        text("prompt", required=True)
        text("negative_prompt", required=False)
        formats = STABILITY_FORMATS.get(kind, STABILITY_FORMATS_DEFAULT)
        fmt = _enum(body, "output_format", "#", formats) or "png"
        ratio = _enum(body, "aspect_ratio", "#", STABILITY_ASPECT_RATIOS)
        modes = ("text-to-image", "image-to-image") if kind == "sd3.5" else ("text-to-image",)
        mode = _enum(body, "mode", "#", modes) or "text-to-image"
        image_to_image = mode == "image-to-image" or (kind == "ultra" and "image" in body)
        source = None
        strength = 1.0
        if image_to_image:
            if "image" not in body:
                raise _malformed("#", "required key [image] not found")
            if "strength" not in body:
                raise _malformed("#", "required key [strength] not found")
            strength = float(_number(body, "strength", "#", *STRENGTH_RANGE, integer=False) or 0.0)
            if ratio is not None:
                raise BedrockError("ValidationException", MSG_ASPECT_TEXT_TO_IMAGE_ONLY)
            source = _decode_stability_input(body["image"], "#/image", kind)
            # Output keeps the input's shape at ~1 MP: the nearest bucket.
            ratio = _nearest_ratio(*source.size)
        elif kind == "ultra" and "strength" in body:
            raise BedrockError("ValidationException", "strength is only valid when image is provided.")
        elif "image" in body or "strength" in body:
            raise BedrockError(
                "ValidationException", "image and strength are only valid when mode is image-to-image."
            )
        ratio = ratio or "1:1"
        width, height = STABILITY_OUTPUT_SIZES[ratio]
        key = json.dumps([kind, texts, ratio, body.get("seed"), body.get("strength")], sort_keys=True)
        return _StabilityRequest(kind=kind, texts=texts, width=width, height=height,
                                 seed=_stability_seed(body, key), output_format=fmt, source=source, key=key,
                                 strength=strength)

    _only_keys(body, _SERVICE_FIELDS[kind], "#")
    for key in _SERVICE_REQUIRED[kind]:
        if key not in body:
            raise _malformed("#", f"required key [{key}] not found")
    for key in ("prompt", "search_prompt", "select_prompt", "negative_prompt"):
        if key in body:
            text(key, required=False)
    formats = STABILITY_FORMATS_REMOVE_BG if kind == "remove-background" else STABILITY_FORMATS_DEFAULT
    fmt = _enum(body, "output_format", "#", formats) or "png"
    _enum(body, "style_preset", "#", STYLE_PRESETS)
    _number(body, "grow_mask", "#", 0, GROW_MASK_MAX.get(kind, GROW_MASK_MAX_DEFAULT), integer=False)
    if kind in CREATIVITY:
        low, high = CREATIVITY[kind]
        _number(body, "creativity", "#", low, high, integer=False)
    fidelity = _number(body, "fidelity", "#", *STYLE_GUIDE_FIDELITY, integer=False)
    ratio = _enum(body, "aspect_ratio", "#", STABILITY_ASPECT_RATIOS) or "1:1"
    source = _decode_stability_input(body["image"], "#/image", kind)
    mask = _decode_stability_input(body["mask"], "#/mask", "mask") if "mask" in body else None
    width, height = source.size
    offset = (0, 0)
    strength = 1.0
    if kind == "style-guide":
        # A new image in the reference's style, sized by aspect_ratio (~1 MP).
        width, height = STABILITY_OUTPUT_SIZES[ratio]
        strength = 0.5 if fidelity is None else float(fidelity)
    elif kind == "outpaint":
        sides = [_number(body, side, "#", 0, OUTPAINT_MAX, integer=True) or 0 for side in ("left", "right", "up", "down")]
        if not any(sides):
            raise BedrockError(
                "ValidationException", "At least one of left, right, up or down must be greater than 0."
            )
        left, right, up, down = (int(v) for v in sides)
        width, height = width + left + right, height + up + down
        offset = (left, up)
    elif kind == "fast-upscale":
        width, height = width * 4, height * 4
    elif kind in ("creative-upscale", "conservative-upscale"):
        scale = max(1.0, (UPSCALE_TARGET_PIXELS / (width * height)) ** 0.5)
        width, height = int(width * scale), int(height * scale)
    key = json.dumps([kind, texts, body.get("seed"), source.size, width, height, body.get("fidelity")],
                     sort_keys=True)
    return _StabilityRequest(kind=kind, texts=texts, width=width, height=height,
                             seed=_stability_seed(body, key), output_format=fmt, source=source, mask=mask, key=key,
                             offset=offset, strength=strength)


def _nearest_ratio(width: int, height: int) -> str:
    import math

    target = math.log(width / height)
    return min(STABILITY_ASPECT_RATIOS, key=lambda r: abs(math.log(int(r.split(":")[0]) / int(r.split(":")[1])) - target))


def _decode_stability_input(value: Any, path: str, kind: str) -> _Input:
    """Decode one Stability input image and apply the service's documented size limits."""
    if not isinstance(value, str):
        raise _malformed(path, f"expected type: String, found: {_type_name(value)}")
    try:
        data = base64.b64decode(value, validate=True)
        img = Image.open(io.BytesIO(data))
        img.load()
    except (binascii.Error, ValueError, OSError):
        raise BedrockError(
            "ValidationException",
            f"{MODEL_ERRORS}Unable to decode the image at {path}. Images must be base64-encoded JPEG, PNG or WEBP.",
        ) from None
    fmt = img.format or ""
    if fmt not in ("PNG", "JPEG", "WEBP"):
        raise BedrockError(
            "ValidationException",
            f"{MODEL_ERRORS}Unsupported image format {fmt or 'unknown'} at {path}. Supported formats: jpeg, png, webp.",
        )
    if kind == "mask":
        # Masks are resized to the image by the service, so only decoding is checked.
        return _Input(image=img, fmt=fmt, nbytes=len(data))
    width, height = img.size
    pixels = width * height
    high_side: int | None = None
    high_pixels: int | None = None
    if kind == "fast-upscale":
        low_side, high_side = FAST_UPSCALE_SIDES
        low_pixels, high_pixels = FAST_UPSCALE_PIXELS
    elif kind == "ultra":
        low_side, high_side = ULTRA_INPUT_SIDES
        low_pixels = STABILITY_MIN_PIXELS
    elif kind == "sd3.5":
        low_side, low_pixels = STABILITY_MIN_SIDE, 0
    else:
        low_side = STABILITY_MIN_SIDE
        low_pixels = STABILITY_MIN_PIXELS
        high_pixels = STABILITY_MAX_PIXELS_BY_SERVICE.get(kind, STABILITY_MAX_PIXELS)
    problem = None
    if min(width, height) < low_side:
        problem = f"every side must be at least {low_side} pixels"
    elif high_side is not None and max(width, height) > high_side:
        problem = f"every side must be at most {high_side:,} pixels"
    elif high_pixels is not None and not low_pixels <= pixels <= high_pixels:
        problem = f"the total pixel count must be between {low_pixels:,} and {high_pixels:,}"
    elif pixels < low_pixels:
        problem = f"the total pixel count must be at least {low_pixels:,}"
    elif kind not in NO_ASPECT_RULE and max(width, height) > STABILITY_MAX_ASPECT * min(width, height):
        problem = "the aspect ratio must be between 1:2.5 and 2.5:1"
    if problem:
        raise BedrockError(
            "ValidationException",
            f"{MODEL_ERRORS}Invalid input image at {path} ({width}x{height}): {problem}.",
        )
    return _Input(image=img, fmt=fmt, nbytes=len(data))


def _encode_as(img: Image.Image, output_format: str) -> str:
    buf = io.BytesIO()
    fmt = STABILITY_PIL_FORMATS[output_format]
    if fmt == "JPEG":
        img = img.convert("RGB")
        img.save(buf, format="JPEG", quality=85)
    elif fmt == "PNG":
        img.save(buf, format="PNG", compress_level=1)
    else:
        img.save(buf, format="WEBP", quality=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _render_stability(req: _StabilityRequest) -> str:
    """The one output image of a Stability request, base64 in ``req.output_format``."""
    if req.kind in ("core", "ultra", "sd3.5") and req.source is None and req.output_format == "png":
        return _art_png_b64(req.width, req.height, req.key)
    art = _gradient(req.width, req.height, req.key)
    if req.source is None:
        return _encode_as(art, req.output_format)
    if req.kind in ("core", "ultra", "sd3.5", "style-guide"):
        # Image-to-image: the input at the output size, moved towards the art by
        # `strength`; Style Guide: the art, tinted by the reference by `fidelity`.
        start = req.source.image.convert("RGB").resize((req.width, req.height), Image.Resampling.BILINEAR)
        if req.kind == "style-guide":
            return _encode_as(Image.blend(art, start, req.strength * 0.5), req.output_format)
        return _encode_as(Image.blend(start, art, req.strength), req.output_format)
    base = req.source.image.convert("RGB")
    if req.kind == "remove-background":
        out = req.source.image.convert("RGBA")
        alpha = Image.new("L", out.size, 0)
        w, h = out.size
        ImageDraw.Draw(alpha).ellipse((w // 6, h // 6, w - w // 6, h - h // 6), fill=255)
        out.putalpha(alpha)
        return _encode_as(out, req.output_format)
    if req.kind == "outpaint":
        # The original pixels sit where left/up put them; the rest is new art.
        canvas = art.copy()
        canvas.paste(base, req.offset)
        return _encode_as(canvas, req.output_format)
    if req.kind in ("inpaint", "erase") and req.mask is not None:
        # Stability masks: white = repaint, black = keep.
        white = req.mask.image.convert("L").resize(base.size).point(lambda v: 255 if v >= 128 else 0)
        return _encode_as(Image.composite(art, base, white), req.output_format)
    if req.kind.endswith("upscale"):
        return _encode_as(base.resize((req.width, req.height), Image.Resampling.BILINEAR), req.output_format)
    # search-replace / search-recolor / inpaint without a mask: the fake cannot find the
    # object, so it tints the whole photo with its art (same size as the input).
    return _encode_as(Image.blend(base, art, 0.5), req.output_format)


def _filtered_image(req: _StabilityRequest) -> str:
    """The placeholder a refusal carries: a flat grey image of the output size (a stand-in
    for Stability's blurred result), in ``req.output_format``."""
    return _encode_as(Image.new("RGB", (req.width, req.height), (128, 128, 128)), req.output_format)


# --------------------------------------------------------------------------------------
# GetFoundationModel metadata
# --------------------------------------------------------------------------------------


def _epoch(date: str) -> float:
    """``YYYY-MM-DD`` (or a full ISO timestamp) as epoch seconds, UTC."""
    from datetime import datetime

    value = datetime.fromisoformat(date.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _foundation_model_details(model_id: str, force: bool = False) -> dict[str, Any] | None:
    """``modelDetails`` for a known base model id (without ``modelLifecycle``), or None."""
    provider_key = model_id.split(".", 1)[0]
    if model_id in IMAGE_MODELS:
        inputs = ["TEXT", "IMAGE"]
        outputs = ["IMAGE"]
        inference = ["ON_DEMAND"]
        customizations = [] if model_id == NOVA_CANVAS else ["FINE_TUNING"]
    elif model_id in STABILITY_GENERATORS:
        inputs = ["TEXT", "IMAGE"] if STABILITY_GENERATORS[model_id] == "sd3.5" else ["TEXT"]
        outputs, inference, customizations = ["IMAGE"], ["ON_DEMAND"], []
    elif model_id in STABILITY_SERVICES:
        # Real listings show INFERENCE_PROFILE here (not in botocore's enum; botocore
        # does not validate response enums).
        inputs, outputs, inference, customizations = ["TEXT", "IMAGE"], ["IMAGE"], ["INFERENCE_PROFILE"], []
    elif CLAUDE_ID.match(model_id):
        inputs, outputs, customizations = ["TEXT", "IMAGE"], ["TEXT"], []
        inference = ["ON_DEMAND"] if model_id in CLAUDE_ON_DEMAND else ["INFERENCE_PROFILE"]
    elif force:
        inputs, outputs, inference, customizations = ["TEXT"], ["TEXT"], ["ON_DEMAND"], []
    else:
        return None
    providers = {"amazon": "Amazon", "stability": "Stability AI", "anthropic": "Anthropic"}
    return {
        "modelArn": f"arn:aws:bedrock:{REGION}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": _MODEL_NAMES.get(model_id, model_id),
        "providerName": providers.get(provider_key, provider_key.title()),
        "inputModalities": inputs,
        "outputModalities": outputs,
        "responseStreamingSupported": bool(CLAUDE_ID.match(model_id)),
        "customizationsSupported": customizations,
        "inferenceTypesSupported": inference,
    }
