"""S3 folders as a batch's photos (``/replace-bg s3://bucket/prefix/ …``) and one batch per person at a time on AWS.

The grammar and the up-front refusals run on the local fakes; the AWS side on moto (S3, DynamoDB, Step
Functions, which records executions without running the map: the tests run its steps as the map would).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import asdict, replace
from typing import Any

import boto3
import pytest

from bot.commands.grammar import split_s3_folder
from bot.commands.intake import job_from_mention, job_from_slash_command
from bot.errors import UsageError
from bot.jobs import Job
from bot.settings import Settings
from handlers.requests import ReplaceBackgroundRequest
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack, slash_command_body
from tests.lambda_events import LambdaContext, sqs_event
from tests.photos import small_jpeg
from tests.test_catalogue_lambda import BUCKET, catalogue, started_execution, zip_job
from tests.test_catalogue_zip import PDF
from tests.test_lambda import Aws, aws, fresh

__all__ = ["aws", "catalogue"]  # fixtures
SHOTS = "shots-2027"


def test_the_folder_is_the_source_never_part_of_the_prompt() -> None:
    assert split_s3_folder("replace-bg", "s3://shots/spring/ keep=auto london city") == (
        "s3://shots/spring/", "keep=auto london city")
    assert split_s3_folder("replace-bg", "keep=auto <s3://shots/spring/|s3://shots/spring/> london") == (
        "s3://shots/spring/", "keep=auto  london")
    assert split_s3_folder("replace-bg", "keep=auto london") == (None, "keep=auto london")
    assert split_s3_folder("replace-bg", 'keep="s3://x" beach')[0] is None, "inside a value it is a value"
    with pytest.raises(UsageError) as error:
        split_s3_folder("replace-bg", "s3://a/x/ s3://a/y/ beach")
    assert error.value.problem == "one_s3_folder"


def on_aws(settings: Settings, buckets: str = SHOTS) -> Settings:
    return replace(settings, catalogue_bucket=BUCKET, catalogue_readable_buckets=frozenset(buckets.split(",")),
                   catalogue_state_machine="arn:aws:states:us-east-1:123456789012:stateMachine:studio-catalogue")


def test_slash_commands_and_mentions_carry_the_folder_in_the_job(settings: Settings) -> None:
    body = {"command": "/replace-bg", "text": f"s3://{SHOTS}/spring keep=auto london city background",
            "team_id": "T1", "channel_id": "C1", "user_id": "U1", "trigger_id": "t1"}
    job = job_from_slash_command(body, on_aws(settings))
    assert job.s3_uri == f"s3://{SHOTS}/spring" and job.image_source == "s3"
    assert ReplaceBackgroundRequest(**job.request).prompt == "london city background"

    event = {"text": f"<@UBOT> replace-bg keep=car s3://{SHOTS}/spring/ beach", "channel": "C1", "ts": "1.2",
             "user": "U1", "files": [{"id": "F1", "name": "a.jpg", "mimetype": "image/jpeg"}]}
    mention = job_from_mention(event, "T1", on_aws(settings))
    assert mention.s3_uri == f"s3://{SHOTS}/spring/" and mention.file_ids == () and mention.thread_ts == "1.2"


@pytest.mark.parametrize(("text", "stack", "expected"), [
    ("s3://shots-2027/spring/ keep=auto london", False, "need Studio's AWS stack"),
    ("s3://someone-elses/spring/ keep=auto london", True, "`CatalogueReadableBuckets` (now: `shots-2027`)"),
    ("s3://shots-2027/spring/ keep=auto", True, "Describe the new background"),
], ids=["local-runtime", "bucket-not-allowed", "usage-first"])
def test_a_folder_studio_cannot_read_is_refused_privately_before_anything_is_queued(
        make_studio: Any, settings: Settings, slack: FakeSlack, text: str, stack: bool, expected: str) -> None:
    studio = make_studio(**(asdict_settings(on_aws(settings)) if stack else {}))
    answer = studio.slash("/replace-bg", text)
    assert expected in answer["text"]
    if not stack:
        assert "post the ZIP" in answer["text"], "says what to do instead"
    studio.wait_idle()
    assert slack.channel_messages("C1") == [], "nothing was posted or run"


def test_s3_on_a_command_without_photos_is_a_usage_error(make_studio: Any, settings: Settings) -> None:
    studio = make_studio(**asdict_settings(on_aws(settings)))
    assert "takes no S3 folder" in studio.slash("/imagine", f"s3://{SHOTS}/x/ a red car")["text"]


def asdict_settings(settings: Settings) -> dict[str, Any]:
    return {"catalogue_bucket": settings.catalogue_bucket, "catalogue_state_machine": settings.catalogue_state_machine,
            "catalogue_readable_buckets": settings.catalogue_readable_buckets}


# --- AWS: the folder batch ----------------------------------------------------------------------------------

@pytest.fixture
def shots(aws: Aws, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A bucket of the company's photos the stack may read (CatalogueReadableBuckets)."""
    catalogue["s3"].create_bucket(Bucket=SHOTS)
    monkeypatch.setenv("STUDIO_CATALOGUE_READABLE_BUCKETS", f"{SHOTS},other-bucket")
    return catalogue["s3"]


def folder_job(prefix: str = "spring/", job_id: str = "s3-1", user: str = "U1") -> Job:
    return Job(id=job_id, command="replace-bg", team_id="T0001", channel_id="C1", user_id=user,
               request=asdict(ReplaceBackgroundRequest(prompt="london city background", keep="auto", seed=3)),
               image_source="s3", s3_uri=f"s3://{SHOTS}/{prefix}", response_url=None)


def put_folder(s3: Any, files: dict[str, bytes], prefix: str = "spring/") -> None:
    for name, data in files.items():
        s3.put_object(Bucket=SHOTS, Key=prefix + name, Body=data)


def executions(catalogue: dict[str, Any]) -> list[dict[str, Any]]:
    sfn = catalogue["sfn"]
    listed = sfn.list_executions(stateMachineArn=catalogue["arn"])["executions"]
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed]


def test_a_folder_batch_reads_the_prefix_in_place_and_reports_other_files_as_skipped(
        shots: Any, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "handbag"
    put_folder(shots, {"a.jpg": small_jpeg(), "sub/b.JPG": small_jpeg(), "notes.pdf": PDF, ".DS_Store": b"x",
                       "sub/": b""})
    put_folder(shots, {"c.jpg": small_jpeg()}, prefix="summer/")  # beside the folder: not part of it
    worker = fresh("bot.runtime.lambda_worker")
    assert worker.handler(sqs_event([folder_job().to_json()]), LambdaContext()) == {"batchItemFailures": []}

    execution = started_execution(catalogue)
    assert execution["source"] == {"bucket": SHOTS, "prefix": "spring/", "folder": True}, "no copy: the map lists it"
    assert execution["batch"]["total"] == 2 and execution["batch"]["name"] == "spring"
    assert [o["Key"] for o in catalogue["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if "/photos/" in o["Key"]] == [], "nothing staged"
    assert bedrock.calls == [], "nothing runs before the state machine does"
    [progress] = slack.channel_messages("C1")
    assert "0/2 done" in json.dumps(progress["blocks"]) and f"s3://{SHOTS}/spring/" in progress["text"]
    assert slack.calls_to("chat.update") == [], "posted at 0/2 already: no second message says it again"

    # The map's ItemReader lists every key under the prefix; each becomes a photo step.
    listed = shots.list_objects_v2(Bucket=SHOTS, Prefix="spring/")["Contents"]
    outcomes = {}
    for item in listed:
        result = worker.handler({"catalogue_step": "photo", **execution,
                                 "item": {"Key": item["Key"], "Size": item["Size"]}}, LambdaContext())
        outcomes[item["Key"]] = result["outcome"]
    assert outcomes == {"spring/a.jpg": "done", "spring/sub/b.JPG": "done", "spring/notes.pdf": "ignored",
                        "spring/.DS_Store": "ignored", "spring/sub/": "ignored"}
    worker.handler({"catalogue_step": "report", "batch": execution["batch"], "map_error": None}, LambdaContext())

    [results] = [u for u in slack.uploads if u["filename"] == "spring-results.zip"]
    assert results["thread_ts"] == progress["ts"], "in the progress message's thread"
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        assert sorted(archive.namelist()) == ["a-new-background-1.png", "report.csv", "sub/b-new-background-1.png"]
    [report] = [u for u in slack.uploads if u["filename"] == "spring-report.csv"]
    rows = {r["photo"]: r for r in csv.DictReader(io.StringIO(report["content"].decode("utf-8-sig")))}
    assert rows["notes.pdf"]["outcome"] == "skipped" and rows["notes.pdf"]["reason"].startswith("not a photo")
    assert rows["sub/b.JPG"]["outcome"] == "done" and rows["a.jpg"]["subject"] == "handbag"
    assert ".DS_Store" not in rows and "sub/" not in rows, "housekeeping files are not news"


@pytest.mark.parametrize(("files", "env", "expected"), [
    ({"notes.pdf": PDF}, {}, "holds no photo"),
    ({"a.jpg": b"1", "b.jpg": b"2", "c.jpg": b"3"}, {"STUDIO_CATALOGUE_MAX_PHOTOS": "2"}, "more than 2 photos"),
    ({"a.jpg": b"1", "b.jpg": b"2", "c.jpg": b"3"}, {"STUDIO_USER_DAILY_IMAGES": "2"},
     "That folder holds 3 photos, which makes 3 images; you have 2 left today"),
], ids=["no-photos", "over-the-photo-limit", "over-the-quota"])
def test_a_folder_batch_is_refused_whole_before_anything_runs(
        shots: Any, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock,
        monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes], env: dict[str, str], expected: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    put_folder(shots, files)
    worker = fresh("bot.runtime.lambda_worker")
    job = replace(folder_job(), response_url=slack.response_url("r1"))
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    assert expected in json.dumps(slack.responses["r1"])
    assert executions(catalogue) == [] and bedrock.calls == []
    assert slack.channel_messages("C1") == [], "no progress line for a batch that never starts"


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://not-allowed/spring/", "CatalogueReadableBuckets"),
    ("s3://other-bucket/spring/", "did not let Studio list `s3://other-bucket/spring/` (NoSuchBucket)"),
], ids=["bucket-not-allowed", "allowed-but-missing"])
def test_the_worker_checks_the_bucket_again(shots: Any, catalogue: dict[str, Any], slack: FakeSlack,
                                            uri: str, expected: str) -> None:
    worker = fresh("bot.runtime.lambda_worker")
    job = replace(folder_job(), s3_uri=uri, response_url=slack.response_url("r1"))
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    assert expected in json.dumps(slack.responses["r1"])
    assert executions(catalogue) == []


def test_a_command_without_a_batch_form_is_refused(shots: Any, catalogue: dict[str, Any], slack: FakeSlack) -> None:
    put_folder(shots, {"a.jpg": small_jpeg()})
    worker = fresh("bot.runtime.lambda_worker")
    job = replace(folder_job(), command="edit", request={"prompt": "x", "mask": "y"},
                  response_url=slack.response_url("r1"))
    worker.handler(sqs_event([job.to_json()]), LambdaContext())
    assert "S3 folders work with `/replace-bg`, `/remove-bg`" in json.dumps(slack.responses["r1"])
    assert executions(catalogue) == []


# --- AWS: a second batch from the same person waits its turn ------------------------------------------------

def test_a_second_batch_is_queued_and_starts_when_the_first_reports(
        shots: Any, catalogue: dict[str, Any], slack: FakeSlack, bedrock: FakeBedrock) -> None:
    put_folder(shots, {"a.jpg": small_jpeg()})
    put_folder(shots, {"b.jpg": small_jpeg(), "c.jpg": small_jpeg()}, prefix="summer/")
    worker = fresh("bot.runtime.lambda_worker")
    first, _ = zip_job(slack, {"z.jpg": small_jpeg()})  # a ZIP batch and a folder batch share the turn
    worker.handler(sqs_event([first.to_json()]), LambdaContext())
    worker.handler(sqs_event([folder_job("summer/", "s3-2").to_json()]), LambdaContext())
    worker.handler(sqs_event([folder_job("spring/", "s3-3", user="U2").to_json()]), LambdaContext())

    started = {e["batch"]["id"] for e in executions(catalogue)}
    assert started == {"zip-1", "s3-3"}, "someone else's batch is not held back"
    [queued] = [m for m in slack.channel_messages("C1") if "summer" in m["text"]]
    assert "Queued" in json.dumps(queued["blocks"])

    running = next(e for e in executions(catalogue) if e["batch"]["id"] == "zip-1")
    report = {"catalogue_step": "report", "batch": running["batch"], "map_error": None}
    worker.handler(report, LambdaContext())
    ids = sorted(e["batch"]["id"] for e in executions(catalogue))
    assert ids == ["s3-2", "s3-3", "zip-1"]
    waited = next(e for e in executions(catalogue) if e["batch"]["id"] == "s3-2")
    assert waited["source"] == {"bucket": SHOTS, "prefix": "summer/", "folder": True}
    [line] = [m for m in slack.channel_messages("C1") if "summer" in m["text"]]
    assert "0/2 done" in json.dumps(line["blocks"]) and "Queued" not in json.dumps(line["blocks"])

    for item in shots.list_objects_v2(Bucket=SHOTS, Prefix="summer/")["Contents"]:
        worker.handler({"catalogue_step": "photo", **waited, "item": {"Key": item["Key"], "Size": item["Size"]}},
                       LambdaContext())
    worker.handler({"catalogue_step": "report", "batch": waited["batch"], "map_error": None}, LambdaContext())
    worker.handler(report, LambdaContext())  # the first batch's report step retried late: nothing changes
    assert len(executions(catalogue)) == 3
    [line] = [m for m in slack.channel_messages("C1") if "summer" in m["text"]]
    assert "2/2 done" in json.dumps(line["blocks"]), "the finished batch's line is left as it is"


def test_a_batch_whose_execution_died_passes_its_turn_on(
        shots: Any, catalogue: dict[str, Any], slack: FakeSlack) -> None:
    put_folder(shots, {"a.jpg": small_jpeg()})
    worker = fresh("bot.runtime.lambda_worker")
    worker.handler(sqs_event([folder_job("spring/", "s3-1").to_json()]), LambdaContext())
    worker.handler(sqs_event([folder_job("spring/", "s3-2").to_json()]), LambdaContext())
    [dead] = executions(catalogue)
    # What EventBridge delivers when Step Functions ends an execution without its report.
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
             "detail": {"status": "ABORTED", "name": "s3-1", "stateMachineArn": catalogue["arn"],
                        "input": json.dumps(dead)}}
    assert worker.handler(event, LambdaContext()) == {}
    assert sorted(e["batch"]["id"] for e in executions(catalogue)) == ["s3-1", "s3-2"]
    lines = {m["ts"]: json.dumps(m["blocks"]) for m in slack.channel_messages("C1")}
    assert "was stopped before it finished" in lines[dead["batch"]["progress_ts"]]


def test_the_ingress_queues_a_folder_batch_on_the_stack(shots: Any, aws: Aws, slack: FakeSlack) -> None:
    from tests.fakes.slack import signed_headers
    from tests.lambda_events import function_url_event

    ingress = fresh("bot.runtime.lambda_ingress")
    body = slash_command_body("/replace-bg", f"s3://{SHOTS}/spring/ keep=auto london city background",
                              response_url=slack.response_url("r1"))
    response = ingress.handler(function_url_event(body, signed_headers(body)), LambdaContext())
    assert response["statusCode"] == 200
    [job] = aws.queued_jobs()
    assert job.s3_uri == f"s3://{SHOTS}/spring/" and job.command == "replace-bg"
    assert boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"], "moto is up"
