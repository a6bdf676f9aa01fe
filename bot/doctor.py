"""``python -m bot doctor``: is Studio set up right, and will its models last?

Checks the Slack token and its scopes, and for each configured model whether
it is offered in the region, whether this account may use it, and where it is
in its lifecycle (Active, Legacy with an end-of-life date, gone). The bot runs
the model part at start and tells admins about Legacy models.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.manifest import load_manifest
from bot.settings import Settings
from handlers.models import base_model_id

log = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
ROLE_SETTINGS = {
    "image": "STUDIO_IMAGE_MODEL", "edit": "STUDIO_EDIT_MODEL",
    "remove_bg": "STUDIO_REMOVE_BG_MODEL", "vision": "STUDIO_VISION_MODEL",
}
# What to move to when a role's model turns Legacy.
SUCCESSORS = {
    "image": "amazon.nova-canvas-v1:0", "edit": "amazon.nova-canvas-v1:0",
    "remove_bg": "amazon.nova-canvas-v1:0", "vision": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
}


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


def model_checks(settings: Settings, control: Any, now: dt.datetime | None = None) -> list[Check]:
    """For each role's model: offered here, access granted, lifecycle state."""
    now = now or dt.datetime.now(dt.UTC)
    checks = []
    seen: set[str] = set()
    for role, model_id in settings.model_ids().items():
        name = f"{role} model {model_id}"
        if model_id in seen:
            continue
        seen.add(model_id)
        checks.append(_model_check(name, role, model_id, control, settings.aws_region, now))
    return checks


def _model_check(name: str, role: str, model_id: str, control: Any, region: str, now: dt.datetime) -> Check:
    setting = ROLE_SETTINGS[role]
    base = base_model_id(model_id)
    try:
        details = control.get_foundation_model(modelIdentifier=base)["modelDetails"]
        availability = control.get_foundation_model_availability(modelId=base)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            return Check(name, FAIL, f"not offered in {region} (retired, or never here)",
                         f"Set {setting} to {SUCCESSORS[role]}, or choose another region.")
        if code == "AccessDeniedException":
            return Check(name, FAIL, "IAM denies bedrock:GetFoundationModel",
                         "Allow bedrock:GetFoundationModel(Availability) for Studio's role (the SAM template does).")
        return Check(name, FAIL, f"{code}: {error.response['Error'].get('Message', '')}", "")
    except BotoCoreError as error:
        return Check(name, FAIL, f"cannot reach Bedrock in {region}: {type(error).__name__}",
                     "Check AWS_REGION, credentials and the network.")
    if (availability.get("authorizationStatus") != "AUTHORIZED"
            or availability.get("entitlementAvailability") != "AVAILABLE"):
        return Check(name, FAIL, f"model access is not enabled in {region}",
                     f"Bedrock console → Model access → enable {details.get('modelName', base)}.")
    lifecycle = details.get("modelLifecycle", {})
    if lifecycle.get("status") == "LEGACY":
        end = lifecycle.get("endOfLifeTime")
        when = f"; end of life {end:%Y-%m-%d} ({(end - now).days} days)" if isinstance(end, dt.datetime) else ""
        return Check(name, WARN, f"Legacy{when}", f"Set {setting} to {SUCCESSORS[role]} before then.")
    return Check(name, OK, f"Active, access granted ({details.get('modelName', base)})")


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
