"""Calling Bedrock Runtime and translating its failures into typed errors."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, NoCredentialsError, ReadTimeoutError

from handlers.errors import ModelAccessDenied, ModelBlocked, ModelBusy, ModelFailed

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


def invoke_json(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """InvokeModel with a JSON body; returns the parsed JSON response."""
    try:
        response = client.invoke_model(
            modelId=model_id,
            body=json.dumps(body),
            contentType="application/json",
            accept="application/json",
        )
        return json.loads(response["body"].read())
    except (ClientError, BotoCoreError) as error:
        raise translate_error(error, client, model_id) from error


def converse(client: Any, model_id: str, **request: Any) -> dict[str, Any]:
    """Converse API call; returns the raw response."""
    try:
        return client.converse(modelId=model_id, **request)
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
    if code == "ValidationException" and _CONTENT_FILTER_MARK in message:
        return ModelBlocked(message)
    if code in ("AccessDeniedException", "UnrecognizedClientException"):
        return ModelAccessDenied(model_id, region)
    if code == "ResourceNotFoundException":
        return ModelFailed("model_unavailable", model=model_id, region=region)
    if code in _BUSY_CODES:
        return ModelBusy(message)
    return ModelFailed("rejected", error_code=code, message=message)
