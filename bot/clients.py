"""The one place that builds API clients, with timeouts and retries."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound, ReadTimeoutError
from slack_sdk import WebClient
from slack_sdk.http_retry import BackoffRetryIntervalCalculator, Jitter, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from bot.errors import BedrockTimedOut
from bot.settings import Settings

log = logging.getLogger(__name__)

# botocore's standard mode absorbs short throttling blips and 5xx answers (each
# retry is logged); the worker adds a longer, visible retry on top (see bot.flows.retry).
# One read timeout, long enough for the slowest model (Stability Ultra and the
# upscalers take tens of seconds), and never retried: Bedrock finishes, and bills,
# a request whose answer Studio stopped waiting for.
_BEDROCK_CONFIG = Config(
    connect_timeout=5,
    read_timeout=300,
    retries={"mode": "standard", "max_attempts": 3},
    user_agent_extra="studio-slack",
    # Bedrock checks every request (so does the fake in tests); botocore's walk of each parameter
    # against the service model is CPU spent again on each of a batch's thousands of calls, for
    # requests Studio builds itself. botocore offers the switch for this reason.
    parameter_validation=False,
)


# Models a photo waits on one after the other (Stability /replace-bg: remove the background, then
# inpaint): with ``MeteredBedrock``'s limit per model, this many photos per slot keep every model busy.
MODELS_IN_TURN = 2
# Jobs started ahead of their first Bedrock call: they download and decode while others wait on the model.
PREPARING_JOBS = 4


def jobs_in_flight(worker_concurrency: int) -> int:
    """Jobs (photos) to run at once so that every model's slots stay busy, and the next few get ready."""
    return max(1, worker_concurrency) * MODELS_IN_TURN + PREPARING_JOBS
# Models one pipeline keeps busy side by side (the cut-outs of some photos, the inpaints and vision
# checks of others): each has ``STUDIO_WORKERS`` calls in flight, each on a connection of its own.
MODELS_AT_ONCE = 3


def bedrock_runtime(settings: Settings) -> Any:
    """A bedrock-runtime client for Bedrock's region (and endpoint, if set).

    Its connection pool holds a connection for every call the workers can have in flight
    (botocore keeps 10: a call beyond them opens a connection and throws it away after).
    """
    pool = max(_BEDROCK_CONFIG.max_pool_connections, settings.worker_concurrency * MODELS_AT_ONCE)
    client = boto3.client(
        "bedrock-runtime",
        region_name=settings.bedrock_region,
        endpoint_url=settings.bedrock_endpoint_url,
        config=_BEDROCK_CONFIG.merge(Config(max_pool_connections=pool)),
    )
    # First, so that a read timeout ends the call before botocore's retry handler sends it again.
    client.meta.events.register_first("needs-retry.bedrock-runtime", _no_resend_after_read_timeout)
    client.meta.events.register("request-created.bedrock-runtime", _log_retry)
    return client


def _no_resend_after_read_timeout(caught_exception: Exception | None = None,
                                  request_dict: dict[str, Any] | None = None, response: Any = None,
                                  **_: Any) -> None:
    """botocore's needs-retry hook: a read timeout is final; any other failure is noted for ``_log_retry``."""
    if isinstance(caught_exception, ReadTimeoutError):
        raise BedrockTimedOut(_BEDROCK_CONFIG.read_timeout) from caught_exception
    if request_dict is not None:
        request_dict["context"]["studio_failure"] = _failure_name(caught_exception, response)


def _failure_name(error: Exception | None, response: Any) -> str:
    if error is not None:
        return type(error).__name__
    if response is not None:
        http, parsed = response
        return str(parsed.get("Error", {}).get("Code") or f"HTTP {http.status_code}")
    return "unknown"


def _log_retry(request: Any, operation_name: str = "", **_: Any) -> None:
    """Log each attempt after the first of a Bedrock call (botocore's quick retries)."""
    attempt = request.context.get("retries", {}).get("attempt", 1)
    if attempt > 1:
        log.warning("Bedrock %s failed (%s); botocore retry, attempt %d", operation_name,
                    request.context.get("studio_failure", "unknown"), attempt)


# SQS and DynamoDB calls sit on the ingress's path to Slack's 3-second ack.
_QUICK_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


class MeteredBedrock:
    """The bedrock-runtime client jobs use: at most ``limit`` calls at once to each model, each call timed.

    The bound protects the account's Bedrock quotas where one process runs the
    jobs. Quotas are per model, so each model id gets its own ``limit``: a
    Stability batch keeps ``limit`` inpaint calls and ``limit`` vision checks in
    flight beside each other rather than sharing one budget (on AWS the worker's
    maximum concurrency bounds the calls, so there is no limit). ``on_slot`` runs
    on the calling thread once a call has its slot (the local pool then lets the
    next job start preparing). ``on_call`` gets each call's model id and
    seconds; the response body is read inside the timing, so streaming the
    answer counts as model time.
    """

    def __init__(self, client: Any, on_call: Callable[[str, float], None], limit: int | None = None,
                 on_slot: Callable[[], None] | None = None) -> None:
        self._client = client
        self._on_call = on_call
        self._limit = limit
        self._on_slot = on_slot
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._slots_lock = threading.Lock()
        self.meta = client.meta

    def invoke_model(self, **kwargs: Any) -> Any:
        return self._in_slot(self._client.invoke_model, kwargs)

    def converse(self, **kwargs: Any) -> Any:
        return self._in_slot(self._client.converse, kwargs)

    def _in_slot(self, call: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        with self._slot(str(kwargs.get("modelId", ""))):
            if self._on_slot is not None:
                self._on_slot()
            return self._measure(call, **kwargs)

    def _slot(self, model_id: str) -> AbstractContextManager[Any]:
        # On every call of a batch's thousands: the model's semaphore itself, no generator around it.
        if self._limit is None:
            return _NO_LIMIT
        slot = self._slots.get(model_id)
        if slot is None:
            with self._slots_lock:
                slot = self._slots.setdefault(model_id, threading.BoundedSemaphore(self._limit))
        return slot

    def _measure(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = call(**kwargs)
            if hasattr(response.get("body"), "read"):
                response["body"] = _ReadBody(response["body"].read())
            return response
        finally:
            self._on_call(str(kwargs.get("modelId", "")), time.perf_counter() - started)


_NO_LIMIT = nullcontext()


class _ReadBody:
    """An already-read response body that still offers ``read()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self) -> bytes:
        return self._data


def aws_client(service: str, settings: Settings) -> Any:
    """An SQS, DynamoDB or other AWS client with short timeouts, in the configured region."""
    config = _QUICK_AWS_CONFIG
    if service == "s3":
        # SigV4 presigned URLs: SigV2 ones are refused for KMS-encrypted objects and deprecated.
        config = config.merge(Config(signature_version="s3v4"))
    return boto3.client(service, region_name=settings.aws_region, config=config)


class LazyClient:
    """An AWS client built on its first use, for one that most requests never touch."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    def build(self) -> Any:
        """The client (built now if it was not yet)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client

    @property
    def is_built(self) -> bool:
        return self._client is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.build(), name)


def bedrock_control(settings: Settings) -> Any:
    """A Bedrock control-plane client (model lifecycle and access; never invokes a model)."""
    return boto3.client("bedrock", region_name=settings.bedrock_region,
                        endpoint_url=settings.bedrock_control_endpoint_url, config=_QUICK_AWS_CONFIG)


# slack_sdk counts one request's attempts across all its handlers, so each limit is a total.
# Rate limits are waited out (Retry-After is usually 1 s for posting, up to a minute per tier);
# 5xx answers and dropped connections are retried with exponential backoff.
SLACK_RATE_LIMIT_RETRIES = 10
SLACK_ERROR_RETRIES = 4


class _AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries every 5xx: slack_sdk's handler takes only 500 and 503, but a 502 or 504 is as transient."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and response.status_code >= 500


class _ProportionalJitter(Jitter):
    """±20 % around the backoff (slack_sdk's default jitter adds up to a second to any wait)."""

    def recalculate(self, duration: float) -> float:
        return duration * random.uniform(0.8, 1.2)


def slack_retry_handlers(backoff_seconds: float = 0.5) -> list[RetryHandler]:
    """Retry handlers for every Slack client a worker uses (Web API and response_url).

    Waits ``backoff_seconds``, then twice that, and so on, between retries of a 5xx or a
    dropped connection; a 429 waits for as long as its ``Retry-After`` says.
    """
    backoff = BackoffRetryIntervalCalculator(backoff_factor=backoff_seconds, jitter=_ProportionalJitter())
    return [
        ConnectionErrorRetryHandler(max_retry_count=SLACK_ERROR_RETRIES, interval_calculator=backoff),
        RateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES),
        _AnyServerErrorRetryHandler(max_retry_count=SLACK_ERROR_RETRIES, interval_calculator=backoff),
    ]


def slack_web_client(settings: Settings) -> WebClient:
    """A Slack WebClient for workers: waits out rate limits and retries transient failures."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=30,
        # A quarter of the Bedrock retry base: 0.5 s by default.
        retry_handlers=slack_retry_handlers(settings.retry_base_seconds / 4),
    )


def slack_listener_client(settings: Settings) -> WebClient:
    """A Slack WebClient for listeners: short timeout, no waiting out rate limits.

    A listener's calls sit inside Slack's 3-second ack, so they fail fast instead.
    """
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=2,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)])


def aws_credentials_hint(settings: Settings) -> str | None:
    """A sentence telling the admin how to provide AWS credentials, or None if present."""
    try:
        if boto3.Session(region_name=settings.aws_region).get_credentials() is not None:
            return None
    except ProfileNotFound as error:
        profile = error.kwargs["profile"]
        return (
            f"AWS_PROFILE={profile} names no profile in ~/.aws/config or ~/.aws/credentials. Create it with "
            f"`aws configure --profile {profile}` (or `aws configure sso`), or set AWS_PROFILE to one that exists."
        )
    return (
        "No AWS credentials found. Set AWS_PROFILE (after `aws configure` or `aws sso login`), "
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, for an identity allowed to call "
        "bedrock:InvokeModel in "
        f"{settings.bedrock_region}."
    )
