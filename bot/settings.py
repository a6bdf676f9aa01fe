"""Settings: read once from the environment, then passed around."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property

from bot.catalogue.source import READABLE_BUCKETS_SETTING, readable_buckets
from bot.errors import NoModelForRole
from handlers.formats import DEFAULT_FORMATS, FormatTarget, parse_format_setting
from handlers.model_table import DEFAULT_STACK, ROLES, Role, resolve_models
from handlers.models import ImageModelSpec, image_model_spec

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Stability's generators are offered on demand in us-west-2 (and its Image Services
# through ``us.`` profiles from there); Bedrock's region is separate from the Lambda's.
DEFAULT_BEDROCK_REGION = "us-west-2"

# Where an admin finds each credential (shown when one is missing).
WHERE_TO_FIND = {
    "SLACK_BOT_TOKEN": "api.slack.com/apps → your app → OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "SLACK_SIGNING_SECRET": "api.slack.com/apps → your app → Basic Information → App Credentials → Signing Secret",
    "SLACK_APP_TOKEN": (
        "api.slack.com/apps → your app → Basic Information → App-Level Tokens → "
        "generate one with connections:write (xapp-…)"
    ),
}
# Either one lets Slack reach Studio: Socket Mode (no public URL) or signed HTTP.
SOCKET_OR_HTTP = "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET"


class MissingSettings(Exception):
    """Required settings are absent; the message names each and where to get it."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        lines = []
        for name in names:
            if name == SOCKET_OR_HTTP:
                lines.append("  SLACK_APP_TOKEN (Socket Mode, recommended): " + WHERE_TO_FIND["SLACK_APP_TOKEN"])
                lines.append("    or SLACK_SIGNING_SECRET (HTTP mode): " + WHERE_TO_FIND["SLACK_SIGNING_SECRET"])
            else:
                lines.append(f"  {name}: {WHERE_TO_FIND[name]}")
        super().__init__(
            "Studio cannot start; these settings are missing (put them in .env or the environment):\n"
            + "\n".join(lines)
        )


# repr=False: the class writes its own (no secrets); dataclass would compile one for its 50 fields and drop it.
@dataclass(frozen=True, repr=False)
class Settings:
    """Everything configurable about Studio."""

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    aws_region: str = "us-east-1"
    bedrock_region: str = DEFAULT_BEDROCK_REGION
    bedrock_endpoint_url: str | None = None
    # The Bedrock control plane (model lifecycle, access), for the doctor and the start-up check.
    bedrock_control_endpoint_url: str | None = None
    # "stability" (default) or "amazon": the model for every role (handlers.model_table).
    model_stack: str = DEFAULT_STACK
    # Per-role overrides; "" means the stack's model. Field = setting name, lower case, + "_id".
    image_model_id: str = ""
    premium_model_id: str = ""
    variations_model_id: str = ""
    edit_model_id: str = ""
    edit_mask_model_id: str = ""
    replace_bg_model_id: str = ""
    extend_model_id: str = ""
    remove_bg_model_id: str = ""
    upscale_model_id: str = ""
    upscale_conservative_model_id: str = ""
    upscale_creative_model_id: str = ""
    style_model_id: str = ""
    vision_model_id: str = ""
    worker_concurrency: int = 4
    state_path: str = ".studio/state.db"
    # AWS runtime: where jobs and state live, and the SSM names of the secrets.
    queue_url: str = ""
    table_name: str = ""
    slack_bot_token_param: str = ""
    slack_signing_secret_param: str = ""
    # Access control (empty = everyone/everywhere) and daily image quotas (0 = unlimited).
    allowed_channels: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    user_daily_images: int = 50
    team_daily_images: int = 1000
    job_retries: int = 4
    retry_base_seconds: float = 2.0
    # Local runtime: how long a stop (SIGTERM, Ctrl-C) waits for running jobs.
    shutdown_grace_seconds: float = 25.0
    # What /formats makes (``STUDIO_FORMATS``, name=WxH list).
    formats: tuple[FormatTarget, ...] = DEFAULT_FORMATS
    # Catalogue batches (a ZIP of photos): photos and bytes one ZIP may hold (Slack files go up
    # to 1 GB), the largest results ZIP posted to Slack, and how often the progress line changes.
    catalogue_max_photos: int = 2_000
    catalogue_max_bytes: int = 1024**3
    catalogue_upload_bytes: int = 1024**3
    catalogue_progress_seconds: float = 5.0
    # AWS: where batches are staged, the state machine that runs them, and how long results stay.
    catalogue_bucket: str = ""
    catalogue_state_machine: str = ""
    catalogue_retention_days: int = 7
    # The ingress Function URL, where results links too big for Slack point (set by the stack).
    results_link_url: str = ""
    # The buckets an ``s3://bucket/prefix/`` batch may name (the stack's CatalogueReadableBuckets).
    catalogue_readable_buckets: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # Keep tokens out of logs and tracebacks that print the settings.
        return (f"Settings(slack_api_url={self.slack_api_url!r}, bedrock_region={self.bedrock_region!r}, "
                f"models={self.model_stack!r})")

    @cached_property
    def models(self) -> dict[Role, str | None]:
        """The model id for every role (None: the stack has no model for it)."""
        overrides = {info.setting: getattr(self, _field_for(info.setting)) for info in ROLES.values()}
        return resolve_models(self.model_stack, overrides)

    def model(self, role: Role) -> str | None:
        """The model id for ``role``, or None where the stack has none."""
        return self.models[role]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables (``os.environ`` by default)."""
        env = os.environ if env is None else env
        # An empty model setting means "the stack's model", for every role alike.
        model_settings = {_field_for(info.setting): env.get(info.setting, "").strip() for info in ROLES.values()}
        return cls(
            slack_bot_token=env.get("SLACK_BOT_TOKEN", ""),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            slack_app_token=env.get("SLACK_APP_TOKEN", ""),
            slack_api_url=env.get("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            port=_whole(env, "PORT", "3000"),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            bedrock_region=env.get("STUDIO_BEDROCK_REGION") or DEFAULT_BEDROCK_REGION,
            bedrock_endpoint_url=env.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or None,
            bedrock_control_endpoint_url=env.get("AWS_ENDPOINT_URL_BEDROCK") or None,
            model_stack=(env.get("STUDIO_MODELS") or DEFAULT_STACK).strip().lower(),
            **model_settings,
            worker_concurrency=_whole(env, "STUDIO_WORKERS", "4"),
            state_path=env.get("STUDIO_STATE_PATH", ".studio/state.db"),
            queue_url=env.get("STUDIO_QUEUE_URL", ""),
            table_name=env.get("STUDIO_TABLE_NAME", ""),
            slack_bot_token_param=env.get("SLACK_BOT_TOKEN_PARAM", ""),
            slack_signing_secret_param=env.get("SLACK_SIGNING_SECRET_PARAM", ""),
            allowed_channels=_id_set(env.get("STUDIO_ALLOWED_CHANNELS", "")),
            allowed_users=_id_set(env.get("STUDIO_ALLOWED_USERS", "")),
            admins=_id_set(env.get("STUDIO_ADMINS", "")),
            user_daily_images=_whole(env, "STUDIO_USER_DAILY_IMAGES", "50"),
            team_daily_images=_whole(env, "STUDIO_TEAM_DAILY_IMAGES", "1000"),
            job_retries=_whole(env, "STUDIO_JOB_RETRIES", "4"),
            retry_base_seconds=_number(env, "STUDIO_RETRY_BASE_SECONDS", "2"),
            shutdown_grace_seconds=_number(env, "STUDIO_SHUTDOWN_GRACE_SECONDS", "25"),
            formats=parse_format_setting(env.get("STUDIO_FORMATS", "")),
            catalogue_max_photos=_whole(env, "STUDIO_CATALOGUE_MAX_PHOTOS", "2000"),
            catalogue_max_bytes=_whole(env, "STUDIO_CATALOGUE_MAX_BYTES", str(1024**3)),
            catalogue_upload_bytes=_whole(env, "STUDIO_CATALOGUE_UPLOAD_BYTES", str(1024**3)),
            catalogue_progress_seconds=_number(env, "STUDIO_CATALOGUE_PROGRESS_SECONDS", "5"),
            catalogue_bucket=env.get("STUDIO_CATALOGUE_BUCKET", ""),
            catalogue_state_machine=env.get("STUDIO_CATALOGUE_STATE_MACHINE", ""),
            catalogue_retention_days=_whole(env, "STUDIO_CATALOGUE_RETENTION_DAYS", "7"),
            results_link_url=env.get("STUDIO_RESULTS_LINK_URL", ""),
            catalogue_readable_buckets=readable_buckets(env.get(READABLE_BUCKETS_SETTING, "")),
        )

    @property
    def catalogue_on_aws(self) -> bool:
        """Whether batches run on the stack's S3 bucket and state machine (else on this process's threads)."""
        return bool(self.catalogue_bucket and self.catalogue_state_machine)

    def require_slack(self) -> None:
        """Raise ``MissingSettings`` unless the Slack credentials for this runtime are set,
        ``BadSetting`` when a token is of the wrong kind.

        Socket Mode needs the app token instead of the signing secret (requests
        arrive over the socket, not as signed HTTP).
        """
        missing = [] if self.slack_bot_token else ["SLACK_BOT_TOKEN"]
        if not self.slack_app_token and not self.slack_signing_secret:
            missing.append(SOCKET_OR_HTTP)
        if missing:
            raise MissingSettings(missing)
        # Pasted into each other's setting, the two tokens start Studio and then fail every Slack call.
        # Said by their prefixes only: the values are secrets. Rotating bot tokens start ``xoxe.xoxb-``.
        wrong = []
        if not self.slack_bot_token.startswith(("xoxb-", "xoxe.xoxb-")):
            wrong.append(f"SLACK_BOT_TOKEN is not a bot token (xoxb-…): {WHERE_TO_FIND['SLACK_BOT_TOKEN']}")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            wrong.append(f"SLACK_APP_TOKEN is not an app-level token (xapp-…): {WHERE_TO_FIND['SLACK_APP_TOKEN']}")
        if wrong:
            raise BadSetting("; ".join(wrong))


class BadSetting(ValueError):
    """A setting's value does not parse; the message names the setting and the value."""


def _whole(env: Mapping[str, str], name: str, default: str) -> int:
    """The whole number in setting ``name`` (empty: ``default``)."""
    value = env.get(name) or default
    try:
        return int(value)
    except ValueError:
        raise BadSetting(f"{name} must be a whole number, not {value!r}") from None


def _number(env: Mapping[str, str], name: str, default: str) -> float:
    """The number in setting ``name`` (empty: ``default``)."""
    value = env.get(name) or default
    try:
        return float(value)
    except ValueError:
        raise BadSetting(f"{name} must be a number, not {value!r}") from None


def _field_for(setting: str) -> str:
    """``STUDIO_REMOVE_BG_MODEL`` -> ``remove_bg_model_id``."""
    return setting.removeprefix("STUDIO_").lower() + "_id"


_MODEL_FIELDS = {_field_for(info.setting) for info in ROLES.values()}
assert _MODEL_FIELDS <= {field.name for field in fields(Settings)}, "a role's setting has no Settings field"


def _id_set(value: str) -> frozenset[str]:
    """Slack ids from a comma- or space-separated list."""
    return frozenset(part for part in value.replace(",", " ").split() if part)


def model_for(settings: Settings, role: Role) -> str:
    """The model id for ``role``; ``NoModelForRole`` when the stack has none (Amazon has no upscaler)."""
    model = settings.model(role)
    if model is None:
        raise NoModelForRole(ROLES[role].setting, settings.model_stack)
    return model


def spec_for(settings: Settings, role: Role) -> ImageModelSpec:
    """The limits of the image model that fills ``role``."""
    return image_model_spec(model_for(settings, role))
