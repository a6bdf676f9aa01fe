"""In-memory stand-ins for the SQS and DynamoDB clients, so the ack benchmark times Studio, not moto."""

from __future__ import annotations

from typing import Any


class StubSqs:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:  # noqa: N803 - boto3 names
        self.sent.append(MessageBody)
        return {"MessageId": str(len(self.sent))}


class StubDynamo:
    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}
