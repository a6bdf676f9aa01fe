"""Building blocks of the AWS runtime: structured logging, secrets from SSM, the SQS queue.

``bot.bootstrap`` builds these once per container for the Lambda entry modules.
Nothing here imports Powertools at module level: the ingress must cold-start
fast, and importing any part of Powertools loads its Logger and Metrics (~15 ms).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.clients import aws_client
from bot.jobs import Job
from bot.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_APP_LOGGERS = ("bot", "handlers", "slack_bolt", "slack_sdk")
# What every LogRecord has; anything else on a record came from ``extra=`` and becomes a key.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def structured_logging(logger: Logger) -> None:
    """Send Studio's and Slack's module loggers through ``logger``: JSON, with its keys.

    Keys appended to ``logger`` (correlation id = job id, team/channel/user
    ids) then appear on every line, whichever module logged it.
    """
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    for name in _APP_LOGGERS:
        logging.getLogger(name)  # make the parents real loggers, not placeholders
    copy_config_to_registered_loggers(source_logger=logger, include=set(_APP_LOGGERS))


class JsonLogFormat(logging.Formatter):
    """One JSON object a line with Powertools Logger's keys, in its order, for the ingress.

    ``level``, ``location``, ``message``, ``timestamp``, ``service``, ``name`` (the
    logger's, as ``structured_logging`` adds it to the worker's lines), then the Lambda
    context (``cold_start``, ``function_*``) once ``lambda_context`` was called, any
    ``extra=`` keys, ``exception``/``exception_name``, and ``xray_trace_id``. The same
    log queries work for the ingress (this) and the worker (Powertools Logger).
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self.context: dict[str, Any] = {}
        self._cold_start = True

    def lambda_context(self, context: Any) -> None:
        """Add the invocation's Lambda context to every line from now on."""
        self.context.update(cold_start=self._cold_start, function_name=context.function_name,
                         function_memory_size=context.memory_limit_in_mb,
                         function_arn=context.invoked_function_arn, function_request_id=context.aws_request_id)
        self._cold_start = False

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"level": record.levelname, "location": f"{record.funcName}:{record.lineno}",
                                "message": record.getMessage(), "timestamp": self.formatTime(record),
                                "service": self.service, "name": record.name, **self.context}
        line.update((key, value) for key, value in record.__dict__.items() if key not in _RECORD_ATTRS)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
            line["exception_name"] = record.exc_info[0].__name__
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        if trace:
            line["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
        return json.dumps(line, default=str, separators=(",", ":"), ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - stdlib name
        # Powertools' format: 2026-12-03 14:35:02,123+0000
        moment = time.localtime(record.created)
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', moment)},{int(record.msecs):03d}{time.strftime('%z', moment)}"


def json_logging() -> JsonLogFormat:
    """Log Studio's and Slack's loggers as JSON lines on stdout, at the function's log level, without Powertools."""
    log_format = JsonLogFormat(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(log_format)
    # Lambda's advanced logging controls first, as Powertools Logger does.
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or os.environ.get("POWERTOOLS_LOG_LEVEL")
             or os.environ.get("LOG_LEVEL") or "INFO").upper()
    for name in _APP_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False  # Lambda's root handler would print each line a second time
    return log_format


def with_secrets(settings: Settings, want_signing_secret: bool) -> Settings:
    """``settings`` with the Slack secrets read from SSM Parameter Store (SecureString).

    Secrets are never template parameters or plain environment variables on
    AWS; the environment only names the SSM parameters. Each is read with
    ``GetParameter``, the one action the functions' IAM policies grant.
    """
    token_name = settings.slack_bot_token_param
    secret_name = settings.slack_signing_secret_param if want_signing_secret else ""
    if not token_name and not secret_name:
        return settings
    ssm = aws_client("ssm", settings)

    def read(name: str) -> str:
        return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])

    return replace(settings,
                   slack_bot_token=read(token_name) if token_name else settings.slack_bot_token,
                   slack_signing_secret=read(secret_name) if secret_name else settings.slack_signing_secret)


class SqsQueue:
    """Sends jobs to the worker's SQS queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises if SQS does not take it (the listener then says so)."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=job.to_json())
