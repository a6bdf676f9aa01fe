"""AWS ingress: cold import time and warm ack latency of a signed slash command."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import percentile_ms

ROOT = Path(__file__).resolve().parent.parent
COLD_RUNS = 9
WARM_RUNS = 1000

# Secrets come straight from the environment here, so importing the module
# makes one network call (auth.test, to a local fake Slack); SQS sends go to a stub. The
# LAMBDA_* variables are what Lambda sets: the X-Ray SDK (Tracer) then uses its
# local sampler instead of creating X-Ray API clients, as it does in production.
# Tracing stays on, as in the deployed function (Tracing: Active).
_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "studio-ingress",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-secret",
    "STUDIO_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench", "STUDIO_TABLE_NAME": "bench",
    "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "studio", "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# Wall time (the goal) and the process's CPU time: on a machine shared with other jobs the
# wall time swings by tens of percent between runs, the CPU time far less.
_TIMED = ("import time; t, c = time.perf_counter(), time.process_time()\n{}\n"
          "print(time.perf_counter() - t, time.process_time() - c)")
_INGRESS = _TIMED.format("import bot.runtime.lambda_ingress")
# The floor: what any Bolt app on Lambda that queues its work must load and build. Named,
# like Studio's, so neither pays Bolt's inspect.stack(); both resolve the bot (auth.test).
_BARE = _TIMED.format("""\
import os, boto3
from slack_bolt import App
from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_sdk import WebClient
client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
handler = SlackRequestHandler(App(name="bare", client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"],
                                  process_before_response=True))
sqs = boto3.client("sqs")""")


def cold_import() -> dict[str, float]:
    """Median cold import of ``bot.runtime.lambda_ingress`` and of a bare Bolt-on-Lambda app, and their ratio.

    Each sample is a fresh interpreter (bytecode cached); the two alternate, so
    load on the machine weighs on both alike. Each resolves the bot's identity
    (one ``auth.test``) against a local fake Slack. The CPU-time ratio comes along
    as context: it leaves out the waits that other jobs on the machine cause.
    """
    from tests.fakes.slack import FakeSlack

    with FakeSlack(bot_token=_ENV["SLACK_BOT_TOKEN"]) as slack:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **_ENV, "SLACK_API_URL": slack.api_url}
        wall: dict[str, list[float]] = {"ingress": [], "bare": []}
        cpu: dict[str, list[float]] = {"ingress": [], "bare": []}
        for _ in range(COLD_RUNS):
            for name, code in (("ingress", _INGRESS), ("bare", _BARE)):
                output = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                        check=True, cwd=ROOT).stdout
                seconds, cpu_seconds = output.strip().splitlines()[-1].split()
                wall[name].append(float(seconds))
                cpu[name].append(float(cpu_seconds))
    ingress, bare = (statistics.median(wall[name]) for name in ("ingress", "bare"))
    ingress_cpu, bare_cpu = (statistics.median(cpu[name]) for name in ("ingress", "bare"))
    return {"ingress_cold_import_median_ms": ingress * 1000, "bare_bolt_cold_import_median_ms": bare * 1000,
            "ingress_cold_import_ratio": ingress / bare,
            "ingress_cold_import_cpu_median_ms": ingress_cpu * 1000,
            "bare_bolt_cold_import_cpu_median_ms": bare_cpu * 1000,
            "ingress_cold_import_cpu_ratio": ingress_cpu / bare_cpu}


def warm_ack() -> dict[str, float]:
    """p50/p99 of the ingress handler acking a signed /imagine in process (SQS and DynamoDB stubbed)."""
    from bench.ingress_stubs import StubDynamo, StubSqs
    from tests.fakes.slack import FakeSlack, signed_headers, slash_command_body
    from tests.lambda_events import LambdaContext, function_url_event

    # The import asks Slack once (auth.test) for the bot's identity; no request does.
    slack = FakeSlack(bot_token=_ENV["SLACK_BOT_TOKEN"]).start()
    os.environ.update({**_ENV, "SLACK_API_URL": slack.api_url})
    import bot.runtime.lambda_ingress as ingress

    ingress.queue.client = StubSqs()
    ingress.state.client = StubDynamo()
    context = LambdaContext()
    samples = []
    for run in range(WARM_RUNS + 50):
        body = slash_command_body("/imagine", f"sneaker on a neon street no=people ar=16:9 n=3 seed={run}",
                                  response_url="https://hooks.slack.com/commands/T/1/x")
        event = function_url_event(body, signed_headers(body, secret=_ENV["SLACK_SIGNING_SECRET"]))
        started = time.perf_counter()
        response = ingress.handler(event, context)
        elapsed = time.perf_counter() - started
        assert response["statusCode"] == 200 and "Working on" in response["body"], response
        if run >= 50:
            samples.append(elapsed)
    slack.stop()
    return {"ingress_warm_ack_p50_ms": percentile_ms(samples, 0.5),
            "ingress_warm_ack_p99_ms": percentile_ms(samples, 0.99)}


if __name__ == "__main__":
    print(json.dumps(cold_import()))
