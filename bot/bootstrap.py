"""The one place that builds Studio: settings, clients, stores and the model stack, for every runtime.

The runtimes (``bot.runtime.local`` and the Lambda entry modules) ask here for
what they serve and keep only their own plumbing. The ingress must cold-start
fast, so what only workers or only AWS need (flows, Pillow, the handlers,
Powertools) is imported inside the function that builds it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from slack_sdk import WebClient

from bot.clients import MeteredBedrock, bedrock_runtime, slack_listener_client, slack_web_client
from bot.jobs import Job
from bot.quota import quota_from
from bot.settings import Settings
from bot.store import StateStore, Store
from bot.telemetry import LogTelemetry, Telemetry

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.catalogue.aws import CatalogueAws
    from bot.context import WorkerContext
    from bot.runtime.aws import SqsQueue
    from bot.runtime.dynamo_state import DynamoState
    from bot.slack.io import SlackIO

log = logging.getLogger(__name__)


def worker_context(settings: Settings, store: Store, *, bedrock: Any = None, telemetry: Telemetry | None = None,
                   enqueue: Callable[[Job], None] | None = None, model_calls: int | None = None,
                   catalogue: CatalogueAws | None = None, slack: SlackIO | None = None,
                   on_model_slot: Callable[[], None] | None = None) -> WorkerContext:
    """What jobs run with: Slack and Bedrock clients, quotas and ``store``.

    ``model_calls`` bounds the Bedrock calls in flight at once to each model (the local pool,
    told through ``on_model_slot`` when a call gets its slot); ``bedrock`` replaces the Bedrock
    client (benchmarks time their own); ``slack`` replaces the Slack side (the terminal runtime's stand-in).
    """
    # What jobs run with; the ingress never loads it.
    from bot.context import WorkerContext
    from bot.slack.io import SlackIO

    telemetry = telemetry or LogTelemetry()
    if bedrock is None:
        bedrock = MeteredBedrock(bedrock_runtime(settings), telemetry.model_called, limit=model_calls,
                                 on_slot=on_model_slot)
    return WorkerContext(
        settings=settings,
        slack=slack or SlackIO(slack_web_client(settings), backoff_seconds=settings.retry_base_seconds / 4),
        bedrock=bedrock,
        quota=quota_from(settings, store),
        store=store,
        telemetry=telemetry,
        enqueue=enqueue,
        catalogue=catalogue,
    )


def catalogue_aws(settings: Settings) -> CatalogueAws | None:
    """The stack's catalogue bucket, state machine and counters; None where the stack has none."""
    if not settings.catalogue_on_aws:
        return None
    from bot.catalogue.aws import CatalogueAws
    from bot.catalogue.counters import BatchCounters
    from bot.clients import aws_client

    return CatalogueAws(aws_client("s3", settings), aws_client("stepfunctions", settings),
                        BatchCounters(aws_client("dynamodb", settings), settings.table_name),
                        settings.catalogue_bucket, settings.catalogue_state_machine,
                        settings.catalogue_retention_days, settings.results_link_url)


def load_model_stack() -> None:
    """Import every flow with its handlers now, so a worker's first job does not pay for Pillow."""
    from bot.commands.table import load_flows

    load_flows()


def slack_app(settings: Settings, submit: Callable[[Job], None], store: Store, socket_mode: bool = False,
              claim_jobs: bool = True) -> App:
    """The Bolt app that acks Slack and hands each job to ``submit``."""
    from bot.listeners.app import build_app

    return build_app(settings, slack_listener_client(settings), submit, store, socket_mode=socket_mode,
                     claim_jobs=claim_jobs)


def check_models(settings: Settings, slack: WebClient, store: StateStore, once_a_day: bool = False) -> None:
    """The start-up lifecycle check: warn in the log, and admins in Slack, about Legacy or unusable models.

    Never raises: a failing check must not keep Studio from starting. ``once_a_day``
    lets one process a day do it (each Lambda cold start would repeat the same calls).
    """
    from bot.clients import bedrock_control
    from bot.doctor import model_checks, warn_admins

    try:
        if once_a_day and not store.claim(f"model-check:{dt.date.today().isoformat()}", 86400):
            return
        warn_admins(model_checks(settings, bedrock_control(settings)), slack, settings.admins, store.claim)
    except Exception:
        log.exception("model check failed")


class LambdaIngress(NamedTuple):
    """What the ingress Lambda serves with."""

    settings: Settings
    queue: SqsQueue
    state: DynamoState
    app: App


def lambda_settings(want_signing_secret: bool) -> Settings:
    """Settings from the environment, with the Slack secrets read from SSM."""
    from bot.runtime.aws import with_secrets

    return with_secrets(Settings.from_env(), want_signing_secret=want_signing_secret)


def lambda_ingress() -> LambdaIngress:
    """Settings, the job queue, state and the Bolt app for the ingress (no Pillow, no Bedrock)."""
    from bot.clients import LazyClient, aws_client
    from bot.runtime.aws import SqsQueue
    from bot.runtime.dynamo_state import DynamoState

    settings = lambda_settings(want_signing_secret=True)
    settings.require_slack()
    queue = SqsQueue(aws_client("sqs", settings), settings.queue_url)
    # Most acks never read the table (the worker dedups jobs), so its client is built on first use
    # (a button, the usage, App Home): ~50 ms of cold start, mostly DynamoDB's endpoint rules.
    state = DynamoState(LazyClient(lambda: aws_client("dynamodb", settings)), settings.table_name)
    return LambdaIngress(settings, queue, state, slack_app(settings, queue.submit, state, claim_jobs=False))


def lambda_worker() -> WorkerContext:
    """The worker Lambda's context: DynamoDB state, the SQS queue for batches, CloudWatch metrics.

    Loads the model stack and runs the daily model check, so both happen once per container.
    """
    from bot.clients import aws_client
    from bot.runtime.aws import SqsQueue
    from bot.runtime.dynamo_state import DynamoState
    from bot.telemetry import PowertoolsTelemetry

    settings = lambda_settings(want_signing_secret=False)
    load_model_stack()
    store = DynamoState(aws_client("dynamodb", settings), settings.table_name)
    ctx = worker_context(settings, store, telemetry=PowertoolsTelemetry(),
                         enqueue=SqsQueue(aws_client("sqs", settings), settings.queue_url).submit,
                         catalogue=catalogue_aws(settings))
    check_models(settings, ctx.slack.client, store, once_a_day=True)
    return ctx
