"""``python -m bot doctor``: is Studio set up right, and will its models last?

Checks the Slack token and its scopes, and for every role (generate, replace a
background, upscale...) its model, Bedrock's region, the model's lifecycle
(Active, Legacy with an end-of-life date, end of life) and this account's
access. The bot runs the model part at start and tells admins about problems.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from bot.slack.manifest import load_manifest
from handlers.model_table import DEFAULT_STACK, ROLES, STACKS
from handlers.models import base_model_id

log = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
# Longest piece of an AWS error message shown; HTML bodies are never shown.
_MAX_DETAIL = 160


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    fix: str = ""


def slack_checks(client: WebClient) -> list[Check]:
    """The bot token works, and has every scope the manifest asks for."""
    try:
        response = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        return [Check("Slack token", FAIL, f"auth.test failed: {code}",
                      "Copy the Bot User OAuth Token (xoxb-…) again into SLACK_BOT_TOKEN.")]
    except OSError as error:
        return [Check("Slack token", FAIL, f"cannot reach Slack: {type(error).__name__}",
                      "Check SLACK_API_URL and the network.")]
    checks = [Check("Slack token", OK, f"workspace {response.get('team', '?')} as @{response.get('user', '?')}")]
    granted = {scope.strip() for scope in (response.headers.get("x-oauth-scopes") or "").split(",") if scope.strip()}
    wanted = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    missing = sorted(wanted - granted)
    if missing:
        checks.append(Check("Slack scopes", FAIL, "missing: " + ", ".join(missing),
                            "Update the app from slack/manifest.json, then reinstall it to the workspace."))
    else:
        checks.append(Check("Slack scopes", OK, f"all {len(wanted)} present"))
    return checks


@dataclass(frozen=True)
class ModelState:
    """What the control plane says about one model: a status, the detail, and whether it is gone or Legacy."""

    status: str
    detail: str
    unusable: bool = False
    legacy: bool = False


def model_checks(settings: Settings, control: Any, now: dt.datetime | None = None) -> list[Check]:
    """One line per role: its model, Bedrock's region, lifecycle and access, and what to change."""
    now = now or dt.datetime.now(dt.UTC)
    region = settings.bedrock_region
    states: dict[str, ModelState] = {}
    checks = []
    for role, info in ROLES.items():
        model_id = settings.model(role)
        name = f"{role.value} ({info.description})"
        successor = STACKS[DEFAULT_STACK][role]
        if model_id is None:
            checks.append(Check(name, WARN, f"the {settings.model_stack} stack has no model for this",
                                f"Set {info.setting}={successor} to enable it."))
            continue
        if model_id not in states:
            states[model_id] = _model_state(model_id, control, now)
        state = states[model_id]
        fix = ""
        if (state.unusable or state.legacy) and successor and successor != model_id:
            fix = f"Set {info.setting}={successor}" + (" now." if state.unusable else " before then.")
        elif state.status == FAIL and "access" in state.detail:
            fix = ("Bedrock grants access on the first call (AWS Marketplace); the role needs "
                   "aws-marketplace:ViewSubscriptions and aws-marketplace:Subscribe.")
        checks.append(Check(name, state.status, f"{model_id} in {region}: {state.detail}", fix))
    stale = [model for model, state in states.items() if state.unusable or state.legacy]
    if stale and settings.model_stack != DEFAULT_STACK:
        checks.append(Check("model stack", WARN, f"{settings.model_stack}: {', '.join(stale)} retired or Legacy",
                            f"Switch the whole stack: STUDIO_MODELS={DEFAULT_STACK} (every model Active)."))
    return checks


def _model_state(model_id: str, control: Any, now: dt.datetime) -> ModelState:
    base = base_model_id(model_id)
    try:
        details = control.get_foundation_model(modelIdentifier=base)["modelDetails"]
        availability = control.get_foundation_model_availability(modelId=base)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "ValidationException"):
            return ModelState(FAIL, "end of life or not offered here", unusable=True)
        if code == "AccessDeniedException":
            return ModelState(FAIL, "IAM denies bedrock:GetFoundationModel (allow it and "
                                    "GetFoundationModelAvailability for Studio's role)")
        return ModelState(FAIL, f"{code or 'error'}: {summarise(error.response.get('Error', {}).get('Message', ''))}")
    except BotoCoreError as error:
        return ModelState(FAIL, f"cannot reach Bedrock: {type(error).__name__} (check credentials and network)")
    label = details.get("modelName", base)
    lifecycle = details.get("modelLifecycle", {})
    end = lifecycle.get("endOfLifeTime")
    if lifecycle.get("status") == "LEGACY" and isinstance(end, dt.datetime) and end <= now:
        return ModelState(FAIL, f"{label}: end of life since {end:%Y-%m-%d}", unusable=True)
    authorized = (availability.get("authorizationStatus") == "AUTHORIZED"
                  and availability.get("entitlementAvailability") == "AVAILABLE")
    access = "access granted" if authorized else "no access yet (granted on first use, which may take minutes)"
    if lifecycle.get("status") == "LEGACY":
        when = f", end of life {end:%Y-%m-%d} ({(end - now).days} days)" if isinstance(end, dt.datetime) else ""
        return ModelState(WARN, f"{label}: Legacy{when}; {access}", legacy=True)
    return ModelState(OK if authorized else WARN, f"{label}: Active; {access}")


def summarise(message: str) -> str:
    """An AWS error message fit for a table or a DM: never an HTML page, never long."""
    text = message.strip()
    if "<" in text and re.search(r"<(!doctype|html|head|body)", text, re.IGNORECASE):
        return "the service answered with an HTML page (a proxy or endpoint problem)"
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL - 1] + "…"


def render(checks: list[Check]) -> str:
    """The checks as an aligned text table."""
    marks = {OK: "OK  ", WARN: "WARN", FAIL: "FAIL"}
    rows = [("", "check", "detail", "what to do")] + [(marks[c.status], c.name, c.detail, c.fix) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip() for row in rows
    )


def warn_admins(checks: list[Check], slack: WebClient, admins: frozenset[str], claim: Any) -> None:
    """Log every Legacy/failed model, and DM each admin about it once a day."""
    problems = [check for check in checks if check.status != OK]
    for check in problems:
        log.warning("model check: %s: %s. %s", check.name, check.detail, check.fix)
    today = dt.date.today().isoformat()
    for check in problems:
        if not claim(f"model-warning:{check.name}:{today}", 86400):
            continue
        for admin in sorted(admins):
            try:
                slack.chat_postMessage(channel=admin,
                                       text=f":warning: Studio: {check.name} is {check.detail}. {check.fix}")
            except SlackApiError as error:
                log.warning("could not warn admin %s: %s", admin, error.response.get("error"))
