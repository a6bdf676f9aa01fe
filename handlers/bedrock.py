"""Calling Bedrock Runtime and translating its failures into typed errors."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, NoCredentialsError, ReadTimeoutError

from handlers.errors import (
    ModelAccessDenied,
    ModelBeingEnabled,
    ModelBlocked,
    ModelBusy,
    ModelFailed,
    ModelNeedsProfile,
    ModelUnavailable,
)
from handlers.models import base_model_id

# Codes that mean "the service is fine but cannot take this now": worth a retry.
_BUSY_CODES = frozenset({
    "ThrottlingException",
    "ModelNotReadyException",
    "ServiceUnavailableException",
    "ServiceQuotaExceededException",
    "ModelTimeoutException",
    "InternalServerException",
})
_CONTENT_FILTER_MARK = "content filters"
# Marks in Bedrock's messages (lower case) that say the model cannot be used at all.
_UNAVAILABLE_MARKS = (
    ("end of its life", "end_of_life"),
    ("marked by provider as legacy", "legacy_unused"),
    ("provided model identifier is invalid", "invalid_id"),
    ("could not resolve the foundation model", "invalid_id"),
    ("operation not allowed", "account_blocked"),
)


def invoke_json(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """InvokeModel with a JSON body; returns the parsed JSON response."""
    try:
        response = client.invoke_model(
            modelId=model_id,
            body=json.dumps(body),
            contentType="application/json",
            accept="application/json",
        )
        answer: dict[str, Any] = json.loads(response["body"].read())
        return answer
    except (ClientError, BotoCoreError) as error:
        raise translate_error(error, client, model_id) from error


def converse(client: Any, model_id: str, **request: Any) -> dict[str, Any]:
    """Converse API call; returns the raw response."""
    try:
        response: dict[str, Any] = client.converse(modelId=model_id, **request)
        return response
    except (ClientError, BotoCoreError) as error:
        raise translate_error(error, client, model_id) from error


def translate_error(error: Exception, client: Any, model_id: str) -> Exception:
    """Map a botocore failure to the typed error a person can act on."""
    region = client.meta.region_name
    if isinstance(error, NoCredentialsError):
        return ModelFailed("no_credentials")
    if isinstance(error, (ConnectionError, ReadTimeoutError)):
        return ModelBusy(f"Bedrock in {region} did not answer in time")
    if not isinstance(error, ClientError):
        return ModelFailed("call_failed", kind=type(error).__name__)
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "") or code
    lowered = message.lower()
    if code == "ValidationException" and _CONTENT_FILTER_MARK in message:
        return ModelBlocked(message)
    for mark, reason in _UNAVAILABLE_MARKS:
        if mark in lowered:
            return ModelUnavailable(model_id, region, reason)
    if "on-demand throughput" in lowered:
        return ModelNeedsProfile(model_id, f"us.{base_model_id(model_id)}")
    if code == "UnrecognizedClientException" or (code == "AccessDeniedException" and "not authorized" in lowered):
        return ModelAccessDenied(model_id, region, marketplace="aws-marketplace" in lowered)
    if code == "AccessDeniedException":
        # Access to serverless models is granted on first call (AWS Marketplace); until
        # the subscription completes, Bedrock answers this for a few minutes.
        return ModelBeingEnabled(model_id, region)
    if code == "ResourceNotFoundException":
        return ModelUnavailable(model_id, region, "not_found")
    if code in _BUSY_CODES:
        return ModelBusy(message)
    return ModelFailed("rejected", error_code=code, message=message)
