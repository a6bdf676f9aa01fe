"""AWS Lambda worker on the SQS job queue.

Each record is one job. The same function runs the catalogue state machine's
steps (an event with ``catalogue_step``, see ``bot.flows.catalogue_aws``), and
hears from EventBridge when a batch's execution ended without its report.
A job runs at most once to completion (Powertools
Idempotency keyed on the job id, so an SQS redelivery never posts twice);
a job whose result could not be delivered is reported as a batch item failure,
so SQS retries it and, after the redrive limit, moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from bot.bootstrap import lambda_worker
from bot.catalogue.state_machine_step import is_step_event
from bot.clients import aws_client
from bot.flows.catalogue_aws import batch_stopped, is_batch_stopped_event, run_step, step_deps
from bot.jobs import Job
from bot.runtime.aws import structured_logging
from bot.runtime.worker import Outcome, run_job

logger = Logger()
structured_logging(logger)
# Trace AWS SDK and HTTP calls (Bedrock, SQS, DynamoDB, Slack); patching every
# library X-Ray knows would import them all and slow the cold start.
tracer = Tracer(patch_modules=["botocore", "httplib"])
# Report every failed record, even when the whole batch failed, so each job is
# retried (and dead-lettered) on its own count rather than failing the invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

ctx = lambda_worker()
steps = step_deps(ctx) if ctx.catalogue is not None else None

# A finished job is remembered for a day: far longer than SQS keeps retrying it.
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=ctx.settings.table_name,
                                       boto3_client=aws_client("dynamodb", ctx.settings))


# The job queue's redrive policy (maxReceiveCount in infra/template.yaml).
MAX_RECEIVES = 3


class Undelivered(Exception):
    """Slack could not be reached; raising makes SQS deliver the job again."""


# Powertools ships this decorator untyped; the function keeps its own signature.
@idempotent_function(data_keyword_argument="job", config=idempotency, persistence_store=persistence)  # type: ignore[untyped-decorator]
def process_job(job: dict[str, Any], will_retry: bool = True) -> str:
    """Run one job; idempotent on ``job["id"]``."""
    parsed = Job.from_json(json.dumps(job))
    logger.set_correlation_id(parsed.id)
    logger.append_keys(team_id=parsed.team_id, channel_id=parsed.channel_id, user_id=parsed.user_id,
                       command=parsed.command)
    outcome = run_job(parsed, ctx, will_retry=will_retry)
    if outcome is Outcome.UNDELIVERED:
        # Idempotency forgets a failed call, so the redelivery really runs again.
        raise Undelivered(parsed.id)
    return str(outcome.value)


def record_handler(record: SQSRecord) -> str:
    # After MAX_RECEIVES deliveries SQS moves the job to the dead-letter queue instead.
    will_retry = int(record.attributes.approximate_receive_count or 1) < MAX_RECEIVES
    return str(process_job(job=json.loads(record.body), will_retry=will_retry))


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse | dict[str, Any]:
    """SQS batch in, the ids of records to retry out; or a catalogue step in, its small result out."""
    if is_step_event(event):
        if steps is None:
            raise RuntimeError("a catalogue step, but STUDIO_CATALOGUE_BUCKET is not set")
        # Errors (ModelBusy included) propagate: the state machine retries or records the photo.
        return run_step(event, ctx, steps)
    if is_batch_stopped_event(event):
        # EventBridge: a batch's execution ended without its report; its person's next batch may start.
        if ctx.catalogue is not None:
            batch_stopped(event, ctx)
        return {}
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
