"""The job record travels as JSON (SQS message body) without losing anything."""

from __future__ import annotations

from dataclasses import asdict

from bot.jobs import Job
from handlers.requests import ImagineRequest


def test_job_round_trips_through_json() -> None:
    request = ImagineRequest(prompt="a red car", width=1152, height=640, negative="people", count=3, seed=7)
    job = Job(id="j1", command="imagine", request=asdict(request), team_id="T", channel_id="C1", user_id="U1",
              thread_ts="1.2", image_source="files", file_ids=("F1", "F2"), response_url="https://hooks/x")
    text = job.to_json()
    assert len(text) < 1024, "a job is a small record, never image bytes"
    again = Job.from_json(text)
    assert again == job
    assert ImagineRequest(**again.request) == request


def test_unknown_fields_from_a_newer_version_are_ignored() -> None:
    job = Job(id="j1", command="describe", request={}, team_id="T", channel_id="C1", user_id="U1")
    assert Job.from_json(job.to_json()[:-1] + ',"added_later":1}') == job
