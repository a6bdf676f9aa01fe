"""Lambda events and context shaped like the ones AWS delivers (tests and benchmarks)."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    function_name: str = "studio-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:studio-test"
    aws_request_id: str = "req-1"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def function_url_event(body: str, headers: dict[str, str], base64_body: bool = True) -> dict[str, Any]:
    """A Lambda Function URL (payload format 2.0) request, as Lambda delivers it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/slack/events",
        "rawQueryString": "",
        "headers": {key.lower(): value for key, value in headers.items()},
        "requestContext": {
            "accountId": "anonymous", "apiId": "abc123", "domainName": "abc123.lambda-url.us-east-1.on.aws",
            "http": {"method": "POST", "path": "/slack/events", "protocol": "HTTP/1.1", "sourceIp": "3.3.3.3",
                     "userAgent": "Slackbot 1.0 (+https://api.slack.com/robots)"},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:09:00:00 +0000", "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body.encode()).decode() if base64_body else body,
        "isBase64Encoded": base64_body,
    }


def browser_get_event(path: str) -> dict[str, Any]:
    """A browser following a link to the Function URL: a GET without a body (payload format 2.0)."""
    event = function_url_event("", {"accept": "text/html", "user-agent": "Mozilla/5.0"})
    event.update(rawPath=path, isBase64Encoded=False)
    event.pop("body")
    event["requestContext"]["http"].update(method="GET", path=path, userAgent="Mozilla/5.0")
    return event


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    """An SQS batch event with one record per message body."""
    return {"Records": [
        {
            "messageId": f"m{index}", "receiptHandle": f"r{index}", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                           "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:studio-jobs", "awsRegion": "us-east-1",
        }
        for index, body in enumerate(bodies)
    ]}
