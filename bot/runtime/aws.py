"""Building blocks of the AWS runtime: structured logging, secrets from SSM, the SQS queue.

``bot.bootstrap`` builds these once per container for the Lambda entry modules.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities import parameters

from bot.jobs import Job
from bot.settings import Settings

# Secrets are read once per container start (module scope of the Lambda entry
# modules); a rotated token reaches new containers, and old ones within Lambda's
# normal recycling.
SECRETS_MAX_AGE_SECONDS = 300


_APP_LOGGERS = ("bot", "handlers", "slack_bolt", "slack_sdk")


def structured_logging(logger: Logger) -> None:
    """Send Studio's and Slack's module loggers through ``logger``: JSON, with its keys.

    Keys appended to ``logger`` (correlation id = job id, team/channel/user
    ids) then appear on every line, whichever module logged it.
    """
    for name in _APP_LOGGERS:
        logging.getLogger(name)  # make the parents real loggers, not placeholders
    copy_config_to_registered_loggers(source_logger=logger, include=set(_APP_LOGGERS))


def with_secrets(settings: Settings, want_signing_secret: bool) -> Settings:
    """``settings`` with the Slack secrets read from SSM Parameter Store (SecureString).

    Secrets are never template parameters or plain environment variables on
    AWS; the environment only names the SSM parameters. Both are fetched in
    one batched call and cached by Powertools.
    """
    names = {"slack_bot_token": settings.slack_bot_token_param}
    if want_signing_secret:
        names["slack_signing_secret"] = settings.slack_signing_secret_param
    wanted = {field: name for field, name in names.items() if name}
    if not wanted:
        return settings
    values = parameters.get_parameters_by_name(
        parameters={name: {} for name in wanted.values()}, decrypt=True, max_age=SECRETS_MAX_AGE_SECONDS
    )
    token = wanted.get("slack_bot_token")
    secret = wanted.get("slack_signing_secret")
    return replace(settings,
                   slack_bot_token=str(values[token]) if token else settings.slack_bot_token,
                   slack_signing_secret=str(values[secret]) if secret else settings.slack_signing_secret)


class SqsQueue:
    """Sends jobs to the worker's SQS queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises if SQS does not take it (the listener then says so)."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=job.to_json())
