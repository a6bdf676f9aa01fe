"""moto resources built from infra/template.yaml, so tests and infrastructure cannot drift.

The table's keys, TTL and billing mode, the queues' visibility timeout, retention,
encryption and redrive policy, the worker's event source settings and the
functions' environment are all read from the SAM template itself.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

TEMPLATE_PATH: Path = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"

TEST_TABLE_NAME = "studio-state-test"
TEST_QUEUE_NAME = "studio-jobs-test"
TEST_DLQ_NAME = "studio-dlq-test"
# Pseudo parameters for resolving ``Fn::Sub`` in an environment (refs passed in win).
PSEUDO_PARAMETERS = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
                     "AWS::StackName": "studio"}

# AWS::SQS::Queue properties that are also CreateQueue attributes of the same name.
_SQS_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
)


@cache
def _template() -> str:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    template, errors = decode_str(text)
    if errors or template is None:
        raise ValueError(f"{TEMPLATE_PATH} does not parse: {errors}")
    # Plain dicts/lists/strings (cfn-lint's nodes carry line marks); short-form
    # intrinsics come back in long form: {"Ref": ...}, {"Fn::GetAtt": [...]}.
    return json.dumps(template)


def load_template() -> dict[str, Any]:
    """The SAM template as plain data (a fresh copy each call, safe to modify)."""
    return json.loads(_template())


def resource(logical_id: str) -> dict[str, Any]:
    """One resource of the template (``Type``, ``Properties``, ...)."""
    resources = load_template()["Resources"]
    if logical_id not in resources:
        raise KeyError(f"{logical_id} is not a resource of {TEMPLATE_PATH.name}: {sorted(resources)}")
    return resources[logical_id]


def _properties(logical_id: str) -> dict[str, Any]:
    return resource(logical_id).get("Properties", {})


def _attribute(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def create_state_table(dynamodb_client: Any) -> str:
    """Create the StateTable (keys, billing, TTL, PITR, SSE from the template); return its name."""
    props = _properties("StateTable")
    name = props.get("TableName") if isinstance(props.get("TableName"), str) else TEST_TABLE_NAME
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in props:
        kwargs["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        kwargs["SSESpecification"] = {"Enabled": True}
    dynamodb_client.create_table(**kwargs)
    dynamodb_client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})

    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb_client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb_client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return name


def _queue_attributes(logical_id: str) -> dict[str, str]:
    props = _properties(logical_id)
    return {key: _attribute(props[key]) for key in _SQS_ATTRIBUTES if key in props}


def create_job_queues(sqs_client: Any) -> tuple[str, str]:
    """Create DeadLetterQueue, then JobQueue redriving to it, as the template does; return (queue_url, dlq_url)."""
    dlq_url = sqs_client.create_queue(QueueName=TEST_DLQ_NAME, Attributes=_queue_attributes("DeadLetterQueue"))[
        "QueueUrl"
    ]
    dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    redrive = _properties("JobQueue")["RedrivePolicy"]
    target = redrive["deadLetterTargetArn"]
    if target != {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}:
        raise ValueError(f"JobQueue must redrive to DeadLetterQueue, not {target!r}")
    attributes = _queue_attributes("JobQueue")
    attributes["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(redrive["maxReceiveCount"])}
    )
    queue_url = sqs_client.create_queue(QueueName=TEST_QUEUE_NAME, Attributes=attributes)["QueueUrl"]
    return queue_url, dlq_url


def worker_event_source() -> dict[str, Any]:
    """Properties of WorkerFunction's SQS event (Queue, BatchSize, FunctionResponseTypes, ScalingConfig)."""
    events = _properties("WorkerFunction").get("Events", {})
    sqs_events = [event["Properties"] for event in events.values() if event.get("Type") == "SQS"]
    if len(sqs_events) != 1:
        raise ValueError(f"WorkerFunction should have exactly one SQS event, found {len(sqs_events)}")
    return sqs_events[0]


def _function_id(name: str) -> str:
    resources = load_template()["Resources"]
    for candidate in (name, f"{name[:1].upper()}{name[1:]}Function"):
        if resources.get(candidate, {}).get("Type") == "AWS::Serverless::Function":
            return candidate
    raise KeyError(f"no function {name!r} in {TEMPLATE_PATH.name}")


def function_environment(name: str) -> dict[str, Any]:
    """Globals' environment merged with the function's own (``IngressFunction`` or ``ingress``).

    Values are as written: literals, or intrinsics such as ``{"Ref": "StateTable"}``.
    """
    template = load_template()
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = _properties(_function_id(name)).get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def parameter_defaults() -> dict[str, str]:
    """Each template parameter's default value, as the string CloudFormation would pass."""
    return {
        name: _attribute(spec.get("Default", "")) for name, spec in load_template().get("Parameters", {}).items()
    }


def resolved_environment(name: str, refs: dict[str, str] | None = None) -> dict[str, str]:
    """A function's environment as deployed with default parameters.

    ``{"Ref": <parameter>}`` becomes the parameter's default; ``{"Ref": <resource>}``
    becomes ``refs[<resource>]`` (e.g. the moto queue URL for ``JobQueue``), ``{"Fn::GetAtt":
    [<resource>, <attribute>]}`` becomes ``refs["<resource>.<attribute>"]``; a
    ``Fn::Sub`` string gets both, and the pseudo parameters of ``PSEUDO_PARAMETERS``.
    """
    defaults, refs = parameter_defaults(), {**PSEUDO_PARAMETERS, **(refs or {})}

    def lookup(key: str, target: str) -> str:
        if target in refs:
            return refs[target]
        if target in defaults:
            return defaults[target]
        raise KeyError(f"{key} refers to {target}; pass refs={{{target!r}: ...}}")

    resolved: dict[str, str] = {}
    for key, value in function_environment(name).items():
        if isinstance(value, dict) and set(value) == {"Ref"}:
            resolved[key] = lookup(key, value["Ref"])
        elif isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            resolved[key] = lookup(key, ".".join(value["Fn::GetAtt"]))
        elif isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            resolved[key] = re.sub(r"\$\{([^}!]+)\}", lambda m, k=key: lookup(k, m[1]), value["Fn::Sub"])
        elif isinstance(value, (str, int, float, bool)):
            resolved[key] = _attribute(value)
        else:
            raise ValueError(f"{key}: cannot resolve {value!r}")
    return resolved


def state_store(kind: str) -> Any:
    """A fresh state store of the given kind ("sqlite" or "dynamodb"); call inside ``mock_aws()`` for DynamoDB."""
    import boto3

    from bot.runtime.dynamo_state import DynamoState
    from bot.runtime.sqlite_state import SqliteState

    if kind == "sqlite":
        return SqliteState(":memory:")
    client = boto3.client("dynamodb", region_name="us-east-1")
    return DynamoState(client, create_state_table(client))
