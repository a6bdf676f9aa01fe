"""What admins are told about a model that cannot be used, with the setting to change."""

from __future__ import annotations

from bot.settings import Settings
from handlers.errors import ModelUnavailable
from handlers.model_table import DEFAULT_STACK, ROLES, STACKS

UNAVAILABLE_REASONS = {
    "end_of_life": "has reached the end of its life on Bedrock",
    "legacy_unused": "is Legacy, and Bedrock no longer serves it to accounts that have not used it lately",
    "invalid_id": "is not a model id Bedrock knows in {region}",
    "account_blocked": "is refused with “Operation not allowed”: Bedrock blocks this AWS account "
                       "(an account-level restriction, or a Legacy model without extended access)",
    "not_found": "is not available in {region}",
}


def settings_for_model(model_id: str, settings: Settings) -> list[tuple[str, str]]:
    """(setting, recommended model) for each role ``model_id`` fills, recommending the default stack."""
    found: dict[str, str] = {}
    for role, info in ROLES.items():
        if settings.model(role) == model_id:
            found.setdefault(info.setting, STACKS[DEFAULT_STACK][role] or "")
    return list(found.items())


def model_unavailable(error: ModelUnavailable, settings: Settings | None) -> str:
    """Told to the person whose job needed a model that cannot be used; names the admins."""
    reason = UNAVAILABLE_REASONS[error.reason].format(region=error.region)
    line = f":no_entry: The model `{error.model_id}` that Studio is set up to use {reason}, so this cannot run."
    if settings is None:
        return line + " A Studio admin must change the model setting (`python -m bot doctor` shows which)."
    changes = settings_for_model(error.model_id, settings)
    fix = "; ".join(f"set {setting} to `{model}`" for setting, model in changes) or "change the model settings"
    admins = " ".join(f"<@{admin}>" for admin in sorted(settings.admins)[:5])
    who = f"Studio's admins ({admins}) have been told" if admins else "Please tell your Studio admin"
    return f"{line} {who}: {fix}."


def admin_model_unavailable(error: ModelUnavailable, settings: Settings) -> str:
    """The daily DM to each admin about a model that cannot be used."""
    reason = UNAVAILABLE_REASONS[error.reason].format(region=error.region)
    changes = settings_for_model(error.model_id, settings)
    fix = "; ".join(f"set `{setting}={model}`" for setting, model in changes) or "change the model settings"
    return (f":warning: Studio: `{error.model_id}` {reason}, so the commands that use it fail. To fix: {fix} "
            f"(or remove the setting to use the default Stability AI stack), then restart Studio. "
            "`python -m bot doctor` checks every model.")
