"""ZIP batches of every batch-capable command (besides /replace-bg): /remove-bg, /upscale, /formats, /describe alt.

Each runs the way /replace-bg's ZIP batch does (tests/test_catalogue_zip.py): the
same entry points, the up-front quota check, one progress line, a results ZIP and
a CSV report in the ZIP's thread; /describe alt delivers only the CSV of alt texts.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest
from PIL import Image

from bot.catalogue.results import CSV_COLUMNS
from bot.flows.catalogue_aws import ZIP_BATCHES
from bot.messages.errors import NO_IMAGE_REASONS
from tests.conftest import Studio
from tests.fakes.bedrock import FakeBedrock
from tests.fakes.slack import FakeSlack
from tests.photos import small_jpeg
from tests.test_catalogue_zip import PDF, catalogue, csv_rows, post_zip, progress_messages, uploads_in, zip_of
from tests.test_photo_flows import submit_modal


def results_of(slack: FakeSlack, thread: str, name: str = "spring-results.zip") -> dict[str, bytes]:
    """The one results ZIP in ``thread``, as its entries (the report included)."""
    [results] = uploads_in(slack, thread, "-results.zip")
    assert results["filename"] == name
    with zipfile.ZipFile(io.BytesIO(results["content"])) as archive:
        return {entry: archive.read(entry) for entry in archive.namelist()}


def report_of(slack: FakeSlack, thread: str) -> dict[str, dict[str, str]]:
    [report] = uploads_in(slack, thread, ".csv")
    return {row["photo"]: row for row in csv_rows(report)}


def size_of(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def thread_text(slack: FakeSlack, thread: str) -> str:
    return json.dumps(slack.thread_messages("C1", thread), ensure_ascii=False)


def usage(studio: Studio) -> str:
    return str(studio.slash("/imagine", "usage", response_key="usage")["text"])


def width_in_alt(body: dict[str, Any]) -> str:
    """An alt text that names the photo it was asked about (by its width), so each row can be checked."""
    image = next(part["image"] for part in body["messages"][0]["content"] if "image" in part)
    with Image.open(io.BytesIO(base64.b64decode(image["source"]["bytes"]))) as photo:
        return f"A product shot {photo.width} pixels wide"


# --- /remove-bg ---------------------------------------------------------------------------------

def test_remove_bg_on_a_zip_gives_a_cutout_per_photo_in_the_results_zip_and_a_report(
        studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    ts = post_zip(slack, catalogue(4))
    studio.slash("/remove-bg", "")
    studio.wait_idle(timeout=120)

    [progress] = progress_messages(slack, ts)
    assert "cut-out of each of the 4 photos of `spring.zip`" in progress["text"]
    assert "4/4 done" in json.dumps(progress["blocks"])
    entries = results_of(slack, ts)
    cutouts = sorted(name for name in entries if name.endswith(".png"))
    assert cutouts == [f"spring/shot-{index:02d}-cutout-1.png" for index in range(4)]
    assert size_of(entries[cutouts[0]]) == (96, 80)
    rows = report_of(slack, ts)
    assert [row["outcome"] for row in rows.values()] == ["done"] * 4
    assert "4 of 4 photos are done" in thread_text(slack, ts)
    assert [u["filename"] for u in slack.uploads if u["filename"].endswith(".png")] == [
        "spring-contact-sheet.png"], "no per-photo uploads, only the batch's contact sheet"
    remover = [c for c in bedrock.calls if c.model_id.endswith("remove-background-v1:0")]
    assert len(remover) == 4


def test_a_busy_model_is_waited_out_without_a_word_for_a_photo_of_a_zip(
        studio: Studio, slack: FakeSlack, bedrock: FakeBedrock, caplog: pytest.LogCaptureFixture) -> None:
    """A batch's line counts photos: one photo's job-level retry is not told there (a single photo's line says it)."""
    caplog.set_level("INFO")
    ts = post_zip(slack, catalogue(1))
    bedrock.fail_next(4, "ThrottlingException")  # botocore's own attempts, then one job-level retry
    studio.slash("/remove-bg", "")
    studio.wait_idle(timeout=120)

    assert [row["outcome"] for row in report_of(slack, ts).values()] == ["done"]
    assert [r for r in caplog.records if r.name == "bot.flows.retry" and "retry" in r.getMessage()]
    assert "Bedrock is busy" not in json.dumps(slack.updates) + thread_text(slack, ts)


def test_remove_bg_mentioned_in_the_zips_thread_runs_the_batch(studio: Studio, slack: FakeSlack,
                                                              bedrock: FakeBedrock) -> None:
    ts = post_zip(slack, zip_of({"bottle.jpg": small_jpeg(), "notes.pdf": PDF}), name="mixed.zip")
    mention = slack.post_user_message("C1", "U1", "<@UBOT> remove-bg", thread_ts=ts)
    studio.event(slack.message_event("C1", mention, event_type="app_mention"))
    studio.wait_idle(timeout=60)

    assert sorted(results_of(slack, ts, "mixed-results.zip")) == ["bottle-cutout-1.png", "report.csv"]
    rows = report_of(slack, ts)
    assert rows["bottle.jpg"]["outcome"] == "done"
    assert rows["notes.pdf"]["outcome"] == "skipped" and rows["notes.pdf"]["reason"].startswith("not a photo")


def test_the_remove_background_shortcut_on_a_zip_runs_the_batch(studio: Studio, slack: FakeSlack,
                                                               bedrock: FakeBedrock) -> None:
    ts = post_zip(slack, catalogue(3))
    studio.interact(slack.message_shortcut_payload("C1", ts, "remove_background"))
    studio.wait_idle(timeout=60)

    assert len([name for name in results_of(slack, ts) if name.endswith("-cutout-1.png")]) == 3


# --- /upscale -----------------------------------------------------------------------------------

def test_upscale_on_a_zip_gives_each_photo_four_times_larger(studio: Studio, slack: FakeSlack,
                                                            bedrock: FakeBedrock) -> None:
    ts = post_zip(slack, catalogue(3))
    studio.slash("/upscale", "")
    studio.wait_idle(timeout=120)

    [progress] = progress_messages(slack, ts)
    assert "upscale (fast) of each of the 3 photos" in progress["text"]
    entries = results_of(slack, ts)
    assert {name: size_of(data) for name, data in entries.items() if name.endswith(".png")} == {
        f"spring/shot-{index:02d}-upscaled-1.png": (4 * (96 + index), 4 * 80) for index in range(3)}
    assert {row["outcome"] for row in report_of(slack, ts).values()} == {"done"}


def test_upscale_mentioned_on_the_zips_message_uses_the_asked_mode_and_prompt(
        studio: Studio, slack: FakeSlack, bedrock: FakeBedrock) -> None:
    upload = slack.add_file(catalogue(2), name="spring.zip", mimetype="application/zip", user="U1")
    ts = slack.post_user_message("C1", "U1", "<@UBOT> upscale mode=conservative white sneaker", files=[upload])
    studio.event(slack.message_event("C1", ts, event_type="app_mention"))
    studio.wait_idle(timeout=60)

    calls = [c for c in bedrock.calls if c.model_id.endswith("conservative-upscale-v1:0")]
    assert len(calls) == 2 and {c.body["prompt"] for c in calls} == {"white sneaker"}
    assert len([name for name in results_of(slack, ts) if name.endswith("-upscaled-1.png")]) == 2


# --- /formats -----------------------------------------------------------------------------------

def test_formats_on_a_zip_puts_each_photos_formats_under_its_stem(make_studio: Any, slack: FakeSlack,
                                                                  bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=10)
    ts = post_zip(slack, zip_of({"shoes/red.jpg": small_jpeg(1600, 1200), "blue.jpg": small_jpeg(1600, 1200),
                                 "thumb.jpg": small_jpeg(120, 90)}), name="season.zip")
    studio.slash("/formats", "story,square")
    studio.wait_idle(timeout=120)

    [progress] = progress_messages(slack, ts)
    assert "2 formats of each of the 3 photos of `season.zip`: story, square" in progress["text"]
    entries = results_of(slack, ts, "season-results.zip")
    assert {name: size_of(data) for name, data in entries.items() if name.endswith(".png")} == {
        "shoes/red/red-story-1080x1920.png": (1080, 1920), "shoes/red/red-square-1080x1080.png": (1080, 1080),
        "blue/blue-story-1080x1920.png": (1080, 1920), "blue/blue-square-1080x1080.png": (1080, 1080)}
    rows = report_of(slack, ts)
    assert rows["shoes/red.jpg"]["outcome"] == rows["blue.jpg"]["outcome"] == "done"
    assert rows["thumb.jpg"]["outcome"] == "failed" and "small" in rows["thumb.jpg"]["reason"]
    assert "2 of 3 photos are done, 1 failed" in thread_text(slack, ts)
    assert "you: *4 of 10*" in usage(studio), "one image per format delivered"


def test_formats_on_a_zip_over_the_quota_is_refused_counting_every_format(make_studio: Any, slack: FakeSlack,
                                                                          bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=5)
    post_zip(slack, catalogue(3))
    studio.slash("/formats", "story,square")
    studio.wait_idle(timeout=60)

    note = json.dumps(slack.responses)
    assert "3 photos" in note and "6 images" in note and "5 left" in note
    assert bedrock.calls == [] and slack.uploads == []


# --- /describe alt ------------------------------------------------------------------------------

def test_describe_alt_on_a_zip_gives_a_csv_of_alt_texts_and_uses_no_images(make_studio: Any, slack: FakeSlack,
                                                                         bedrock: FakeBedrock) -> None:
    studio = make_studio(user_daily_images=1)  # fewer images left than photos: alt texts make none
    bedrock.converse_answer = width_in_alt
    ts = post_zip(slack, zip_of({**{f"spring/shot-{index:02d}.jpg": small_jpeg(96 + index, 80)
                                   for index in range(3)}, "=HYPERLINK.jpg": small_jpeg(120, 80),
                                 "spec.pdf": PDF}))
    studio.slash("/describe", "alt")
    studio.wait_idle(timeout=120)

    [progress] = progress_messages(slack, ts)
    # The heading counts from the ZIP's directory (the PDF too); the line counts what ran.
    assert "asked for alt text for each of the 4 photos of `spring.zip`" in progress["text"]
    assert "4/4 done" in json.dumps(progress["blocks"])
    assert uploads_in(slack, ts, "-results.zip") == [], "no images, so no results ZIP"
    assert uploads_in(slack, ts, ".png") == [], "nor a contact sheet: the alt texts are in the report"
    [report] = uploads_in(slack, ts, ".csv")
    rows = csv_rows(report)
    assert list(rows[0]) == ["photo", "alt text", "outcome", "reason", "seconds"]
    assert [(row["photo"], row["alt text"], row["outcome"]) for row in rows] == [
        ("'=HYPERLINK.jpg", "A product shot 120 pixels wide", "done"),  # a name is never a formula
        ("spring/shot-00.jpg", "A product shot 96 pixels wide", "done"),
        ("spring/shot-01.jpg", "A product shot 97 pixels wide", "done"),
        ("spring/shot-02.jpg", "A product shot 98 pixels wide", "done"),
        ("spec.pdf", "", "skipped")]
    assert "alt text" in bedrock.calls[0].body["messages"][0]["content"][-1]["text"].lower()
    said = thread_text(slack, ts)
    assert "4 of 4 photos are done" in said and "no images were made" in said
    assert "you: *0 of 1*" in usage(studio)


def test_the_describe_shortcut_with_alt_on_a_zip_runs_the_batch(studio: Studio, slack: FakeSlack,
                                                               bedrock: FakeBedrock) -> None:
    bedrock.converse_answer = "A red sneaker on white"
    ts = post_zip(slack, catalogue(2))
    studio.interact(slack.message_shortcut_payload("C1", ts, "describe_image"))
    submit_modal(studio, slack, {"preset": "alt"})
    studio.wait_idle(timeout=60)

    assert {row["alt text"] for row in report_of(slack, ts).values()} == {"A red sneaker on white"}


def test_other_describe_presets_on_a_zip_say_which_commands_take_one(studio: Studio, slack: FakeSlack,
                                                                     bedrock: FakeBedrock) -> None:
    post_zip(slack, catalogue(2))
    studio.slash("/describe", "caption")
    studio.wait_idle(timeout=30)

    note = json.dumps(slack.responses)
    assert "`spring.zip` is a ZIP" in note and "`/describe alt`" in note
    assert bedrock.calls == [] and slack.uploads == []


def test_the_zip_refusal_names_every_command_that_takes_a_zip() -> None:
    for command in ZIP_BATCHES:
        assert f"`/{command}" in NO_IMAGE_REASONS["zip_not_supported"], command
    assert CSV_COLUMNS[1] == "subject", "replace-bg's report keeps its column"
