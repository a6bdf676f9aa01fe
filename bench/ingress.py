"""AWS ingress: cold import time and warm ack latency of a signed slash command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import percentile_ms

ROOT = Path(__file__).resolve().parent.parent
COLD_RUNS = 7
WARM_RUNS = 1000

# Secrets come straight from the environment here, so importing the module
# makes one network call (auth.test, to a local fake Slack); SQS sends go to a stub. The
# LAMBDA_* variables are what Lambda sets: the X-Ray SDK (Tracer) then uses its
# local sampler instead of creating X-Ray API clients, as it does in production.
_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "studio-ingress",
    "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-secret",
    "STUDIO_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench", "STUDIO_TABLE_NAME": "bench",
    "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "studio", "POWERTOOLS_LOG_LEVEL": "WARNING",
}
_COLD = "import time; t = time.perf_counter(); import bot.runtime.lambda_ingress; print(time.perf_counter() - t)"


def cold_import() -> dict[str, float]:
    """Median wall time of ``import bot.runtime.lambda_ingress`` in a fresh interpreter (bytecode cached).

    The import resolves the bot's identity (one ``auth.test``), here against a local fake Slack.
    """
    from tests.fakes.slack import FakeSlack

    slack = FakeSlack(bot_token=_ENV["SLACK_BOT_TOKEN"]).start()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **_ENV, "SLACK_API_URL": slack.api_url}
    samples = []
    for _ in range(COLD_RUNS):
        output = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True, text=True,
                                check=True, cwd=ROOT).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    slack.stop()
    samples.sort()
    return {"ingress_cold_import_median_s": samples[len(samples) // 2], "ingress_cold_import_max_s": samples[-1]}


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
