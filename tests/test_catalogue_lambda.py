"""ZIP batches on AWS (moto S3, Step Functions, DynamoDB, SQS): the ZIP job stages and starts, the steps report."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import zipfile
from dataclasses import asdict, replace
from typing import Any

import boto3
import pytest

from bot.jobs import Job
from handlers.requests import DescribeRequest, FormatsRequest, ReplaceBackgroundRequest
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.lambda_events import LambdaContext, browser_get_event, sqs_event
from tests.photos import small_jpeg
from tests.test_catalogue_zip import PDF, zip_of
from tests.test_lambda import Aws, aws, fresh

__all__ = ["aws"]  # the fixture, shared with tests/test_lambda.py
BUCKET = "studio-catalogue"


@pytest.fixture
def catalogue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The stack's catalogue bucket and state machine (moto records executions; it does not run the map)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(name="studio-catalogue", roleArn="arn:aws:iam::123456789012:role/sfn",
                                   definition=json.dumps({"StartAt": "Done", "States": {
                                       "Done": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    monkeypatch.setenv("STUDIO_CATALOGUE_BUCKET", BUCKET)
    monkeypatch.setenv("STUDIO_CATALOGUE_STATE_MACHINE", arn)
    return {"s3": s3, "sfn": sfn, "arn": arn}


def zip_job(slack: FakeSlack, files: dict[str, bytes]) -> tuple[Job, str]:
    upload = slack.add_file(zip_of(files), name="spring.zip", mimetype="application/zip")
    ts = slack.post_user_message("C1", "U1", "", files=[upload])
    job = Job(id="zip-1", command="replace-bg", team_id="T0001", channel_id="C1", user_id="U1",
              request=asdict(ReplaceBackgroundRequest(prompt="studio backdrop", keep="auto", seed=3)),
              thread_ts=ts, image_source="files", file_ids=(upload["id"],))
    return job, ts


def started_execution(catalogue: dict[str, Any]) -> dict[str, Any]:
    [execution] = catalogue["sfn"].list_executions(stateMachineArn=catalogue["arn"])["executions"]
    return dict(json.loads(catalogue["sfn"].describe_execution(executionArn=execution["executionArn"])["input"]))


def map_items(s3: Any, prefix: str) -> list[dict[str, Any]]:
    """What the Distributed Map's ItemReader lists (s3:listObjectsV2), as its items."""
    return [{"Key": o["Key"], "Size": o["Size"]} for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]


def test_the_zip_job_streams_the_zip_to_s3_stages_photos_and_starts_the_state_machine(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    job, ts = zip_job(slack, {"a.jpg": small_jpeg(), "b/c.jpg": small_jpeg(), "spec.pdf": PDF})
    assert worker.handler(sqs_event([job.to_json()]), LambdaContext()) == {"batchItemFailures": []}

    execution = started_execution(catalogue)
    assert execution["batch"]["total"] == 2 and execution["batch"]["thread_ts"] == ts
    assert execution["source"] == {"bucket": BUCKET, "prefix": "batches/zip-1/photos/"}
    keys = {o["Key"] for o in catalogue["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {"batches/zip-1/source.zip", "batches/zip-1/photos/a.jpg", "batches/zip-1/photos/b/c.jpg"} <= keys
    assert bedrock.calls == [], "nothing runs before the state machine does"
    [progress] = [m for m in slack.thread_messages("C1", ts) if m.get("bot_id")]
    assert "0/2 done" in json.dumps(progress["blocks"])


def test_a_file_named_as_a_photo_that_is_not_leaves_the_heading_and_the_count(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    job, ts = zip_job(slack, {"a.jpg": small_jpeg(), "page.jpg": b"<!doctype html><html>sign in</html>"})
    assert worker.handler(sqs_event([job.to_json()]), LambdaContext()) == {"batchItemFailures": []}

    assert started_execution(catalogue)["batch"]["total"] == 1
    [progress] = [m for m in slack.thread_messages("C1", ts) if m.get("bot_id")]
    assert "0/1 done" in json.dumps(progress["blocks"]) and "in the 1 photo of `spring.zip`" in progress["text"]


def test_the_steps_run_the_per_photo_flow_and_the_report_posts_zip_and_csv(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "sneaker"
    worker = fresh("bot.runtime.lambda_worker")
    job, ts = zip_job(slack, {"a.jpg": small_jpeg(), "b/c.jpg": small_jpeg(), "spec.pdf": PDF})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    execution = started_execution(catalogue)

    for item in map_items(catalogue["s3"], execution["source"]["prefix"]):
        result = worker.handler({"catalogue_step": "photo", **execution, "item": item}, LambdaContext())
        assert result["outcome"] == "done"
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())
    # A retried report step posts nothing twice.
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())

    [results] = [u for u in slack.uploads if u["filename"] == "spring-results.zip"]
    assert results["thread_ts"] == ts
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        assert sorted(archive.namelist()) == ["a-new-background-1.png", "b/c-new-background-1.png", "report.csv"]
    [report] = [u for u in slack.uploads if u["filename"].endswith(".csv")]
    rows = {r["photo"]: r for r in csv.DictReader(io.StringIO(report["content"].decode("utf-8-sig")))}
    assert rows["a.jpg"]["outcome"] == "done" and rows["a.jpg"]["subject"] == "sneaker"
    assert rows["spec.pdf"]["outcome"] == "skipped"
    [progress] = [m for m in slack.thread_messages("C1", ts) if m.get("bot_id") and m.get("blocks")
                  and "done" in json.dumps(m["blocks"])]
    assert "2/2 done" in json.dumps(progress["blocks"])


def _too_big_for_slack(worker: Any, catalogue: dict[str, Any], slack: FakeSlack) -> str:
    """Run a one-photo ZIP batch whose results ZIP is over the upload limit; the thread's messages as JSON."""
    job, ts = zip_job(slack, {"a.jpg": small_jpeg()})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    execution = started_execution(catalogue)
    [item] = map_items(catalogue["s3"], execution["source"]["prefix"])
    worker.handler({"catalogue_step": "photo", **execution, "item": item}, LambdaContext())
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())
    assert [u["filename"] for u in slack.uploads] == ["spring-report.csv", "spring-contact-sheet.png"]
    return json.dumps(slack.thread_messages("C1", ts))


def test_a_results_zip_too_big_for_slack_is_linked_for_as_long_as_it_is_kept(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_CATALOGUE_UPLOAD_BYTES", "1")
    monkeypatch.setenv("STUDIO_CATALOGUE_RETENTION_DAYS", "14")
    monkeypatch.setenv("STUDIO_RESULTS_LINK_URL", "https://abc123.lambda-url.us-east-1.on.aws/")
    comment = _too_big_for_slack(fresh("bot.runtime.lambda_worker"), catalogue, slack)
    [path] = re.findall(r"https://abc123\.lambda-url\.us-east-1\.on\.aws(/results/[\w-]+)", comment)
    assert "up to 14 days" in comment, "a Studio link outlives SigV4's 7 days and the role's credentials"

    ingress = fresh("bot.runtime.lambda_ingress")
    answer = ingress.handler(browser_get_event(path), LambdaContext())
    assert answer["statusCode"] == 302
    location = urllib.parse.urlsplit(answer["headers"]["location"])
    assert (location.hostname, location.path) == (f"{BUCKET}.s3.amazonaws.com", "/batches/zip-1/spring-results.zip")
    assert urllib.parse.parse_qs(location.query)["X-Amz-Expires"] == ["300"]
    catalogue["s3"].head_object(Bucket=BUCKET, Key="batches/zip-1/spring-results.zip")

    unknown = ingress.handler(browser_get_event("/results/not-a-token"), LambdaContext())
    assert unknown["statusCode"] == 404 and "expired" in unknown["body"]


def test_without_a_links_url_a_results_zip_too_big_for_slack_gets_a_presigned_link(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_CATALOGUE_UPLOAD_BYTES", "1")
    comment = _too_big_for_slack(fresh("bot.runtime.lambda_worker"), catalogue, slack)
    assert f"https://{BUCKET}.s3.amazonaws.com/batches/zip-1/spring-results.zip" in comment
    assert "up to 7 days" in comment


def test_throttling_in_a_step_is_raised_for_the_state_machine_to_retry(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    from handlers.errors import ModelBusy

    worker = fresh("bot.runtime.lambda_worker")
    job, _ = zip_job(slack, {"a.jpg": small_jpeg()})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    execution = started_execution(catalogue)
    [item] = map_items(catalogue["s3"], execution["source"]["prefix"])
    bedrock.fail_next(20)
    with pytest.raises(ModelBusy):
        worker.handler({"catalogue_step": "photo", **execution, "item": item}, LambdaContext())


def command_zip_job(slack: FakeSlack, command: str, request: Any, files: dict[str, bytes]) -> tuple[Job, str]:
    """A ZIP job of any batch-capable command, as the ingress queues it."""
    job, ts = zip_job(slack, files)
    return replace(job, command=command, request=asdict(request)), ts


def run_the_map(worker: Any, catalogue: dict[str, Any]) -> dict[str, Any]:
    """What the state machine does once started: each staged photo's step, then the report step."""
    execution = started_execution(catalogue)
    for item in map_items(catalogue["s3"], execution["source"]["prefix"]):
        worker.handler({"catalogue_step": "photo", **execution, "item": item}, LambdaContext())
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())
    return execution


def test_the_steps_run_formats_from_the_registry_with_each_photos_formats_under_its_stem(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    request = FormatsRequest(formats=("story=1080x1920", "square=1080x1080"), seed=3)
    job, ts = command_zip_job(slack, "formats", request, {"a.jpg": small_jpeg(1600, 1200),
                                                         "b/c.jpg": small_jpeg(1600, 1200), "spec.pdf": PDF})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    assert run_the_map(worker, catalogue)["batch"]["command"] == "formats"

    [results] = [u for u in slack.uploads if u["filename"] == "spring-results.zip"]
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        assert sorted(archive.namelist()) == [
            "a/a-square-1080x1080.png", "a/a-story-1080x1920.png",
            "b/c/c-square-1080x1080.png", "b/c/c-story-1080x1920.png", "report.csv"]
    outpaint_or_cut = {c.model_id for c in bedrock.calls}
    assert outpaint_or_cut and all("remove-background" in m or "outpaint" in m for m in outpaint_or_cut)
    [progress] = [m for m in slack.thread_messages("C1", ts) if m.get("bot_id") and "2/2 done" in json.dumps(
        m.get("blocks"))]
    assert "2 formats of each of the 2 photos" in progress["text"]


def test_the_steps_run_describe_alt_into_a_csv_of_alt_texts_without_a_results_zip(
        aws: Aws, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "A white sneaker on a concrete floor"
    worker = fresh("bot.runtime.lambda_worker")
    job, ts = command_zip_job(slack, "describe", DescribeRequest(preset="alt"),
                              {"a.jpg": small_jpeg(), "spec.pdf": PDF})
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    run_the_map(worker, catalogue)

    assert [u["filename"] for u in slack.uploads] == ["spring-report.csv"]
    rows = list(csv.DictReader(io.StringIO(slack.uploads[0]["content"].decode("utf-8-sig"))))
    assert [(r["photo"], r["alt text"], r["outcome"]) for r in rows] == [
        ("a.jpg", "A white sneaker on a concrete floor", "done"), ("spec.pdf", "", "skipped")]
    assert "no images were made" in json.dumps(slack.thread_messages("C1", ts))
