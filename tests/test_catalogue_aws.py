"""bot.catalogue on AWS (moto): staging photos, the per-photo step, counters and the report."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.catalogue.archive import read_photos
from bot.catalogue.counters import BatchCounters
from bot.catalogue.s3_batch import (
    BatchLayout,
    BatchSpec,
    S3MultipartWriter,
    execution_input,
    stage_photos,
)
from bot.catalogue.source import PrefixNotAllowed, check_readable, parse_s3_uri, readable_buckets
from bot.catalogue.state_machine_step import (
    BatchReport,
    PhotoOutcome,
    PhotoOutput,
    StepDeps,
    handle_step,
    is_step_event,
)
from handlers.errors import ModelBlocked, ModelBusy
from tests.aws_resources import create_state_table
from tests.photos import small_jpeg

BUCKET = "studio-catalogue-test"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        table = create_state_table(dynamodb)
        yield {"s3": s3, "counters": BatchCounters(dynamodb, table)}


def spec(total: int, batch_id: str = "B1") -> BatchSpec:
    return BatchSpec(id=batch_id, name="spring shoes", command="remove-bg", request={}, team_id="T1",
                     channel_id="C1", user_id="U1", thread_ts="1.0", progress_ts="1.1", total=total,
                     results_bucket=BUCKET)


class Processor:
    """Stands in for the per-photo flow: a PNG per photo; some names fail or are throttled."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, name: str, data: bytes, batch: BatchSpec) -> PhotoOutcome:
        self.calls.append(name)
        if "busy" in name:
            raise ModelBusy("throttled")
        if "blocked" in name:
            raise ModelBlocked("filter")
        stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return PhotoOutcome((PhotoOutput(f"{stem}.png", b"png:" + name.encode()),), subject="sneaker")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def photo_event(batch: BatchSpec, key: str, size: int, step: str = "photo") -> dict[str, Any]:
    # The shape the Distributed Map's ItemSelector builds (infra/template.yaml).
    return {"catalogue_step": step, "batch": execution_input(batch, BUCKET, BatchLayout(batch.id).photos_prefix)["batch"],
            "source": {"bucket": BUCKET, "prefix": BatchLayout(batch.id).photos_prefix},
            "item": {"Key": key, "Size": size}}


def staged(aws: dict[str, Any], batch: BatchSpec, files: dict[str, bytes]) -> list[dict[str, Any]]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    layout = BatchLayout(batch.id)
    stage_photos(aws["s3"], BUCKET, layout, read_photos(buffer))
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=layout.photos_prefix)["Contents"]
    return [{"Key": o["Key"], "Size": o["Size"]} for o in listed]


def test_s3_uris_and_the_allowed_buckets() -> None:
    assert parse_s3_uri("s3://shots/2027/spring") == ("shots", "2027/spring/")
    assert parse_s3_uri("s3://shots") == ("shots", "")
    allowed = readable_buckets(" shots, archive ,")
    assert allowed == {"shots", "archive"}
    assert check_readable("s3://archive/x/", allowed) == ("archive", "x/")
    with pytest.raises(PrefixNotAllowed) as refused:
        check_readable("s3://someone-elses/x/", allowed)
    assert refused.value.allowed == ["archive", "shots"]
    with pytest.raises(ValueError):
        parse_s3_uri("https://shots/x")


def test_a_zip_is_staged_then_each_photo_step_writes_results_rows_and_counters(aws: dict[str, Any]) -> None:
    batch = spec(total=3)
    items = staged(aws, batch, {"a/shoe.jpg": small_jpeg(), "b/shoe.jpg": small_jpeg(), "blocked.jpg": small_jpeg(),
                                "notes.pdf": PDF})
    assert [i["Key"].rsplit("/photos/", 1)[1] for i in items] == ["a/shoe.jpg", "b/shoe.jpg", "blocked.jpg"]
    counters: BatchCounters = aws["counters"]
    counters.start(batch.id, batch.total)
    processor = Processor()
    deps = StepDeps(aws["s3"], counters, processor, clock=Clock())

    outcomes = [handle_step(photo_event(batch, i["Key"], i["Size"]), deps) for i in items]
    assert [(o["photo"], o["outcome"], o["reason"]) for o in outcomes] == [
        ("a/shoe.jpg", "done", ""), ("b/shoe.jpg", "done", ""), ("blocked.jpg", "failed", "ModelBlocked")]
    assert outcomes[-1]["done"] == 3 and outcomes[-1]["failed"] == 1 and outcomes[-1]["total"] == 3
    result = aws["s3"].get_object(Bucket=BUCKET, Key="batches/B1/results/a/shoe.jpg/shoe.png")["Body"].read()
    assert result == b"png:a/shoe.jpg"

    # Step Functions retried a child after it had finished: counted once.
    again = handle_step(photo_event(batch, items[0]["Key"], items[0]["Size"]), deps)
    assert again["counted"] is False and again["done"] == 3


def test_throttling_is_raised_for_step_functions_to_retry_and_nothing_is_counted(aws: dict[str, Any]) -> None:
    batch = spec(total=1)
    items = staged(aws, batch, {"busy.jpg": small_jpeg()})
    aws["counters"].start(batch.id, 1)
    deps = StepDeps(aws["s3"], aws["counters"], Processor())
    with pytest.raises(ModelBusy):
        handle_step(photo_event(batch, items[0]["Key"], items[0]["Size"]), deps)
    assert aws["counters"].counts(batch.id).done == 0
    # Retries ran out: the child's Catch sends the error to the failure step.
    failed = photo_event(batch, items[0]["Key"], items[0]["Size"], step="photo_failed")
    failed["error"] = {"Error": "ModelBusy", "Cause": "{}"}
    assert handle_step(failed, deps)["outcome"] == "failed"
    assert aws["counters"].counts(batch.id) == type(aws["counters"].counts(batch.id))(done=1, failed=1, total=1)


def test_objects_under_an_s3_prefix_that_are_not_photos_are_skipped_without_the_model(aws: dict[str, Any]) -> None:
    batch = spec(total=3)
    prefix = "shoot/"
    aws["s3"].put_object(Bucket=BUCKET, Key="shoot/", Body=b"")
    aws["s3"].put_object(Bucket=BUCKET, Key="shoot/list.pdf", Body=PDF)
    aws["s3"].put_object(Bucket=BUCKET, Key="shoot/huge.jpg", Body=b"\xff\xd8\xff" + b"0" * 2000)
    aws["counters"].start(batch.id, 2)
    processor = Processor()
    deps = StepDeps(aws["s3"], aws["counters"], processor, max_photo_bytes=1000)

    def run(key: str) -> dict[str, Any]:
        size = aws["s3"].head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        event = photo_event(batch, key, size)
        event["source"] = {"bucket": BUCKET, "prefix": prefix}
        return handle_step(event, deps)

    assert run("shoot/")["outcome"] == "ignored"
    assert (run("shoot/list.pdf")["outcome"], run("shoot/list.pdf")["reason"]) == ("skipped", "pdf")
    assert run("shoot/huge.jpg")["reason"] == "too_large"
    assert processor.calls == []


def test_the_report_step_writes_the_csv_and_a_results_zip_and_posts_once(aws: dict[str, Any]) -> None:
    batch = spec(total=3)
    items = staged(aws, batch, {"a/shoe.jpg": small_jpeg(), "b/shoe.jpg": small_jpeg(), "blocked.jpg": small_jpeg()})
    aws["counters"].start(batch.id, 3)
    posted: list[BatchReport] = []
    deps = StepDeps(aws["s3"], aws["counters"], Processor(), poster=posted.append, clock=Clock())
    for item in items:
        handle_step(photo_event(batch, item["Key"], item["Size"]), deps)

    event = {"catalogue_step": "report", "batch": photo_event(batch, "", 0)["batch"]}
    assert is_step_event(event) and not is_step_event({"Records": []})
    output = handle_step(event, deps)
    assert json.dumps(output)  # small and serializable: it is the execution's output
    assert output["counts"] == {"done": 3, "failed": 1, "total": 3}
    assert output["zip_key"] == "batches/B1/spring-shoes-results.zip"
    (report,) = posted
    assert report.results == 2 and report.zip_name == "spring-shoes-results.zip"

    body = aws["s3"].get_object(Bucket=BUCKET, Key=report.zip_key)["Body"].read()
    assert len(body) == report.zip_bytes
    with zipfile.ZipFile(io.BytesIO(body)) as results:
        assert results.namelist() == ["a/shoe.png", "b/shoe.png", "report.csv"]
        assert results.read("b/shoe.png") == b"png:b/shoe.jpg"
    text = aws["s3"].get_object(Bucket=BUCKET, Key=report.csv_key)["Body"].read().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["photo"], r["subject"], r["outcome"], r["reason"]) for r in rows] == [
        ("a/shoe.jpg", "sneaker", "done", ""), ("b/shoe.jpg", "sneaker", "done", ""),
        ("blocked.jpg", "", "failed", "ModelBlocked")]
    assert all(float(r["seconds"]) > 0 for r in rows)


def test_the_multipart_writer_uploads_in_parts_and_aborts_on_error(aws: dict[str, Any]) -> None:
    s3 = aws["s3"]
    part = 8 * 1024 * 1024
    with S3MultipartWriter(s3, BUCKET, "big.bin") as writer:
        writer.write(b"a" * part)
        writer.write(b"b" * 10)
    assert s3.head_object(Bucket=BUCKET, Key="big.bin")["ContentLength"] == part + 10
    with pytest.raises(RuntimeError), S3MultipartWriter(s3, BUCKET, "broken.zip") as writer:
        writer.write(b"x")
        raise RuntimeError("the report step crashed")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="broken")
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
