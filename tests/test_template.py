"""infra/template.yaml: lints offline, keeps its promises, and builds working moto resources."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint, lint_file
from moto import mock_aws
from samtranslator.translator.transform import transform as sam_transform  # a cfn-lint dependency

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
    "STUDIO_MODELS", "STUDIO_BEDROCK_REGION", "STUDIO_IMAGE_MODEL", "STUDIO_EDIT_MODEL", "STUDIO_REMOVE_BG_MODEL",
    "STUDIO_UPSCALE_MODEL", "STUDIO_VISION_MODEL", "STUDIO_ALLOWED_CHANNELS",
    "STUDIO_ALLOWED_USERS", "STUDIO_ADMINS", "STUDIO_USER_DAILY_IMAGES", "STUDIO_TEAM_DAILY_IMAGES",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL",
}
CATALOGUE_STATE_MACHINE_ARN = (
    "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-catalogue")
# Per-role overrides: empty means "the model stack's default for that task".
ROLE_OVERRIDES = ("ImageModelId", "EditModelId", "RemoveBgModelId", "UpscaleModelId")

# The models each stack may use (DESIGN.md, "Models"). Stability's generators run on demand in
# BedrockRegion; its Image Services only through us. profiles that route to these three Regions.
STABILITY_GENERATORS = (
    "stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1", "stability.sd3-5-large-v1:0",
)
STABILITY_IMAGE_SERVICES = tuple(f"stability.{name}" for name in (
    "stable-image-remove-background-v1:0", "stable-image-inpaint-v1:0", "stable-image-search-replace-v1:0",
    "stable-outpaint-v1:0", "stable-fast-upscale-v1:0", "stable-conservative-upscale-v1:0",
    "stable-creative-upscale-v1:0", "stable-image-style-guide-v1:0",
))
US_PROFILE_REGIONS = ("us-east-1", "us-east-2", "us-west-2")
AMAZON_IMAGE_MODELS = ("amazon.titan-image-generator-v2:0", "amazon.nova-canvas-v1:0")
VISION_PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
VISION_BASE = "anthropic.claude-haiku-4-5-20251001-v1:0"
VISION_BASE_ANY_REGION = f"arn:aws:bedrock:*::foundation-model/{VISION_BASE}"

# Pseudo parameters of a rendered stack. The stack's own Region differs from BedrockRegion on
# purpose, so an ARN built from the wrong one shows.
ACCOUNT = "123456789012"
STACK_REGION = "eu-west-1"
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": STACK_REGION,
    "AWS::StackName": "studio", "AWS::URLSuffix": "amazonaws.com",
}
# IAM's limit on the aggregate size of a role's inline policies (non-whitespace characters).
INLINE_POLICY_LIMIT = 10_240
NO_VALUE = object()


def fm(model: str, region: str = "us-west-2") -> str:
    """A foundation-model ARN (AWS-owned: no account)."""
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def profile(profile_id: str, region: str = "us-west-2") -> str:
    """A cross-Region inference profile ARN in our account."""
    return f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{profile_id}"


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


def parameter_values(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """Parameter values as CloudFormation passes them: defaults, ``overrides``, pseudo parameters."""
    values: dict[str, Any] = dict(PSEUDO_PARAMETERS)
    for name, spec in template["Parameters"].items():
        raw = str(overrides.pop(name, spec.get("Default", "")))
        values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw
    assert not overrides, f"not parameters of the template: {sorted(overrides)}"
    return values


def resolve(node: Any, template: dict[str, Any], values: dict[str, Any]) -> Any:
    """Evaluate the intrinsics in ``node`` (Ref, Fn::Sub, Fn::If, conditions, ...) for ``values``.

    A Ref to a resource or its attribute stays symbolic: ``<JobQueue>``, ``<JobQueue.Arn>``.
    """
    conditions = template.get("Conditions", {})

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(walk, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return NO_VALUE if arg == "AWS::NoValue" else values.get(arg, f"<{arg}>")
            if key == "Fn::GetAtt":
                return f"<{arg if isinstance(arg, str) else '.'.join(arg)}>"
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else (arg[0], walk(arg[1]))
                scope = {**values, **local}
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(scope.get(m[1], f"<{m[1]}>")), text)
            if key == "Fn::Split":
                return walk(arg[1]).split(arg[0])
            if key == "Fn::Join":
                return arg[0].join(walk(arg[1]))
            if key == "Fn::If":
                name, if_true, if_false = arg
                return walk(if_true if walk(conditions[name]) else if_false)
            if key == "Condition":
                return walk(conditions[arg])
            if key == "Fn::Equals":
                left, right = walk(arg)
                return left == right
            if key == "Fn::Not":
                return not walk(arg)[0]
            if key == "Fn::And":
                return all(walk(arg))
            if key == "Fn::Or":
                return any(walk(arg))
            assert not key.startswith("Fn::"), f"resolve() does not know {key}"
        return {key: item for key, item in ((k, walk(v)) for k, v in value.items()) if item is not NO_VALUE}

    return walk(node)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """The CloudFormation the real SAM transform makes of the template (offline)."""

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    packaged = load_template()
    packaged["Globals"]["Function"]["CodeUri"] = "s3://bucket/studio.zip"  # as after `sam package`
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", STACK_REGION)  # SAM asks boto3 for a Region; no call is made
        return sam_transform(packaged, {}, NoManagedPolicies())


def inline_policies(rendered: dict[str, Any], function_id: str, **parameters: str) -> list[dict[str, Any]]:
    """The function role's inline policy documents, deployed with ``parameters``."""
    role = rendered["Resources"][f"{function_id}Role"]["Properties"]
    values = parameter_values(rendered, **parameters)
    return [policy["PolicyDocument"] for policy in resolve(role.get("Policies", []), rendered, values)]


def statements(rendered: dict[str, Any], function_id: str, **parameters: str) -> list[dict[str, Any]]:
    """Every statement of the function role's inline policies, deployed with ``parameters``."""
    return [statement for document in inline_policies(rendered, function_id, **parameters)
            for statement in as_list(document["Statement"])]


def grants(found: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """Resource -> the Condition under which ``action`` is allowed on it (None: unconditionally)."""
    allowed: dict[str, Any] = {}
    for statement in found:
        if action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                assert resource not in allowed, f"{resource} granted {action} twice"
                allowed[resource] = statement.get("Condition")
    return allowed


def bedrock_resources(found: list[dict[str, Any]]) -> set[str]:
    """Every resource named by a statement that allows some Bedrock action."""
    return {r for s in found if any(a.startswith("bedrock:") for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])}


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
    assert ingress["Handler"] == "bot.runtime.lambda_ingress.handler"
    assert worker["Handler"] == "bot.runtime.lambda_worker.handler"
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


def test_ingress_resumes_from_a_snapstart_snapshot_of_its_published_alias(template: dict[str, Any]) -> None:
    ingress = props(template, "IngressFunction")
    assert ingress["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    # SnapStart applies to published versions only: Slack must reach one, through the alias.
    assert ingress["AutoPublishAlias"] == "live"
    assert "SnapStart" not in props(template, "WorkerFunction")  # queued work: a cold start costs no ack


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
        if isinstance(value, dict) and name == "STUDIO_CATALOGUE_STATE_MACHINE":
            # By name, not Ref: the state machine invokes the worker (a Ref would be circular).
            assert value == {"Fn::Sub": CATALOGUE_STATE_MACHINE_ARN}
        elif isinstance(value, dict) and name == "STUDIO_RESULTS_LINK_URL":
            assert value == {"Fn::GetAtt": ["IngressFunctionUrl", "FunctionUrl"]}, "the ingress serves results links"
        elif isinstance(value, dict):
            assert set(value) == {"Ref"} and value["Ref"] in known, f"{name}: {value!r}"


def test_environment_resolves_with_default_parameters() -> None:
    env = resolved_environment("WorkerFunction", {"StateTable": "table", "JobQueue": "https://queue",
                                                  "CatalogueBucket": "studio-catalogue",
                                                  "IngressFunctionUrl.FunctionUrl": "https://abc.lambda-url/"})
    assert env["STUDIO_RESULTS_LINK_URL"] == "https://abc.lambda-url/"
    assert env["STUDIO_CATALOGUE_STATE_MACHINE"] == (
        "arn:aws:states:us-east-1:123456789012:stateMachine:studio-catalogue")
    assert env["STUDIO_CATALOGUE_BUCKET"] == "studio-catalogue"
    assert env["STUDIO_CATALOGUE_READABLE_BUCKETS"] == "" and env["STUDIO_CATALOGUE_RETENTION_DAYS"] == "7"
    assert env["STUDIO_MODELS"] == "stability" and env["STUDIO_BEDROCK_REGION"] == "us-west-2"
    # Empty per-task overrides: the app uses the stack's default model for each task.
    for name in ("STUDIO_IMAGE_MODEL", "STUDIO_EDIT_MODEL", "STUDIO_REMOVE_BG_MODEL", "STUDIO_UPSCALE_MODEL"):
        assert env[name] == "", name
    assert env["STUDIO_VISION_MODEL"] == VISION_PROFILE and env["STUDIO_VISION_BASE_MODEL"] == VISION_BASE
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


STACKS = ("stability", "amazon")
# Actions that have no resource-level permissions: "*" is the only form IAM accepts. All are
# read-only, or (Subscribe) only ever exercised by Bedrock on a model's first call in the account.
NO_RESOURCE_LEVEL = {"bedrock:GetFoundationModelAvailability", "aws-marketplace:Subscribe",
                     "aws-marketplace:ViewSubscriptions"}


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_no_statement_uses_a_wildcard_action(rendered: dict[str, Any], logical_id: str, stack: str) -> None:
    found = statements(rendered, logical_id, ModelStack=stack)
    assert found
    for statement in found:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in as_list(statement["Action"]):
            assert isinstance(action, str) and "*" not in action, f"{logical_id}: wildcard action {action!r}"
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), f"{logical_id}: odd action {action!r}"
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_LEVEL, statement


def test_ingress_may_only_queue_touch_its_items_read_both_slack_parameters_and_follow_results_links(rendered: dict[str, Any]) -> None:
    found = {(a, r) for s in statements(rendered, "IngressFunction") for a in as_list(s["Action"])
             for r in as_list(s["Resource"])}
    ssm = f"arn:aws:ssm:{STACK_REGION}:{ACCOUNT}:parameter"
    assert found == {
        ("sqs:SendMessage", "<JobQueue.Arn>"),
        *{(f"dynamodb:{verb}", "<StateTable.Arn>") for verb in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")},
        ("ssm:GetParameter", f"{ssm}/studio/slack-bot-token"),
        ("ssm:GetParameter", f"{ssm}/studio/slack-signing-secret"),
        # Following a results link (bot/catalogue/links.py): the results ZIPs, nothing else of the bucket.
        ("s3:GetObject", "<CatalogueBucket.Arn>/batches/*-results.zip"),
    }
    # Only the worker calls Bedrock, on either stack.
    assert statements(rendered, "IngressFunction", ModelStack="amazon") == statements(rendered, "IngressFunction")


@pytest.mark.parametrize("stack", STACKS)
def test_worker_reads_only_the_bot_token_and_uses_no_other_service(rendered: dict[str, Any], stack: str) -> None:
    found = statements(rendered, "WorkerFunction", ModelStack=stack)
    assert {a.split(":")[0] for s in found for a in as_list(s["Action"])} == {
        "dynamodb", "sqs", "ssm", "bedrock", "aws-marketplace",
    }
    token = f"arn:aws:ssm:{STACK_REGION}:{ACCOUNT}:parameter/studio/slack-bot-token"
    assert grants(found, "ssm:GetParameter") == {token: None}
    assert grants(found, "sqs:SendMessage") == {"<JobQueue.Arn>": None}
    for verb in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        assert grants(found, f"dynamodb:{verb}") == {"<StateTable.Arn>": None}


def vision_grants(region: str = "us-west-2") -> tuple[set[str], dict[str, str]]:
    """Vision, on every stack: the profile (or a plain model id), and the base model through the profile."""
    direct = {profile(VISION_PROFILE, region), fm(VISION_PROFILE, region)}
    return direct, {VISION_BASE_ANY_REGION: profile(VISION_PROFILE, region)}


def assert_invoke(found: list[dict[str, Any]], direct: set[str], through_profile: dict[str, str]) -> None:
    """InvokeModel is allowed on exactly ``direct``, and on each key of ``through_profile`` only via its profile."""
    invoke = grants(found, "bedrock:InvokeModel")
    assert {r for r, condition in invoke.items() if condition is None} == direct
    assert {r for r, condition in invoke.items() if condition is not None} == set(through_profile)
    for resource, via in through_profile.items():
        condition = invoke[resource]
        assert list(condition) == ["StringEquals"]
        assert list(condition["StringEquals"]) == ["bedrock:InferenceProfileArn"]
        allowed = as_list(condition["StringEquals"]["bedrock:InferenceProfileArn"])
        # Through its own profile; at most also through the deployment's other profiles, never any other.
        assert via in allowed and set(allowed) <= set(through_profile.values())


def test_the_stability_stack_may_invoke_exactly_its_models(rendered: dict[str, Any]) -> None:
    found = statements(rendered, "WorkerFunction")  # the defaults: ModelStack=stability, BedrockRegion=us-west-2
    vision_direct, vision_through = vision_grants()
    assert_invoke(
        found,
        direct={fm(m) for m in STABILITY_GENERATORS} | {profile(f"us.{m}") for m in STABILITY_IMAGE_SERVICES}
        | vision_direct,
        # IAM checks a us. profile's foundation model in every Region it may route to.
        through_profile={fm(m, region): profile(f"us.{m}") for m in STABILITY_IMAGE_SERVICES
                         for region in US_PROFILE_REGIONS} | vision_through,
    )


def test_the_amazon_stack_may_invoke_exactly_titan_v2_nova_canvas_and_vision(rendered: dict[str, Any]) -> None:
    found = statements(rendered, "WorkerFunction", ModelStack="amazon")
    vision_direct, vision_through = vision_grants()
    assert_invoke(found, direct={fm(m) for m in AMAZON_IMAGE_MODELS} | vision_direct, through_profile=vision_through)


def test_no_titan_or_nova_arn_on_the_stability_stack_and_no_stability_arn_on_the_amazon_stack(
    rendered: dict[str, Any],
) -> None:
    stability = bedrock_resources(statements(rendered, "WorkerFunction", ModelStack="stability"))
    amazon = bedrock_resources(statements(rendered, "WorkerFunction", ModelStack="amazon"))
    assert not [r for r in stability if re.search(r"titan|nova", r)]
    assert not [r for r in amazon if "stability" in r]
    assert any("stability.stable-image-core" in r for r in stability) and any("nova-canvas" in r for r in amazon)


@pytest.mark.parametrize("stack", STACKS)
def test_bedrock_arns_follow_bedrock_region_not_the_stack_region(rendered: dict[str, Any], stack: str) -> None:
    found = statements(rendered, "WorkerFunction", ModelStack=stack, BedrockRegion="us-east-2")
    resources = bedrock_resources(found)
    assert not [r for r in resources if STACK_REGION in r]
    vision_direct, vision_through = vision_grants("us-east-2")
    if stack == "stability":
        assert_invoke(
            found,
            direct={fm(m, "us-east-2") for m in STABILITY_GENERATORS}
            | {profile(f"us.{m}", "us-east-2") for m in STABILITY_IMAGE_SERVICES} | vision_direct,
            through_profile={fm(m, region): profile(f"us.{m}", "us-east-2") for m in STABILITY_IMAGE_SERVICES
                             for region in US_PROFILE_REGIONS} | vision_through,
        )
    else:
        assert_invoke(found, direct={fm(m, "us-east-2") for m in AMAZON_IMAGE_MODELS} | vision_direct,
                      through_profile=vision_through)


@pytest.mark.parametrize("stack", STACKS)
def test_the_start_up_check_may_read_every_model_it_may_invoke(rendered: dict[str, Any], stack: str) -> None:
    found = statements(rendered, "WorkerFunction", ModelStack=stack)
    models = (STABILITY_GENERATORS + STABILITY_IMAGE_SERVICES) if stack == "stability" else AMAZON_IMAGE_MODELS
    assert grants(found, "bedrock:GetFoundationModel") == dict.fromkeys({fm(m) for m in models} | {fm(VISION_BASE)})
    profiles = {profile(f"us.{m}") for m in STABILITY_IMAGE_SERVICES} if stack == "stability" else set()
    assert grants(found, "bedrock:GetInferenceProfile") == dict.fromkeys(profiles | {profile(VISION_PROFILE)})
    assert grants(found, "bedrock:GetFoundationModelAvailability") == {"*": None}
    actions = {a for s in found for a in as_list(s["Action"]) if a.startswith("bedrock:")}
    assert actions == {"bedrock:InvokeModel", "bedrock:GetFoundationModel", "bedrock:GetInferenceProfile",
                       "bedrock:GetFoundationModelAvailability"}


@pytest.mark.parametrize("stack", STACKS)
def test_extra_model_arns_are_appended_only_when_given(rendered: dict[str, Any], stack: str) -> None:
    default = statements(rendered, "WorkerFunction", ModelStack=stack)
    extra = [fm("amazon.nova-canvas-v1:0"), profile("us.stability.stable-image-erase-object-v1:0"),
             fm("stability.stable-image-erase-object-v1:0", "us-east-1")]
    found = statements(rendered, "WorkerFunction", ModelStack=stack, ExtraModelArns=",".join(extra))
    added = [s for s in found if s not in default]
    assert [s for s in default if s not in found] == []
    assert len(added) == 1 and added[0]["Resource"] == extra and "Condition" not in added[0]
    assert set(added[0]["Action"]) == {"bedrock:InvokeModel", "bedrock:GetFoundationModel",
                                       "bedrock:GetInferenceProfile"}


@pytest.mark.parametrize("stack", STACKS)
def test_marketplace_lets_the_first_call_subscribe_and_can_be_limited_to_products(
    rendered: dict[str, Any], stack: str,
) -> None:
    # Automatic model access: Bedrock subscribes the account on a third-party model's first call,
    # with the caller's permissions. Never Unsubscribe.
    found = statements(rendered, "WorkerFunction", ModelStack=stack)
    marketplace = {a for s in found for a in as_list(s["Action"]) if a.startswith("aws-marketplace:")}
    assert marketplace == {"aws-marketplace:Subscribe", "aws-marketplace:ViewSubscriptions"}
    assert grants(found, "aws-marketplace:Subscribe") == {"*": None}
    assert grants(found, "aws-marketplace:ViewSubscriptions") == {"*": None}
    limited = statements(rendered, "WorkerFunction", ModelStack=stack, MarketplaceProductIds="prod-a,prod-b")
    assert grants(limited, "aws-marketplace:Subscribe") == {
        "*": {"ForAnyValue:StringEquals": {"aws-marketplace:ProductId": ["prod-a", "prod-b"]}},
    }
    assert grants(limited, "aws-marketplace:ViewSubscriptions") == {"*": None}  # takes no product condition


@pytest.mark.parametrize("stack", STACKS)
def test_worker_inline_policies_fit_iams_size_limit(rendered: dict[str, Any], stack: str) -> None:
    # IAM rejects a role whose inline policies add up to more than 10,240 non-whitespace characters;
    # count with real-length ARNs for the symbolic ones and a generous ExtraModelArns.
    extra = ",".join(fm(f"stability.example-model-{i}-v1:0", "us-east-1") for i in range(6))
    documents = inline_policies(rendered, "WorkerFunction", ModelStack=stack, ExtraModelArns=extra,
                                MarketplaceProductIds="prod-aaaaaaaaaaaaa,prod-bbbbbbbbbbbbb")
    text = re.sub(r"\s", "", json.dumps(documents))
    text = re.sub(r"<[A-Za-z]+\.Arn>", "arn:aws:sqs:us-west-2:123456789012:studio-JobQueue-ABCDEFGHIJKLMN", text)
    assert len(text) < INLINE_POLICY_LIMIT - 500, len(text)


def test_model_parameters_choose_a_stack_and_override_per_task(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["ModelStack"]["AllowedValues"] == ["stability", "amazon"]
    assert parameters["ModelStack"]["Default"] == "stability"
    assert parameters["BedrockRegion"]["Default"] == "us-west-2"
    for name in ROLE_OVERRIDES:
        assert parameters[name]["Default"] == "", f"{name}: empty means the stack's default"
        assert re.fullmatch(parameters[name]["AllowedPattern"], "")
        assert re.fullmatch(parameters[name]["AllowedPattern"], "us.stability.stable-fast-upscale-v1:0")
    assert parameters["VisionModelId"]["Default"] == VISION_PROFILE
    assert parameters["VisionBaseModelId"]["Default"] == VISION_BASE
    for name in ("ExtraModelArns", "MarketplaceProductIds"):
        assert parameters[name]["Type"] == "CommaDelimitedList" and parameters[name]["Default"] == ""
    region = parameters["BedrockRegion"]["AllowedPattern"]
    assert all(re.fullmatch(region, r) for r in ("us-west-2", "us-gov-west-1", "ap-southeast-1"))
    assert not any(re.fullmatch(region, r) for r in ("", "us-west", "arn:aws", "us-west-2 "))
    # No Titan/Nova default left anywhere in the parameters.
    assert not re.search(r"titan|nova", json.dumps([p.get("Default") for p in parameters.values()]))


def test_every_parameter_is_in_one_console_group(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


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


# --- the SAM transform itself (aws-sam-translator, which cfn-lint depends on) -----------------------


def test_sam_transform_generates_the_url_permissions_and_event_source(rendered: dict[str, Any]) -> None:
    resources = rendered["Resources"]
    url = resources["IngressFunctionUrl"]["Properties"]
    assert url["AuthType"] == "NONE"
    # The URL and both of its permissions point at the alias, so requests run the SnapStart version.
    alias = resources["IngressFunctionAliaslive"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert url["TargetFunctionArn"] == {"Ref": "IngressFunctionAliaslive"}
    version = resources[alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]]
    assert version["Type"] == "AWS::Lambda::Version"
    assert resources["IngressFunction"]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    every = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    # EventBridge may invoke the worker (a catalogue batch that stopped); everything else is the URL's.
    [stopped] = [p for p in every if p["Principal"] == "events.amazonaws.com"]
    assert stopped["FunctionName"] == {"Ref": "WorkerFunction"} and stopped["Action"] == "lambda:InvokeFunction"
    permissions = {p["Action"]: p for p in every if p is not stopped}
    assert len(permissions) == len(every) - 1
    assert set(permissions) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}  # both needed since Oct 2025
    assert all(p["FunctionName"] == {"Ref": "IngressFunctionAliaslive"} for p in permissions.values())
    mapping = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerConcurrency"}}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # The plain CloudFormation SAM produces lints clean too (Lambda runtimes, event source limits, IAM, ...).
    assert "Transform" not in rendered
    assert [str(m) for m in lint(json.dumps(rendered))] == []


# --- catalogue batches: bucket, state machine, permissions ---------------------------------------


def catalogue_definition(template: dict[str, Any]) -> dict[str, Any]:
    return props(template, "CatalogueStateMachine")["Definition"]


def test_catalogue_bucket_is_private_encrypted_tls_only_and_expires_batches(template: dict[str, Any]) -> None:
    bucket = props(template, "CatalogueBucket")
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True)
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "batches/"  # bot.catalogue.s3_batch.BatchLayout.root
    assert rule["ExpirationInDays"] == {"Ref": "ResultsRetentionDays"}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    retention = template["Parameters"]["ResultsRetentionDays"]
    assert retention["Type"] == "Number" and retention["Default"] == 7
    (deny,) = props(template, "CatalogueBucketPolicy")["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"Fn::GetAtt": ["CatalogueBucket", "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": "${CatalogueBucket.Arn}/*"} in deny["Resource"]


def test_the_state_machine_maps_over_the_batch_prefix_then_reports(template: dict[str, Any]) -> None:
    machine = props(template, "CatalogueStateMachine")
    assert machine["Type"] == "STANDARD"
    assert machine["Name"] == {"Fn::Sub": "${AWS::StackName}-catalogue"}
    assert CATALOGUE_STATE_MACHINE_ARN.endswith(":stateMachine:" + machine["Name"]["Fn::Sub"])
    assert machine["DefinitionSubstitutions"] == {
        "WorkerFunctionArn": {"Fn::GetAtt": ["WorkerFunction", "Arn"]}, "MaxConcurrency": {"Ref": "WorkerConcurrency"}}
    definition = catalogue_definition(template)
    states = definition["States"]
    assert definition["StartAt"] == "Settings" and states["Settings"]["Next"] == "Photos"
    # Substitutions are strings; MaxConcurrency must reach the map as a number.
    assert states["Settings"]["Parameters"]["maxConcurrency.$"] == "States.StringToJson('${MaxConcurrency}')"
    photos = states["Photos"]
    assert photos["ItemReader"] == {"Resource": "arn:aws:states:::s3:listObjectsV2",
                                    "Parameters": {"Bucket.$": "$.source.bucket", "Prefix.$": "$.source.prefix"}}
    assert photos["MaxConcurrencyPath"] == "$.maxConcurrency"
    assert photos["ToleratedFailurePercentage"] == 100
    assert photos["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert photos["ResultPath"] is None, "children write their rows to S3; the map output must not grow"
    assert photos["Next"] == "Report" and photos["Catch"][0]["Next"] == "Report"
    assert states["Report"]["End"] is True


def test_each_child_retries_throttling_with_backoff_and_records_a_failure(template: dict[str, Any]) -> None:
    child = catalogue_definition(template)["States"]["Photos"]["ItemProcessor"]
    photo = child["States"][child["StartAt"]]
    busy = next(rule for rule in photo["Retry"] if "ModelBusy" in rule["ErrorEquals"])
    assert busy["BackoffRate"] >= 2 and busy["MaxAttempts"] >= 3 and busy["JitterStrategy"] == "FULL"
    assert "States.ALL" not in busy["ErrorEquals"], "only throttling is worth retrying"
    (catch,) = photo["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "RecordFailure"
    assert child["States"]["RecordFailure"]["Parameters"]["Payload"]["error.$"] == catch["ResultPath"]


def test_every_step_invokes_the_worker_with_an_event_the_step_handler_knows(template: dict[str, Any]) -> None:
    from bot.catalogue.state_machine_step import is_step_event

    definition = catalogue_definition(template)
    photos = definition["States"]["Photos"]
    tasks = [definition["States"]["Report"], *photos["ItemProcessor"]["States"].values()]
    assert {task["Resource"] for task in tasks} == {"arn:aws:states:::lambda:invoke"}
    assert {task["Parameters"]["FunctionName"] for task in tasks} == {"${WorkerFunctionArn}"}
    payloads = [photos["ItemSelector"], *(task["Parameters"]["Payload"] for task in tasks
                                          if isinstance(task["Parameters"].get("Payload"), dict))]
    assert {payload["catalogue_step"] for payload in payloads} == {"photo", "photo_failed", "report"}
    assert all(is_step_event(payload) for payload in payloads)


def test_state_machine_may_only_invoke_the_worker_run_its_children_and_list_batches(rendered: dict[str, Any]) -> None:
    machine = f"arn:aws:states:{STACK_REGION}:{ACCOUNT}:stateMachine:studio-catalogue"
    found = statements(rendered, "CatalogueStateMachine")
    assert grants(found, "lambda:InvokeFunction") == {"<WorkerFunction.Arn>": None, "<WorkerFunction.Arn>:*": None}
    assert grants(found, "states:StartExecution") == {machine: None}
    executions = f"arn:aws:states:{STACK_REGION}:{ACCOUNT}:execution:studio-catalogue/*"
    assert grants(found, "states:DescribeExecution") == grants(found, "states:StopExecution") == {executions: None}
    assert grants(found, "s3:ListBucket") == {"<CatalogueBucket.Arn>": {"StringLike": {"s3:prefix": "batches/*"}}}
    assert {a for s in found for a in as_list(s["Action"])} == {
        "lambda:InvokeFunction", "states:StartExecution", "states:DescribeExecution", "states:StopExecution",
        "s3:ListBucket"}
    shared = statements(rendered, "CatalogueStateMachine", CatalogueReadableBuckets="shots,archive-2027")
    assert grants(shared, "s3:ListBucket") == {"<CatalogueBucket.Arn>": {"StringLike": {"s3:prefix": "batches/*"}},
                                               "arn:aws:s3:::shots": None, "arn:aws:s3:::archive-2027": None}


def test_a_batch_that_dies_passes_its_turn_on_and_never_outlives_it(template: dict[str, Any]) -> None:
    from bot.catalogue.turns import TURN_SECONDS
    from bot.flows.catalogue_aws import STOPPED_DETAIL_TYPE

    assert catalogue_definition(template)["TimeoutSeconds"] == TURN_SECONDS
    rule = props(template, "WorkerFunction")["Events"]["CatalogueBatchStopped"]
    assert rule["Type"] == "EventBridgeRule"
    pattern = rule["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.states"] and pattern["detail-type"] == [STOPPED_DETAIL_TYPE]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}, "not SUCCEEDED: the report did it"
    # Only this stack's machine (its map's children have ARNs of their own), the one the worker starts.
    machine = function_environment("WorkerFunction")["STUDIO_CATALOGUE_STATE_MACHINE"]
    assert pattern["detail"]["stateMachineArn"] == [machine]


def worker_catalogue_statements(rendered: dict[str, Any], **parameters: str) -> list[dict[str, Any]]:
    policy = rendered["Resources"]["WorkerCataloguePolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "WorkerFunctionRole"}]
    document = resolve(policy["PolicyDocument"], rendered, parameter_values(rendered, **parameters))
    return as_list(document["Statement"])


def test_the_worker_may_use_batch_objects_start_batches_and_read_only_the_named_buckets(
    rendered: dict[str, Any],
) -> None:
    found = worker_catalogue_statements(rendered)
    for action in ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"):
        assert grants(found, action) == {"<CatalogueBucket.Arn>/batches/*": None}, action
    assert grants(found, "s3:ListBucket") == {"<CatalogueBucket.Arn>": {"StringLike": {"s3:prefix": "batches/*"}}}
    assert grants(found, "states:StartExecution") == {
        f"arn:aws:states:{STACK_REGION}:{ACCOUNT}:stateMachine:studio-catalogue": None}
    assert not [s for s in found if "*" in as_list(s["Resource"]) or "*" in str(as_list(s["Action"]))]

    shared = worker_catalogue_statements(rendered, CatalogueReadableBuckets="shots,archive-2027")
    assert grants(shared, "s3:GetObject") == {"<CatalogueBucket.Arn>/batches/*": None,
                                              "arn:aws:s3:::shots/*": None, "arn:aws:s3:::archive-2027/*": None}
    assert set(grants(shared, "s3:ListBucket")) == {"<CatalogueBucket.Arn>", "arn:aws:s3:::shots",
                                                    "arn:aws:s3:::archive-2027"}
    assert not grants(shared, "s3:PutObject").keys() - {"<CatalogueBucket.Arn>/batches/*"}, "never write theirs"
    pattern = template_parameter(rendered, "CatalogueReadableBuckets")["AllowedPattern"]
    assert all(re.fullmatch(pattern, v) for v in ("", "shots", "shots,archive-2027"))
    assert not any(re.fullmatch(pattern, v) for v in ("shots, archive", "*", "arn:aws:s3:::shots", "shots/"))


def template_parameter(rendered: dict[str, Any], name: str) -> dict[str, Any]:
    return rendered["Parameters"][name]


def test_outputs_name_the_catalogue_bucket_and_state_machine(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["CatalogueBucketName"]["Value"] == {"Ref": "CatalogueBucket"}
    assert outputs["CatalogueStateMachineArn"]["Value"] == {"Ref": "CatalogueStateMachine"}


def test_worker_may_invoke_every_model_of_the_stability_role_table(rendered: dict[str, Any]) -> None:
    """A role added to handlers/model_table.py (the /brand style's Style Guide, say) is granted too."""
    from handlers.model_table import STABILITY
    from handlers.model_table import STACKS as MODEL_STACKS

    invoke = grants(statements(rendered, "WorkerFunction", ModelStack="stability"), "bedrock:InvokeModel")
    for role, model in MODEL_STACKS[STABILITY].items():
        assert model is not None
        arn = profile(model) if model.startswith("us.") else fm(model)
        assert arn in invoke, f"{role.value}: {model} is not granted"
