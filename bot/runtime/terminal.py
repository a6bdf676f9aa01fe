"""The terminal runtime: any command's flow against Bedrock, with the terminal standing in for Slack.

``python -m bot run "/replace-bg keep=car beach" --image photo.jpg --out DIR`` runs
the same ``bot.flows`` code as the Slack worker. Only the Slack side differs:
``TerminalSlack`` prints what a flow would post (its progress and outcome), writes
what it would upload into DIR, and finds the job's photos among the ``--image``
files (``LocalPhotos``) instead of in a channel.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TextIO

from slack_sdk import WebClient

from bot import messages
from bot.bootstrap import worker_context
from bot.clients import aws_credentials_hint
from bot.commands.intake import parse_request
from bot.commands.table import COMMANDS, Command
from bot.errors import HelpRequested, KnownError, NoImageFound
from bot.flows.catalogue_aws import ZIP_BATCHES
from bot.jobs import Job
from bot.messages import terminal as words
from bot.runtime.sqlite_state import SqliteState
from bot.runtime.worker import Outcome, run_job
from bot.settings import Settings
from bot.slack.io import SlackIO, Upload
from bot.slack.photo_refs import Photo, is_zip
from bot.slack.photos import PhotoFinder
from handlers.errors import InvalidImage
from handlers.images import MAX_FILE_BYTES, looks_like_html

# The ids a job carries; they only have to be consistent within one run.
TEAM, CHANNEL, USER = "TTERMINAL", "CTERMINAL", "UTERMINAL"
REPORT_NAME = "report.txt"
# How many --image files a command uses when more than one (None: any, as a batch or one answer); the
# others use one, and a photo after it would be dropped without a word (a ZIP is their batch).
PHOTOS_USED: dict[str, int | None] = {"replace-bg": None, "describe": None, "edit": 2}
# Commands about a Slack channel itself (its brand kit): the terminal has no channel to keep it for.
SLACK_ONLY = frozenset({"brand"})
_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")


class LocalPhotos(PhotoFinder):
    """The ``--image`` files as the photos a job is about, with file ids ``F1``, ``F2``, … in order."""

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__(WebClient())  # never called: every photo here is a local file
        self.paths = {f"F{index}": path for index, path in enumerate(paths, start=1)}

    def by_ids(self, file_ids: Iterable[str], thread_ts: str) -> list[Photo]:
        """The files for ``file_ids``, as Slack's lookup would return them."""
        return [self._photo(file_id, self.paths[file_id], thread_ts) for file_id in file_ids]

    @staticmethod
    def _photo(file_id: str, path: Path, thread_ts: str) -> Photo:
        return Photo(file_id=file_id, name=path.name.replace("`", "'"), mimetype="", size=path.stat().st_size,
                     url=path.resolve().as_uri(), thread_ts=thread_ts, is_archive=is_zip({"name": path.name}))

    def download_chunks(self, archive: Photo, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        """A ZIP of photos in chunks, as from Slack (the batch spools and checks it)."""
        with self.paths[archive.file_id].open("rb") as file:
            while chunk := file.read(chunk_bytes):
                yield chunk

    def download(self, photo: Photo) -> bytes:
        """The file's bytes (with Slack's size limit, so the terminal accepts what Slack would)."""
        if photo.size > MAX_FILE_BYTES:
            raise InvalidImage("file_too_large", megabytes=photo.size // 1_048_576, limit=MAX_FILE_BYTES // 1_048_576)
        data = self.paths[photo.file_id].read_bytes()
        if looks_like_html(data):  # a page saved under a photo's name: here it cannot be Slack's login page
            raise NoImageFound("not_image", name=photo.name)
        return data


class TerminalSlack(SlackIO):
    """The Slack side of a job, on the terminal: progress to ``err``, outcomes and files written to ``out``."""

    def __init__(self, out_dir: Path, photos: LocalPhotos, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        super().__init__(WebClient())  # never called: admins are not messaged from the terminal
        self.out_dir = out_dir
        self._photos = photos
        self._out = out or sys.stdout
        self._err = err or sys.stderr
        # A batch runs its photos on several threads.
        self._lock = threading.Lock()
        self._posted = 0
        # What the report repeats: every outcome and private note, and the files written.
        self.lines: list[str] = []
        self.files: list[Path] = []
        # Photos a batch's CSV report lists as failed: the job itself succeeds, the exit code must not.
        self.failed_photos = 0

    def photos(self) -> PhotoFinder:
        return self._photos

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]] | None = None,
             thread_ts: str | None = None) -> str:
        with self._lock:
            self._posted += 1
            self._say(self._err, " · ".join(plain_lines(text, blocks)))
            return str(self._posted)

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None,
               best_effort: bool = False) -> None:
        with self._lock:
            self._say(self._err, " · ".join(plain_lines(text, blocks)))

    def finish(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None,
               thread_ts: str | None, plain_blocks: list[dict[str, Any]] | None = None) -> None:
        # Inline images are left out on the terminal anyway (see plain_lines); the files are written.
        with self._lock:
            self._say(self._out, "\n".join(plain_lines(text, blocks)), keep=True)

    def upload(self, channel: str, thread_ts: str | None, uploads: Sequence[Upload],
               comment: str | None = None) -> list[str]:
        with self._lock:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for upload in uploads:
                path = _free_path(self.out_dir / Path(upload.filename).name)
                path.write_bytes(upload.content)
                self.files.append(path)
                if path.suffix == ".csv":
                    self.failed_photos += _failed_rows(upload.content)
                self._say(self._out, str(path))
            if comment:
                self._say(self._out, plain(comment), keep=True)
            return [f"terminal-{len(self.files) - len(uploads) + index}" for index in range(1, len(uploads) + 1)]

    def tell(self, job: Job, text: str) -> None:
        with self._lock:
            self._say(self._err, plain(text), keep=True)

    def _say(self, stream: TextIO, text: str, keep: bool = False) -> None:
        print(text, file=stream, flush=True)
        if keep:
            self.lines.append(text)


def plain_lines(text: str, blocks: list[dict[str, Any]] | None) -> list[str]:
    """A message's words as terminal lines: its sections and context lines (buttons and images left out)."""
    lines: list[str] = []
    for block in blocks or ():
        if block.get("type") == "section":
            lines.append(plain(block["text"]["text"]))
        elif block.get("type") == "context":
            lines += [plain(element["text"]) for element in block["elements"] if "text" in element]
    return lines or [plain(text)]


def plain(mrkdwn: str) -> str:
    """Slack markup as a terminal shows it: mentions as "@you", links as their label, entities decoded."""
    text = _LINK.sub(r"\2", _MENTION.sub("@you", mrkdwn))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _failed_rows(report: bytes) -> int:
    """How many photos a batch's CSV report lists as failed (skipped files are not failures)."""
    rows = csv.DictReader(io.StringIO(report.decode("utf-8-sig")))
    return sum(row.get("outcome") == "failed" for row in rows)


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.png``, ``name-3.png``… when taken: a run never overwrites earlier results."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def run_command(settings: Settings, command_text: str, images: Sequence[Path], out_dir: Path,
                out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command as typed in Slack on the ``images``; returns the exit code (0 done, 1 failed, 2 misused).

    Progress goes to ``err``; outcomes and the paths of the files written go to ``out``.
    """
    err = err or sys.stderr
    name, _, text = command_text.strip().lstrip("/").partition(" ")
    command = COMMANDS.get(name.lower())
    if command is None or not command.slash:
        print(words.unknown_command(name, [each.name for each in COMMANDS.values() if each.slash]), file=err)
        return 2
    if command.name in SLACK_ONLY:
        print(words.slack_only(command.name), file=err)
        return 2
    # Nobody to DM and no daily quota: the person at the terminal is the admin, with their own account.
    settings = replace(settings, admins=frozenset(), user_daily_images=0, team_daily_images=0)
    try:  # before the photos are checked: `/upscale help` needs none
        request = parse_request(command.name, text, settings)
    except KnownError as error:
        print(plain(messages.error_message(error, settings)), file=err)
        return 0 if isinstance(error, HelpRequested) else 1
    problem = _misuse(command, images)
    if problem:
        print(problem, file=err)
        return 2
    aws_hint = aws_credentials_hint(settings)
    if aws_hint:
        print(aws_hint, file=err)
        return 2
    photos = LocalPhotos(images)
    slack = TerminalSlack(out_dir, photos, out, err)
    queued: list[Job] = []
    ctx = worker_context(settings, SqliteState(":memory:"), enqueue=queued.append,
                         model_calls=settings.worker_concurrency, slack=slack)
    job = Job(id=uuid.uuid4().hex[:12], command=command.name, request=asdict(request), team_id=TEAM,
              channel_id=CHANNEL, user_id=USER, image_source="files", file_ids=tuple(photos.paths))
    outcomes = [run_job(job, ctx)]
    while queued:  # a batch queued one job per photo: run them as the worker pool would
        batch, queued[:] = list(queued), []
        with ThreadPoolExecutor(max_workers=settings.worker_concurrency) as pool:
            outcomes += pool.map(lambda child: run_job(child, ctx), batch)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / REPORT_NAME
    report.write_text(words.report(command_text.strip(), [str(path) for path in images], slack.lines,
                                   [path.name for path in slack.files]), encoding="utf-8")
    print(report, file=out or sys.stdout)
    return 0 if all(outcome is Outcome.SUCCEEDED for outcome in outcomes) and not slack.failed_photos else 1


def _misuse(command: Command, images: Sequence[Path]) -> str | None:
    """Why the ``--image`` files do not fit the command, before anything is sent."""
    if command.uses_photo and not images:
        return words.needs_image(command.name)
    if not command.uses_photo and images:
        return words.takes_no_image(command.name)
    for path in images:
        try:
            path.open("rb").close()
        except OSError as error:
            return words.unreadable_image(str(path), error.strerror or type(error).__name__)
    if len(images) > 1 and any(is_zip({"name": path.name}) for path in images):
        return words.zip_alone(command.name)
    most = PHOTOS_USED.get(command.name, 1)
    if most is not None and len(images) > most:
        return words.too_many_images(command.name, len(images), takes_zip=command.name in ZIP_BATCHES)
    return None
