"""AWS Lambda ingress (behind a Function URL): verify, parse, ack, queue.

Everything is built once per container at import time (``bot.bootstrap``).
This module imports no Pillow and no Bedrock client, so a cold start stays short.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from bot.bootstrap import lambda_ingress
from bot.runtime.aws import structured_logging
from bot.slack.http_guard import lambda_refusal

logger = Logger()
structured_logging(logger)
# Trace AWS SDK and HTTP calls (Bedrock, SQS, DynamoDB, Slack); patching every
# library X-Ray knows would import them all and slow the cold start.
tracer = Tracer(patch_modules=["botocore", "httplib"])

settings, queue, state, app = lambda_ingress()
slack_handler = SlackRequestHandler(app)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Function URL / HTTP API (payload v2) event in, Slack's HTTP answer out."""
    return lambda_refusal(event, settings.slack_signing_secret) or slack_handler.handle(event, context)
