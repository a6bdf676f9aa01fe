"""The AWS runtime: ingress and worker Lambda handlers with moto (SQS, DynamoDB, SSM) and the fakes."""

from __future__ import annotations

import importlib
import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.jobs import Job
from handlers.requests import ImagineRequest
from tests.aws_resources import create_job_queues, create_state_table
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, signed_headers, slash_command_body
from tests.lambda_events import LambdaContext, function_url_event, sqs_event
from tests.photos import small_jpeg

ROOT = Path(__file__).resolve().parent.parent
TOKEN_PARAM, SECRET_PARAM = "/studio/slack-bot-token", "/studio/slack-signing-secret"


@dataclass
class Aws:
    queue_url: str
    dlq_url: str
    table: str
    sqs: Any
    dynamodb: Any

    def queued_jobs(self) -> list[Job]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [Job.from_json(message["Body"]) for message in messages]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, slack: FakeSlack, bedrock: FakeBedrock) -> Iterator[Aws]:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name=TOKEN_PARAM, Value=BOT_TOKEN, Type="SecureString")
        ssm.put_parameter(Name=SECRET_PARAM, Value=SIGNING_SECRET, Type="SecureString")
        sqs = boto3.client("sqs", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        queue_url, dlq_url = create_job_queues(sqs)
        table = create_state_table(dynamodb)
        for name, value in {
            "AWS_REGION": "us-east-1", "STUDIO_QUEUE_URL": queue_url, "STUDIO_TABLE_NAME": table,
            "SLACK_BOT_TOKEN_PARAM": TOKEN_PARAM, "SLACK_SIGNING_SECRET_PARAM": SECRET_PARAM,
            "SLACK_API_URL": slack.api_url, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
            "POWERTOOLS_SERVICE_NAME": "studio", "POWERTOOLS_METRICS_NAMESPACE": "Studio",
            "STUDIO_RETRY_BASE_SECONDS": "0.01",
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
        monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
        yield Aws(queue_url, dlq_url, table, sqs, dynamodb)


def fresh(module: str) -> ModuleType:
    """Import a Lambda entry module anew, as a cold start would (it builds at import time).

    Each function has its own process on Lambda. Here both share one, and the logger named
    "studio" is both the worker's Powertools logger and Bolt's app logger (the app's name),
    which takes the ingress's handler; a cold start begins without it.
    """
    logging.Logger.manager.loggerDict.pop("studio", None)
    sys.modules.pop(module, None)
    return importlib.import_module(module)


# --- ingress -------------------------------------------------------------------------------

@pytest.mark.parametrize("base64_body", [True, False])
def test_signed_slash_command_is_acked_and_queued(aws: Aws, slack: FakeSlack, base64_body: bool) -> None:
    ingress = fresh("bot.runtime.lambda_ingress")
    body = slash_command_body("/imagine", "a red car ar=16:9", response_url=slack.response_url("r1"))
    response = ingress.handler(function_url_event(body, signed_headers(body), base64_body), LambdaContext())
    assert response["statusCode"] == 200
    assert "Working on your image" in response["body"]
    [job] = aws.queued_jobs()
    assert job.command == "imagine" and job.request["width"] == 1344 and job.request["seed"] is not None


def test_the_first_ack_of_a_cold_container_makes_no_slack_call(aws: Aws, slack: FakeSlack) -> None:
    ingress = fresh("bot.runtime.lambda_ingress")
    at_start = len(slack.calls_to("auth.test"))
    body = slash_command_body("/imagine", "a red car")
    assert ingress.handler(function_url_event(body, signed_headers(body)), LambdaContext())["statusCode"] == 200
    assert len(slack.calls_to("auth.test")) == at_start == 1


def test_usage_error_is_answered_without_queueing(aws: Aws) -> None:
    ingress = fresh("bot.runtime.lambda_ingress")
    body = slash_command_body("/imagine", "a car sed=4")
    response = ingress.handler(function_url_event(body, signed_headers(body)), LambdaContext())
    assert "Did you mean `seed=`?" in response["body"]
    assert aws.queued_jobs() == []


@pytest.mark.parametrize(
    "headers",
    [
        signed_headers("something else entirely"),
        signed_headers("x", secret="wrong-secret"),
        {"Content-Type": "application/x-www-form-urlencoded"},
    ],
    ids=["signature-of-other-body", "wrong-secret", "unsigned"],
)
def test_bad_signatures_are_rejected(aws: Aws, headers: dict[str, str]) -> None:
    ingress = fresh("bot.runtime.lambda_ingress")
    body = slash_command_body("/imagine", "a red car")
    response = ingress.handler(function_url_event(body, headers), LambdaContext())
    assert response["statusCode"] == 401
    assert aws.queued_jobs() == []


def test_stale_timestamp_is_rejected(aws: Aws) -> None:
    ingress = fresh("bot.runtime.lambda_ingress")
    body = slash_command_body("/imagine", "a red car")
    stale = signed_headers(body, timestamp=int(time.time()) - 60 * 10)
    assert ingress.handler(function_url_event(body, stale), LambdaContext())["statusCode"] == 401
    assert aws.queued_jobs() == []


def _event_with_raw_body(body: str, headers: dict[str, str], base64_body: str | None = None) -> dict[str, Any]:
    event = function_url_event(body, headers)
    if base64_body is not None:
        event["body"] = base64_body
    return event


@pytest.mark.parametrize(
    ("case", "expected"),
    [("non-numeric timestamp", 401), ("not base64", 401), ("signed, body not JSON", 400),
     ("signed, event not an object", 400), ("signed, slash command without user", 400)],
)
def test_malformed_requests_are_refused_without_a_traceback(aws: Aws, case: str, expected: int) -> None:
    import json as json_module

    ingress = fresh("bot.runtime.lambda_ingress")
    slash = slash_command_body("/imagine", "a red car")
    events = {
        "non-numeric timestamp": _event_with_raw_body(slash, {**signed_headers(slash), "X-Slack-Request-Timestamp": "soon"}),
        "not base64": _event_with_raw_body(slash, signed_headers(slash), base64_body="%%% not base64 %%%"),
        "signed, body not JSON": function_url_event("{nope", signed_headers("{nope", content_type="application/json")),
        "signed, event not an object": function_url_event(
            json_module.dumps({"type": "event_callback", "event": []}),
            signed_headers(json_module.dumps({"type": "event_callback", "event": []}), content_type="application/json")),
        "signed, slash command without user": function_url_event(
            "command=%2Fimagine&text=car&channel_id=C1", signed_headers("command=%2Fimagine&text=car&channel_id=C1")),
    }
    response = ingress.handler(events[case], LambdaContext())
    assert response["statusCode"] == expected
    assert "Traceback" not in str(response.get("body"))
    assert aws.queued_jobs() == []


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_forged_request_is_logged_as_one_line_without_its_body(aws: Aws, monkeypatch: pytest.MonkeyPatch,
                                                                 level: str) -> None:
    import logging

    from tests.fakes.slack import VERIFICATION_TOKEN

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", level)
    ingress = fresh("bot.runtime.lambda_ingress")
    # Read what the container's log handlers (Powertools' JSON to stdout, shared by Studio's and Slack's
    # loggers) would print, whichever stream they were bound to by an earlier import.
    names = ("bot", "handlers", "slack_bolt", "slack_sdk", "slack_bolt.RequestVerification", "studio:SlackRequestHandler")
    handlers = {h for name in names for h in logging.getLogger(name).handlers if isinstance(h, logging.StreamHandler)}
    buffer = io.StringIO()
    for handler in handlers:
        monkeypatch.setattr(handler, "stream", buffer)
    body = slash_command_body("/imagine", "our secret launch plan", response_url="https://hooks.slack.com/commands/T1/2/xyz")
    response = ingress.handler(function_url_event(body, signed_headers(body, secret="forged")), LambdaContext())
    assert response["statusCode"] == 401
    logged = buffer.getvalue()
    for private in ("launch", VERIFICATION_TOKEN, "hooks.slack.com", "v0="):
        assert private not in logged, f"{private!r} was logged"
    lines = [line for line in logged.splitlines() if "refused" in line.lower() or "invalid request" in line.lower()]
    assert len(lines) == 1, logged
    assert "signature" in lines[0]


def test_slack_retries_of_an_event_run_one_job(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    """Slack repeats an event it thinks was lost; the worker (idempotent on the job id) runs it once,
    and no ack waits on DynamoDB for that."""
    from tests.fakes.slack import event_body, retry_headers

    ingress = fresh("bot.runtime.lambda_ingress")
    bedrock.converse_answer = "A red car on a beach."
    photo = slack.add_file(small_jpeg(), name="car.jpg")
    ts = slack.post_user_message("C1", "U1", "<@UBOT> describe", files=[photo])
    body = event_body(slack.message_event("C1", ts, event_type="app_mention"), event_id="Ev42")
    headers = signed_headers(body, content_type="application/json")
    for attempt in range(3):
        extra = retry_headers(attempt) if attempt else {}
        response = ingress.handler(function_url_event(body, {**headers, **extra}), LambdaContext())
        assert response["statusCode"] == 200
    jobs = aws.queued_jobs()
    assert len(jobs) == 3 and len({job.id for job in jobs}) == 1, "each delivery queued under the same job id"
    assert not ingress.state.client.is_built, "acking a command reads no DynamoDB"

    worker = fresh("bot.runtime.lambda_worker")
    assert worker.handler(sqs_event([job.to_json() for job in jobs]), LambdaContext()) == {"batchItemFailures": []}
    assert len(bedrock.calls) == 1
    assert len([m for m in slack.thread_messages("C1", ts) if m.get("bot_id")]) == 1, "answered once"


# What acking never needs: Pillow and the model side, the flows, and what only workers, the local
# HTTP server or the terminal use (Slack I/O, Bolt's WSGI adapter, Powertools: ~15 ms with its Metrics).
NOT_IN_INGRESS = ('PIL', 'handlers.images', 'handlers.bedrock', 'bot.flows.imagine', 'bot.flows.edit',
                  'bot.flows.replace_bg', 'bot.flows.progress', 'bot.slack.io', 'bot.slack.photos',
                  'bot.slack.http_server', 'slack_bolt.adapter.wsgi', 'wsgiref.simple_server',
                  'aws_lambda_powertools', 'bot.runtime.terminal', 'bot.runtime.worker', 'bot.context')
# What only answers mistakes and errors (the error registry and what it imports, brand and admin words, the
# "did you mean" matcher) or only result buttons and the Extend form (result records): imported on first
# use, and before the SnapStart snapshot (FIRST_USE_MODULES).
FIRST_USE_IN_INGRESS = ('bot.messages.errors', 'bot.messages.admin', 'bot.messages.brand', 'bot.catalogue.plan',
                        'bot.brand', 'difflib', 'bot.flows.results')
_INGRESS_ENV = {"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "AWS_REGION": "us-east-1",
                "STUDIO_QUEUE_URL": "https://q", "STUDIO_TABLE_NAME": "t"}


def _fresh_interpreter(code: str, cwd: Path, pythonpath: tuple[Path, ...] = ()) -> str:
    """The last line ``code`` prints, run in a fresh interpreter with the ingress's environment."""
    import os
    import subprocess

    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(map(str, (*pythonpath, ROOT))), **_INGRESS_ENV}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_ingress_does_not_load_pillow_or_handlers(tmp_path) -> None:
    """A cold start in a fresh interpreter: the ingress bundle has no Pillow at all, nor anything only workers use."""
    probe = (f"import sys, bot.runtime.lambda_ingress; "
             f"print([m for m in {NOT_IN_INGRESS + FIRST_USE_IN_INGRESS!r} if m in sys.modules])")
    assert _fresh_interpreter(probe, tmp_path) == "[]"


def test_the_snapshot_holds_what_the_ingress_imports_on_first_use(tmp_path) -> None:
    """With SnapStart, the before-snapshot hook imports the first-use modules, so no restored environment pays."""
    (tmp_path / "snapshot_restore_py.py").write_text(
        "before = []\nregister_before_snapshot = before.append\nregister_after_restore = lambda hook: None\n")
    probe = ("import sys, snapshot_restore_py, bot.runtime.lambda_ingress as ingress\n"
             f"wanted = {FIRST_USE_IN_INGRESS!r}\n"
             "assert not [m for m in wanted if m in sys.modules]\n"
             "assert set(ingress.FIRST_USE_MODULES) <= set(wanted)\n"
             "[hook() for hook in snapshot_restore_py.before]\n"
             "print([m for m in wanted if m not in sys.modules])")
    assert _fresh_interpreter(probe, tmp_path, pythonpath=(tmp_path,)) == "[]"


def test_every_word_the_messages_facade_exports_is_there() -> None:
    """Lazily loaded or not, each name in ``bot.messages.__all__`` resolves (a name added to a lazy module needs ``_LAZY``)."""
    from bot import messages

    assert [name for name in messages.__all__ if getattr(messages, name, None) is None] == []


def test_errors_are_worded_without_the_snapshot_too(tmp_path) -> None:
    """Without SnapStart, the first error answer imports its words then: same words, no crash."""
    probe = ("import sys\nfrom bot import messages\nfrom bot.commands.intake import parse_request\n"
             "from bot.errors import UsageError\nfrom bot.settings import Settings\n"
             "assert 'bot.messages.errors' not in sys.modules and 'difflib' not in sys.modules\n"
             "try:\n    parse_request('imagine', 'a car sede=4', Settings.from_env())\n"
             "except UsageError as error:\n    print(repr(messages.error_message(error)))")
    assert "Unknown option `sede=`. Did you mean `seed=`?" in _fresh_interpreter(probe, tmp_path)


def test_ingress_logs_json_lines_with_the_workers_keys(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Powertools, the ingress's lines keep Powertools Logger's keys (the worker's), context included."""
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    ingress = fresh("bot.runtime.lambda_ingress")
    [handler] = logging.getLogger("bot").handlers
    buffer = io.StringIO()
    monkeypatch.setattr(handler, "stream", buffer)
    body = slash_command_body("/imagine", "a red car")
    ingress.handler(function_url_event(body, signed_headers(body, secret="forged")), LambdaContext())
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.runtime").exception("failed", extra={"job_id": "j1"})
    first, second = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert list(first)[:11] == ["level", "location", "message", "timestamp", "service", "name", "cold_start",
                                "function_name", "function_memory_size", "function_arn", "function_request_id"]
    assert first["name"] == "bot.slack.http_guard"
    assert first["level"] == "WARNING" and first["service"] == "studio" and first["cold_start"] is True
    assert first["function_request_id"] == "req-1" and first["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert first["location"].startswith("logged:") and "signature" in first["message"]
    assert second["job_id"] == "j1" and second["exception_name"] == "ValueError" and "boom" in second["exception"]
    ingress.handler(function_url_event(body, signed_headers(body, secret="forged")), LambdaContext())
    assert json.loads(buffer.getvalue().splitlines()[-1])["cold_start"] is False


# --- worker --------------------------------------------------------------------------------

def imagine_job(job_id: str = "job-1") -> str:
    request = ImagineRequest(prompt="a lighthouse", width=1024, height=1024, seed=5)
    return Job(id=job_id, command="imagine", request=asdict(request), team_id="T0001",
               channel_id="C1", user_id="U1").to_json()


def test_worker_posts_result_once_even_when_delivered_twice(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    body = imagine_job()
    first = worker.handler(sqs_event([body]), LambdaContext())
    second = worker.handler(sqs_event([body]), LambdaContext())
    assert first == second == {"batchItemFailures": []}
    assert len(slack.uploads) == 1
    assert len([c for c in bedrock.calls if c.operation == "InvokeModel"]) == 1


def test_undeliverable_job_is_a_batch_item_failure(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    slack.fail_next("chat.postMessage", error="internal_error", n=10)
    response = worker.handler(sqs_event([imagine_job("ok-later"), ]), LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    slack.reset_faults()
    # SQS redelivers it; now Slack is back and the job runs (the failure was not remembered).
    assert worker.handler(sqs_event([imagine_job("ok-later")]), LambdaContext()) == {"batchItemFailures": []}
    assert len(slack.uploads) == 1


def test_failed_job_is_told_and_not_retried(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    bedrock.blocked_terms.add("lighthouse")
    assert worker.handler(sqs_event([imagine_job()]), LambdaContext()) == {"batchItemFailures": []}
    assert "content filter" in json.dumps(slack.updates[-1]["blocks"])


def test_worker_logs_json_with_job_ids_and_emits_metrics(aws: Aws, slack: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    # Powertools configures its handler once per process; point it at a buffer for this test.
    buffer = io.StringIO()
    worker.logger.registered_handler.setStream(buffer)
    worker.handler(sqs_event([imagine_job("job-metrics")]), LambdaContext())
    output = buffer.getvalue() + capsys.readouterr().out  # metrics are printed, logs go to the handler
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    metrics = {name["Name"] for line in lines for block in line.get("_aws", {}).get("CloudWatchMetrics", [])
               for name in block["Metrics"]}
    assert {"JobsStarted", "JobsSucceeded", "ImagesGenerated", "ModelLatency", "EndToEndTime"} <= metrics
    assert any(line.get("correlation_id") == "job-metrics" and line.get("channel_id") == "C1" for line in lines)
    assert BOT_TOKEN not in json.dumps(lines)


def test_batch_fans_out_on_sqs_and_reports_once_despite_a_duplicate(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    from handlers.requests import ReplaceBackgroundRequest
    from tests.photos import small_jpeg

    worker = fresh("bot.runtime.lambda_worker")
    files = [slack.add_file(small_jpeg(), name=f"p{i}.jpg") for i in range(3)]
    ts = slack.post_user_message("C1", "U1", "", files=files)
    parent = Job(id="batch-1", command="replace-bg", team_id="T0001", channel_id="C1", user_id="U1",
                 request=asdict(ReplaceBackgroundRequest(prompt="a beach", keep="bag", seed=3)),
                 thread_ts=ts, image_source="files", file_ids=tuple(f["id"] for f in files))
    assert worker.handler(sqs_event([parent.to_json()]), LambdaContext()) == {"batchItemFailures": []}
    children = [job.to_json() for job in aws.queued_jobs()]
    assert len(children) == 3 and all('"batch"' in child for child in children)
    # SQS delivers at least once: photo 0 arrives twice, once in each batch.
    assert worker.handler(sqs_event(children[:2]), LambdaContext()) == {"batchItemFailures": []}
    assert worker.handler(sqs_event([children[0], children[2]]), LambdaContext()) == {"batchItemFailures": []}
    images = [u for u in slack.uploads if u["filename"].endswith("-new-background-1.png")]
    assert [u["filename"] for u in slack.uploads].count("replace-bg-contact-sheet.png") == 1, "one contact sheet"
    reports = [u for u in slack.uploads if u["filename"].endswith(".csv")]
    # Each photo painted once (Stability: one Inpaint call after its cut-out), despite the duplicate.
    painted = [c for c in bedrock.calls if c.model_id == "us.stability.stable-image-inpaint-v1:0"]
    assert len(images) == 3 and len(painted) == 3
    assert len(reports) == 1 and reports[0]["content"].decode().count("\n") == 4


def test_result_slack_never_takes_is_told_and_left_for_redelivery(aws: Aws, slack: FakeSlack, bedrock: FakeBedrock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from slack_sdk.http_retry import builtin_handlers

    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))  # no jitter in tests
    worker = fresh("bot.runtime.lambda_worker")
    slack.fail_next("chat.postMessage", "ratelimited", n=1000, retry_after=0)
    for receive in (1, 2):
        event = sqs_event([imagine_job("limited")])
        event["Records"][0]["attributes"]["ApproximateReceiveCount"] = str(receive)
        assert worker.handler(event, LambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    notes = [note["text"] for note in slack.ephemerals]
    assert len(notes) == 1, "told once, not on every redelivery"
    assert "Slack did not accept the result" in notes[0] and "try again by itself" in notes[0]
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"  # the last try before the dead-letter queue
    worker.handler(event, LambdaContext())
    assert "send it again" in slack.ephemerals[-1]["text"]
