"""The Bolt app: listeners validate, acknowledge and hand a job to ``submit``.

Listeners never call Bedrock. With ``process_before_response`` the ack is the
HTTP response, so everything here must finish well inside Slack's 3 seconds.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import messages
from bot.access import AccessControl, AccessPolicy
from bot.commands.intake import (
    MentionHelp,
    delivery_id,
    job_for_message_photos,
    job_for_result_image,
    job_from_action,
    job_from_mention,
    job_from_slash_command,
    parse_request,
    request_from_fields,
)
from bot.commands.table import COMMANDS
from bot.context import Store, quota_from
from bot.errors import NoImageFound, OutOfDate, QueueUnavailable, StudioError, UsageError
from bot.flows.results import load_result
from bot.jobs import Job
from bot.quota import Quota, resets_at
from bot.settings import Settings
from bot.slack.blocks import (
    ACTION_PREFIX,
    describe_modal,
    extend_modal,
    form_metadata,
    home_view,
    modal_values,
    parse_action_value,
    replace_background_modal,
)
from bot.slack.photo_refs import message_photos
from handlers.errors import ModelError

log = logging.getLogger(__name__)

Submit = Callable[[Job], None]


# Message shortcuts that ask for the missing fields in a modal.
MODAL_SHORTCUTS = ("replace_background", "describe_image")


# A job id is remembered this long, which covers Slack's retries (up to ~5 minutes).
JOB_CLAIM_SECONDS = 3600
CLICK_DEBOUNCE_SECONDS = 10


def build_app(settings: Settings, client: WebClient, submit: Submit, state: Store,
              socket_mode: bool = False) -> App:
    """A Bolt app wired to ``submit`` jobs; ``socket_mode`` skips HTTP signature checks."""
    bolt_logger = logging.getLogger("slack_bolt")
    # Added before the App exists: Bolt copies the base logger's filters to each of its component loggers.
    bolt_logger.addFilter(_bolt_log_filter)
    app = _bolt_app(
        # Naming the app spares Bolt an inspect.stack() call (~100 ms of cold start).
        name="studio",
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        # Requests over the Socket Mode websocket are authenticated by the app token.
        request_verification_enabled=not socket_mode,
        logger=bolt_logger,
    )
    access = AccessControl(AccessPolicy(settings.allowed_channels, settings.allowed_users, settings.admins), client)
    listeners = Listeners(settings, submit, state, access, quota_from(settings, state))
    for name, command in COMMANDS.items():
        if command.slash:
            app.command(f"/{name}")(listeners.slash_command)
    app.event("app_mention")(listeners.mention)
    for callback_id in MODAL_SHORTCUTS:
        app.shortcut(callback_id)(listeners.photo_shortcut)
    app.view("replace_background_modal")(listeners.replace_background_submitted)
    app.view("describe_modal")(listeners.describe_submitted)
    app.event("app_home_opened")(listeners.home_opened)
    app.shortcut("remove_background")(listeners.remove_background_shortcut)
    app.action(re.compile(f"^{ACTION_PREFIX}"))(listeners.result_action)
    app.view("extend_modal")(listeners.extend_submitted)
    _acknowledge_the_rest(app)
    app.error(_listener_failed)
    return app


def _bolt_app(**options: Any) -> App:
    """The Bolt app, with the bot's identity (``auth.test``) resolved now, at start.

    Otherwise Bolt asks Slack inside the first request's ack (on Lambda: in every
    cold container). If Slack cannot be reached now, the first request asks instead.
    """
    try:
        return App(token_verification_enabled=True, **options)
    except (BoltError, SlackClientError, OSError) as error:
        log.warning("could not resolve the bot's Slack identity at start (%s); the first request will",
                    type(error).__name__)
        return App(token_verification_enabled=False, **options)


# A listener that trips over a missing or mistyped field was sent a malformed payload.
_MALFORMED = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def _listener_failed(error: Exception) -> BoltResponse:
    """Any error a listener or middleware raised: logged without the request, answered without a traceback.

    A malformed payload (the sender's fault) is answered 400; anything else 500.
    """
    log.error("could not handle a request from Slack: %s", type(error).__name__, exc_info=error)
    return BoltResponse(status=400 if isinstance(error, _MALFORMED) else 500, body="")


def _acknowledge_the_rest(app: App) -> None:
    """Answer 200 to whatever the listeners above do not handle (registered last, so matched last).

    Bolt would answer 404, and Slack counts that as a failed delivery: events it
    sends every app (``tokens_revoked``, ``app_uninstalled``) or an admin-added
    subscription could get the app's events turned off.
    """
    anything = re.compile(".*")
    for register in (app.event, app.action, app.shortcut, app.view_submission, app.view_closed, app.options):
        register(anything)(_ignore)
    app.use(_acknowledge_notices)


def _acknowledge_notices(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
    """Answer Events API notices outside the event envelope (``app_rate_limited``), which no listener matches."""
    if body.get("type") == "app_rate_limited":
        log.warning("Slack is holding back Studio's events (app_rate_limited)")
        return BoltResponse(status=200, body="")
    next()
    return None


def _ignore(ack: Ack, body: dict[str, Any]) -> None:
    ack()
    event = body.get("event")
    kind = event.get("type") if isinstance(event, dict) else body.get("type")
    log.info("ignored a request Studio does not handle: %.60s", kind)


def _bolt_log_filter(record: logging.LogRecord) -> bool:
    """Keep request bodies (the person's text, ``response_url``, the verification token) out of Bolt's log."""
    message = str(record.msg)
    if message.startswith("Invalid request signature detected"):
        # bot.slack.http_guard refuses these first; should one reach Bolt, log the same one line, not the body.
        record.msg, record.args = "refused a request from Slack (HTTP 401): the signature does not match", ()
        return True
    # Bolt's Lambda adapter logs every whole event at DEBUG. And Bolt warns that SLACK_BOT_TOKEN "will be
    # unused" whenever a client is passed; Studio's client is built from that very token, so it is noise.
    return not message.startswith("Incoming event:") and "will be unused" not in message


class Listeners:
    """Bolt listener functions sharing the settings and the job queue."""

    def __init__(self, settings: Settings, submit: Submit, state: Store, access: AccessControl,
                 quota: Quota) -> None:
        self.settings = settings
        self.submit = submit
        self.state = state
        self.access = access
        self.quota = quota

    def slash_command(self, ack: Ack, body: dict[str, Any]) -> None:
        """Any Studio slash command: parse, queue, and answer privately."""
        if body.get("command") == "/imagine" and body.get("text", "").strip().lower() == "usage":
            ack(text=self._usage_text(body.get("team_id", ""), body["user_id"]))
            return
        try:
            job = job_from_slash_command(body, self.settings)
            self._enqueue(job)
        except (StudioError, ModelError) as error:
            ack(text=messages.error_message(error))
            return
        ack(text=messages.working(job.command, int(job.request.get("count", 1))))

    def mention(self, ack: Ack, body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        """``@Studio <command> …`` in a channel or thread."""
        ack()
        try:
            self._enqueue(job_from_mention(event, body.get("team_id", ""), self.settings, delivery_id(body)))
        except MentionHelp:
            self._whisper(client, event, messages.mention_help())
        except (StudioError, ModelError) as error:
            self._whisper(client, event, messages.error_message(error))

    def photo_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """A message shortcut on a photo: open the modal that asks for the missing fields."""
        ack()
        message = body.get("message", {})
        if not message_photos(message):
            self._respond(client, body, messages.error_message(NoImageFound("none_on_message")))
            return
        metadata = json.dumps({
            "channel_id": body["channel"]["id"],
            # Only ids and types: private_metadata holds at most 3,000 characters, and
            # the worker looks the files up again anyway.
            "message": {"ts": message["ts"], "thread_ts": message.get("thread_ts"), "files": [
                {"id": photo.file_id, "mimetype": photo.mimetype} for photo in message_photos(message)
            ]},
            "response_url": body.get("response_url"),
        })
        view = (
            replace_background_modal(metadata)
            if body["callback_id"] == "replace_background"
            else describe_modal(metadata, messages.DESCRIBE_CHOICES)
        )
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            self._respond(client, body, messages.modal_failed())

    def replace_background_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The "Replace background" modal was submitted."""
        self._submit_modal(ack, body, view, "replace-bg", error_block="background")

    def describe_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The "Describe image" modal was submitted."""
        self._submit_modal(ack, body, view, "describe", error_block="question")

    def _submit_modal(self, ack: Ack, body: dict[str, Any], view: dict[str, Any], command: str,
                      error_block: str) -> None:
        try:
            metadata = form_metadata(view, channel_id=str, message=dict)
            if not isinstance(metadata["message"].get("ts"), str):
                raise OutOfDate("form")
            request = request_from_fields(command, modal_values(view), self.settings)
            job = job_for_message_photos(
                command, request, job_id=delivery_id(body),
                team_id=body.get("team", {}).get("id", ""),
                channel_id=metadata["channel_id"],
                user_id=body["user"]["id"],
                message=metadata["message"],
                response_url=metadata.get("response_url"),
            )
            self._enqueue(job)
        except UsageError as error:
            # Keep the modal open with the problem shown under the field.
            ack(response_action="errors", errors={error_block: messages.usage_problem(error)})
            return
        except (StudioError, ModelError) as error:
            ack(response_action="errors", errors={error_block: messages.error_message(error)})
            return
        ack()

    def remove_background_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The "Remove background" shortcut needs no questions: cut out the message's (first) photo."""
        ack()
        try:
            self._enqueue(job_for_message_photos(
                "remove-bg", parse_request("remove-bg", "", self.settings), job_id=delivery_id(body),
                team_id=body.get("team", {}).get("id", ""),
                channel_id=body["channel"]["id"], user_id=body["user"]["id"], message=body.get("message", {}),
                response_url=body.get("response_url"),
            ))
        except (StudioError, ModelError) as error:
            self._respond(client, body, messages.error_message(error))

    def result_action(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """A button (or per-image menu) under a result."""
        ack()
        value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
        try:
            name, ref, index = parse_action_value(str(value))
        except ValueError:
            self._respond(client, body, messages.error_message(OutOfDate("button")))
            return
        user_id = body["user"]["id"]
        # A double click (or Slack's redelivery) within a few seconds starts one job, not two.
        if not self.state.claim(f"click:{ref}:{name}:{index}:{user_id}", CLICK_DEBOUNCE_SECONDS):
            return
        try:
            result = load_result(self.state, ref)
            if result is None:
                raise NoImageFound("result_expired")
            if name == "extend":
                metadata = json.dumps({"ref": ref, "index": index})
                client.views_open(trigger_id=body["trigger_id"], view=extend_modal(metadata))
                return
            self._enqueue(job_from_action(name, result, index, user_id, self.settings, delivery_id(body)))
        except (StudioError, ModelError) as error:
            self._respond(client, body, messages.error_message(error))
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error"))
            self._respond(client, body, messages.modal_failed())

    def extend_submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The Extend modal was submitted: outpaint that result image to the chosen format."""
        try:
            metadata = form_metadata(view, ref=str, index=int)
            result = load_result(self.state, metadata["ref"])
            if result is None:
                raise NoImageFound("result_expired")
            request = request_from_fields("extend", modal_values(view), self.settings)
            self._enqueue(job_for_result_image("extend", request, result, metadata["index"], body["user"]["id"],
                                               delivery_id(body)))
        except UsageError as error:
            ack(response_action="errors", errors={"prompt": messages.usage_problem(error)})
            return
        except (StudioError, ModelError) as error:
            ack(response_action="errors", errors={"prompt": messages.error_message(error)})
            return
        ack()

    def home_opened(self, ack: Ack, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        """The App Home tab: today's usage and how to use Studio."""
        ack()
        if event.get("tab") != "home":
            return
        usage = self._usage_text(body.get("team_id", ""), event["user"])
        try:
            client.views_publish(user_id=event["user"], view=home_view(usage, messages.home_help()))
        except SlackApiError as error:
            log.warning("views.publish failed: %s", error.response.get("error"))

    def _usage_text(self, team_id: str, user_id: str) -> str:
        usage = self.quota.usage(team_id, user_id)
        return messages.usage_today(usage.user, usage.team, self.quota.per_user, self.quota.per_team,
                                    self.access.is_admin(user_id), resets_at())

    def _enqueue(self, job: Job) -> None:
        self.access.check(job.user_id, job.channel_id)
        key = f"job:{job.id}"
        try:
            if not self.state.claim(key, JOB_CLAIM_SECONDS):
                log.info("duplicate delivery ignored", extra={"job_id": job.id})
                return
            self.submit(job)
        except Exception as error:
            log.exception("could not queue job", extra={"job_id": job.id})
            self._release_quietly(key)  # so that Slack's retry of this event may succeed
            raise QueueUnavailable() from error

    def _release_quietly(self, key: str) -> None:
        try:
            self.state.release(key)
        except Exception:  # noqa: BLE001 - best effort; the claim expires anyway
            log.warning("could not release claim %s", key)

    @staticmethod
    def _whisper(client: WebClient, event: dict[str, Any], text: str) -> None:
        try:
            client.chat_postEphemeral(channel=event["channel"], user=event.get("user", ""), text=text,
                                      thread_ts=event.get("thread_ts") or event.get("ts"))
        except SlackApiError as error:
            log.warning("could not answer mention privately: %s", error.response.get("error"))

    @staticmethod
    def _respond(client: WebClient, body: dict[str, Any], text: str) -> None:
        channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id", "")
        try:
            client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
        except SlackApiError as error:
            log.warning("could not answer shortcut privately: %s", error.response.get("error"))
