"""AWS Lambda ingress (behind a Function URL): verify, parse, ack, queue.

Everything is built at import time (``bot.bootstrap``): with SnapStart that is
once per deployed version, in the snapshot; without, once per container. This
module imports only what acking needs (no Pillow, no Bedrock client, no X-Ray
SDK, no Powertools: its JSON log lines come from ``bot.runtime.aws.json_logging``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from bot.bootstrap import lambda_ingress
from bot.catalogue.links import is_results_request, presigned_url, results_redirect
from bot.runtime.aws import json_logging
from bot.runtime.snapstart import refresh_after_restore, warm_before_snapshot
from bot.slack.http_guard import lambda_refusal

log_format = json_logging()
# No X-Ray SDK here: importing it and patching botocore cost ~16 ms of cold import,
# for one subsegment (the SQS send). Lambda's active tracing still records each request, and
# botocore passes its trace id on to SQS, so the worker's trace continues it.

settings, queue, state, app = lambda_ingress()
# Each restored SnapStart environment reseeds the image seeds and opens its own connections.
refresh_after_restore(queue.client, state.client)
slack_handler = SlackRequestHandler(app)
# Imported on first use, not here: words and helpers that only answer mistakes and errors
# (~5-6 ms of this module's cold import) and result records, read only for a result button or the
# Extend form (~1.5 ms); a container without SnapStart would pay both on every cold start. With
# SnapStart they are imported before the snapshot, so no restored environment pays for them within
# Slack's 3 seconds; without, the first such answer in a container pays them once. The same holds for
# the DynamoDB client (``bot.bootstrap.lambda_ingress``), built for the snapshot too.
FIRST_USE_MODULES = ("bot.messages.errors", "bot.messages.admin", "bot.messages.brand", "difflib",
                     "bot.flows.results")
warm_before_snapshot(FIRST_USE_MODULES, clients=(state.client,))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Function URL / HTTP API (payload v2) event in, Slack's HTTP answer out (or a results link followed)."""
    log_format.lambda_context(context)
    if is_results_request(event):
        return results_redirect(event, state, _presign)
    # slack_bolt's Lambda adapter is untyped.
    return lambda_refusal(event, settings.slack_signing_secret) or slack_handler.handle(event, context)  # type: ignore[no-untyped-call]


@cache
def _s3() -> Any:
    # Built on the first results link followed, not at import: Slack's requests never need it.
    from bot.clients import aws_client

    return aws_client("s3", settings)


def _presign(key: str, seconds: int) -> str:
    return presigned_url(_s3(), settings.catalogue_bucket, key, seconds)
