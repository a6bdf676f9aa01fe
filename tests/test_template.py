"""infra/template.yaml: lints offline, keeps its promises, and builds working moto resources."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint, lint_file
from moto import mock_aws

from tests.aws_resources import (
    TEMPLATE_PATH,
    create_job_queues,
    create_state_table,
    function_environment,
    load_template,
    resolved_environment,
    worker_event_source,
)

REPO = TEMPLATE_PATH.parent.parent
FUNCTIONS = ("IngressFunction", "WorkerFunction")
SHARED_ENV = {
    "STUDIO_TABLE_NAME", "STUDIO_QUEUE_URL", "SLACK_BOT_TOKEN_PARAM", "SLACK_SIGNING_SECRET_PARAM",
    "STUDIO_IMAGE_MODEL", "STUDIO_EDIT_MODEL", "STUDIO_VISION_MODEL", "STUDIO_ALLOWED_CHANNELS",
    "STUDIO_ALLOWED_USERS", "STUDIO_ADMINS", "STUDIO_USER_DAILY_IMAGES", "STUDIO_TEAM_DAILY_IMAGES",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL",
}
MODEL_PARAMETERS = ("ImageModelId", "EditModelId", "RemoveBgModelId", "VisionModelId", "VisionBaseModelId")
FOUNDATION_MODEL = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${%s}"
PROFILE = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/${VisionModelId}"
BASE_MODEL_ANY_REGION = "arn:${AWS::Partition}:bedrock:*::foundation-model/${VisionBaseModelId}"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def function(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with Globals.Function applied (the function's own values win)."""
    return {**template.get("Globals", {}).get("Function", {}), **props(template, logical_id)}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any], logical_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in props(template, logical_id).get("Policies", []):
        # Only inline documents: SAM policy templates and managed policy names hide their actions.
        assert isinstance(policy, dict) and "Statement" in policy, f"{logical_id}: non-inline policy {policy!r}"
        found += policy["Statement"]
    return found


def all_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, spec in template["Resources"].items():
        if spec["Type"] == "AWS::Serverless::Function":
            for statement in statements(template, logical_id):
                yield logical_id, statement
        elif spec["Type"].startswith("AWS::IAM::"):
            document = spec["Properties"].get("PolicyDocument") or spec["Properties"].get("AssumeRolePolicyDocument")
            for statement in as_list((document or {}).get("Statement", [])):
                yield logical_id, statement
            for policy in spec["Properties"].get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    yield logical_id, statement


def sub(value: Any) -> str:
    """The string of a ``Fn::Sub`` (the template writes ARNs as ``!Sub``)."""
    assert isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str), value
    return value["Fn::Sub"]


# --- cfn-lint -------------------------------------------------------------------------------------


def test_cfn_lint_passes_offline() -> None:
    matches = lint_file(TEMPLATE_PATH, config=ManualArgs(regions=["us-east-1", "us-west-2", "eu-west-1"]))
    assert [str(match) for match in matches] == []


def test_cfn_lint_reads_the_sam_resources_it_passes() -> None:
    # Guards against a vacuous pass: a typo in a SAM function's properties must be reported.
    broken = TEMPLATE_PATH.read_text().replace("      MemorySize: 512\n", "      MemorySize: 512\n      MemroySize: 1\n")
    assert "MemroySize" in broken
    assert any("MemroySize" in str(match) for match in lint(broken))


# --- functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_functions_run_python_on_arm64_with_tracing(template: dict[str, Any], logical_id: str) -> None:
    spec = function(template, logical_id)
    assert spec["Runtime"] in {"python3.12", "python3.13"}
    assert spec["Architectures"] == ["arm64"]
    assert spec["Tracing"] == "Active"
    assert template["Resources"][logical_id]["Metadata"]["BuildMethod"] == "makefile"
    assert spec["CodeUri"] == ".."  # the repo root, where the Makefile and pyproject.toml are


def test_handlers_memory_and_timeouts(template: dict[str, Any]) -> None:
    ingress, worker = function(template, "IngressFunction"), function(template, "WorkerFunction")
    assert ingress["Handler"] == "bot.lambda_ingress.handler"
    assert worker["Handler"] == "bot.lambda_worker.handler"
    assert ingress["Timeout"] <= 15 and ingress["MemorySize"] >= 256
    assert worker["Timeout"] >= 120 and worker["MemorySize"] >= 1024


def test_makefile_builds_each_function_for_the_template_runtime(template: dict[str, Any]) -> None:
    makefile = (REPO / "Makefile").read_text()
    for logical_id in FUNCTIONS:
        assert re.search(rf"^build-{logical_id}:", makefile, re.M), f"Makefile lacks build-{logical_id}"
        runtime = function(template, logical_id)["Runtime"]
        assert f"LAMBDA_PYTHON_VERSION := {runtime.removeprefix('python')}" in makefile


def makefile_dependencies(*leave_out: str) -> list[str]:
    """Run the Makefile's own dependency filter (LAMBDA_DEPS_PY) against pyproject.toml."""
    makefile = (REPO / "Makefile").read_text()
    code = re.search(r"^define LAMBDA_DEPS_PY\n(.*?)^endef", makefile, re.M | re.S)
    assert code, "Makefile lacks LAMBDA_DEPS_PY"
    result = subprocess.run(
        [sys.executable, "-c", code.group(1), *leave_out], capture_output=True, text=True, cwd=REPO, check=True
    )
    return result.stdout.split()


def test_ingress_bundle_leaves_out_pillow_and_the_worker_keeps_everything() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^build-IngressFunction:\n\t\$\(call lambda_bundle,Pillow\)$", makefile, re.M)
    assert re.search(r"^build-WorkerFunction:\n\t\$\(call lambda_bundle,\)$", makefile, re.M)
    names = lambda deps: {re.match(r"[A-Za-z0-9._-]+", d).group().lower() for d in deps}  # noqa: E731
    ingress, worker = names(makefile_dependencies("Pillow")), names(makefile_dependencies())
    assert "pillow" not in ingress and "pillow" in worker
    assert {"slack-bolt", "boto3"} <= ingress
    assert worker - ingress == {"pillow"}


def test_ingress_has_a_public_function_url_and_the_worker_none(template: dict[str, Any]) -> None:
    # Slack cannot sign with IAM; the ingress verifies Slack's signature itself.
    assert props(template, "IngressFunction")["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert "FunctionUrlConfig" not in props(template, "WorkerFunction")
    assert "Events" not in props(template, "IngressFunction")


def test_worker_consumes_the_queue_in_small_batches_with_partial_failures(template: dict[str, Any]) -> None:
    event = worker_event_source()
    assert event["Queue"] == {"Fn::GetAtt": ["JobQueue", "Arn"]}
    assert 1 <= event["BatchSize"] <= 10
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WorkerConcurrency"}
    parameter = template["Parameters"]["WorkerConcurrency"]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 2 and parameter["MaxValue"] <= 1000  # SQS's limits for MaximumConcurrency
    assert parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"]


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_functions_get_the_shared_environment(template: dict[str, Any], logical_id: str) -> None:
    env = function_environment(logical_id)
    assert SHARED_ENV <= set(env)
    assert env["STUDIO_TABLE_NAME"] == {"Ref": "StateTable"}
    assert env["STUDIO_QUEUE_URL"] == {"Ref": "JobQueue"}
    assert env["SLACK_BOT_TOKEN_PARAM"] == {"Ref": "SlackBotTokenParameter"}
    assert env["SLACK_SIGNING_SECRET_PARAM"] == {"Ref": "SlackSigningSecretParameter"}
    assert env["POWERTOOLS_SERVICE_NAME"] == "studio"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Studio"
    # Credentials reach the functions only as SSM parameter names, never as values.
    assert not {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} & set(env)
    known = set(template["Parameters"]) | set(template["Resources"])
    for name, value in env.items():
        if isinstance(value, dict):
            assert set(value) == {"Ref"} and value["Ref"] in known, f"{name}: {value!r}"


def test_environment_resolves_with_default_parameters() -> None:
    env = resolved_environment("WorkerFunction", {"StateTable": "table", "JobQueue": "https://queue"})
    assert env["STUDIO_IMAGE_MODEL"] == "amazon.titan-image-generator-v2:0"
    assert env["STUDIO_VISION_MODEL"] == "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert env["STUDIO_USER_DAILY_IMAGES"] == "50" and env["STUDIO_TEAM_DAILY_IMAGES"] == "1000"
    assert env["SLACK_BOT_TOKEN_PARAM"] == "/studio/slack-bot-token"


# --- queues, table, alarm -------------------------------------------------------------------------


def test_queue_visibility_timeout_covers_six_worker_timeouts(template: dict[str, Any]) -> None:
    # AWS: set the source queue's visibility timeout to at least 6x the function timeout.
    assert props(template, "JobQueue")["VisibilityTimeout"] >= 6 * function(template, "WorkerFunction")["Timeout"]


def test_failed_jobs_are_redriven_to_an_encrypted_dead_letter_queue(template: dict[str, Any]) -> None:
    queue, dlq = props(template, "JobQueue"), props(template, "DeadLetterQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True


def test_state_table_is_on_demand_with_ttl(template: dict[str, Any]) -> None:
    table = props(template, "StateTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    # Powertools Idempotency's defaults: partition key "id", TTL attribute "expiration".
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_an_alarm_fires_on_the_first_dead_letter(template: dict[str, Any]) -> None:
    alarms = [
        spec["Properties"] for spec in template["Resources"].values()
        if spec["Type"] == "AWS::CloudWatch::Alarm"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}
        in spec["Properties"].get("Dimensions", [])
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Statistic"] == "Maximum" and 60 <= alarm["Period"] <= 300 and alarm["EvaluationPeriods"] == 1
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


# --- least privilege ------------------------------------------------------------------------------


def test_no_statement_uses_a_wildcard_action(template: dict[str, Any]) -> None:
    checked = 0
    for logical_id, statement in all_statements(template):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            checked += 1
            assert isinstance(action, str) and "*" not in action, f"{logical_id}: wildcard action {action!r}"
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), f"{logical_id}: odd action {action!r}"
    assert checked >= 10


def test_ingress_may_only_queue_touch_its_items_and_read_both_slack_parameters(template: dict[str, Any]) -> None:
    grants = {(a, json.dumps(r)) for s in statements(template, "IngressFunction")
              for a in as_list(s["Action"]) for r in as_list(s["Resource"])}
    table = json.dumps({"Fn::GetAtt": ["StateTable", "Arn"]})
    ssm = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${%s}"
    assert grants == {
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["JobQueue", "Arn"]})),
        *{(f"dynamodb:{verb}", table) for verb in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")},
        ("ssm:GetParameter", json.dumps({"Fn::Sub": ssm % "SlackBotTokenParameter"})),
        ("ssm:GetParameter", json.dumps({"Fn::Sub": ssm % "SlackSigningSecretParameter"})),
    }


def test_worker_reads_only_the_bot_token_and_uses_no_other_service(template: dict[str, Any]) -> None:
    services = {a.split(":")[0] for s in statements(template, "WorkerFunction") for a in as_list(s["Action"])}
    assert services == {"dynamodb", "sqs", "ssm", "bedrock"}
    ssm = [s for s in statements(template, "WorkerFunction") if s["Action"] == "ssm:GetParameter"]
    assert [sub(r) for s in ssm for r in as_list(s["Resource"])] == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SlackBotTokenParameter}"
    ]
    assert {a for s in statements(template, "WorkerFunction") for a in as_list(s["Action"])} >= {
        "sqs:SendMessage", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    }


def test_bedrock_is_allowed_only_on_the_configured_models(template: dict[str, Any]) -> None:
    assert not any(a.startswith("bedrock:") for s in statements(template, "IngressFunction")
                   for a in as_list(s["Action"]))
    bedrock = [s for s in statements(template, "WorkerFunction")
               if any(a.startswith("bedrock:") for a in as_list(s["Action"]))]
    allowed = {FOUNDATION_MODEL % name for name in MODEL_PARAMETERS} | {PROFILE, BASE_MODEL_ANY_REGION}
    invoke: set[str] = set()
    for statement in bedrock:
        actions = set(as_list(statement["Action"]))
        if actions == {"bedrock:GetFoundationModelAvailability"}:
            # Read-only and without resource-level permissions: "*" is the only form IAM accepts.
            assert statement["Resource"] == "*"
            continue
        resources = {sub(r) for r in as_list(statement["Resource"])}
        assert actions <= {"bedrock:InvokeModel", "bedrock:GetFoundationModel"}, actions
        assert resources <= allowed, resources - allowed
        if BASE_MODEL_ANY_REGION in resources:
            # Any Region, but only through our inference profile, never the bare model.
            assert resources == {BASE_MODEL_ANY_REGION} and actions == {"bedrock:InvokeModel"}
            condition = statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
            assert sub(condition) == PROFILE
        if "bedrock:InvokeModel" in actions:
            invoke |= resources
        if "bedrock:GetFoundationModel" in actions:
            assert all(":foundation-model/" in r and "${AWS::Region}" in r for r in resources)
    assert invoke >= {
        FOUNDATION_MODEL % "ImageModelId", FOUNDATION_MODEL % "EditModelId", PROFILE, BASE_MODEL_ANY_REGION,
    }


def test_parameters_name_secrets_but_never_hold_them(template: dict[str, Any]) -> None:
    secretish = re.compile(r"token|secret|password|credential|api.?key|private", re.I)
    for name, spec in template["Parameters"].items():
        assert spec.get("Description"), f"{name} has no description"
        assert "Default" in spec, f"{name} has no default"
        assert not spec.get("NoEcho"), f"{name} is NoEcho: secrets belong in SSM, not parameters"
        assert not re.match(r"xox[abpe]-|xapp-", str(spec["Default"])), f"{name} has a token as default"
        if secretish.search(name):
            # Only allowed as the *name* of an SSM parameter the admin created.
            assert name.endswith("Parameter") and str(spec["Default"]).startswith("/"), name
            assert re.search(r"\bname\b", spec["Description"], re.I) and "SSM" in spec["Description"], name


def test_outputs_give_the_slack_request_url_and_the_resources(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    # The Function URL ends with "/", so the path is appended without one.
    assert outputs["SlackRequestUrl"]["Value"] == {"Fn::Sub": "${IngressFunctionUrl.FunctionUrl}slack/events"}
    assert outputs["JobQueueUrl"]["Value"] == {"Ref": "JobQueue"}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": "DeadLetterQueue"}
    assert outputs["StateTableName"]["Value"] == {"Ref": "StateTable"}


# --- moto resources from the template -------------------------------------------------------------


def test_moto_resources_match_the_template(template: dict[str, Any]) -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        queue_url, dlq_url = create_job_queues(sqs)
        table = create_state_table(dynamodb)

        dynamodb.put_item(TableName=table, Item={"id": {"S": "job#1"}, "expiration": {"N": "1900000000"}})
        item = dynamodb.get_item(TableName=table, Key={"id": {"S": "job#1"}}, ConsistentRead=True)["Item"]
        assert item["expiration"] == {"N": "1900000000"}
        assert dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expiration",
        }
        assert dynamodb.describe_table(TableName=table)["Table"]["BillingModeSummary"]["BillingMode"] == (
            "PAY_PER_REQUEST"
        )

        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
        assert redrive["maxReceiveCount"] == props(template, "JobQueue")["RedrivePolicy"]["maxReceiveCount"]
        assert int(attributes["VisibilityTimeout"]) == props(template, "JobQueue")["VisibilityTimeout"]
        assert int(dlq["MessageRetentionPeriod"]) == props(template, "DeadLetterQueue")["MessageRetentionPeriod"]

        # A message received more than maxReceiveCount times moves to the DLQ.
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        for _ in range(redrive["maxReceiveCount"]):
            received = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"]
            assert len(received) == 1
        assert sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0).get("Messages", []) == []
        assert len(sqs.receive_message(QueueUrl=dlq_url)["Messages"]) == 1


# --- the SAM transform itself (needs aws-sam-translator, optional) --------------------------------


def test_sam_transform_generates_the_url_permissions_and_event_source() -> None:
    pytest.importorskip("samtranslator", reason="pip install aws-sam-translator to run the real SAM transform")
    from samtranslator.translator.transform import transform  # noqa: PLC0415

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    packaged = load_template()
    packaged["Globals"]["Function"]["CodeUri"] = "s3://bucket/studio.zip"  # as after `sam package`
    output = transform(packaged, {}, NoManagedPolicies())
    resources = output["Resources"]
    assert resources["IngressFunctionUrl"]["Properties"]["AuthType"] == "NONE"
    permissions = {r["Properties"]["Action"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"}
    assert permissions == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}  # both needed since Oct 2025
    mapping = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerConcurrency"}}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # The plain CloudFormation SAM produces lints clean too (Lambda runtimes, event source limits, ...).
    assert "Transform" not in output
    assert [str(m) for m in lint(json.dumps(output))] == []
