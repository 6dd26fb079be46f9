"""Settings: environment variables (prefix `NUMBERS_BOT_`) over an optional YAML file.

Read once at start-up and passed down; nothing else reads `os.environ`.
A bad setting stops start-up with one line naming it (`SettingsError`).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.domain.billing import Rate, ServicePlan
from bot.domain.phone import Kind

DEFAULT_CONFIG_FILE = "numbers-bot.yml"


class SettingsError(Exception):
    """One line naming the setting and what it accepts."""


class Money(BaseModel):
    monthly: Decimal = Field(ge=0)
    activation: Decimal = Field(default=Decimal("0"), ge=0)


class PlanSettings(BaseModel):
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    local: Money = Money(monthly=Decimal("1.00"), activation=Decimal("0.50"))
    tollfree: Money = Money(monthly=Decimal("2.00"), activation=Decimal("1.00"))
    e911: Money = Money(monthly=Decimal("2.00"), activation=Decimal("0"))

    def to_plan(self) -> ServicePlan:
        def rate(m: Money) -> Rate:
            return Rate(m.monthly, m.activation)

        return ServicePlan(
            currency=self.currency,
            numbers={Kind.LOCAL: rate(self.local), Kind.TOLLFREE: rate(self.tollfree)},
            e911=rate(self.e911),
        )


class ApprovalSettings(BaseModel):
    mode: Literal["always", "never", "over_amount"] = "always"
    threshold: Decimal = Field(default=Decimal("0"), ge=0)
    allow_self_approval: bool = False


class HoldSettings(BaseModel):
    quote_minutes: int = Field(default=15, ge=1, le=1440)
    approval_minutes: int = Field(default=240, ge=1, le=10080)


class WorkerSettings(BaseModel):
    """The background sweeps every replica runs (each due item is done by one of them)."""

    interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    # A purchase whose provisioning has been quiet this long is taken over by any replica
    # (its process died); longer than any single carrier order takes.
    resume_after_seconds: int = Field(default=300, ge=1, le=86_400)


class CarrierSettings(BaseModel):
    """The simulated carrier of the embedded backend."""

    seed: str = "numbers-bot"
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    activation_delay_seconds: int = Field(default=60, ge=0, le=86_400)
    inventory_per_prefix: int = Field(default=500, ge=1, le=10_000)


# Settings whose values are never printed: not in repr/str, not in a SettingsError.
SECRET_FIELDS = frozenset(
    {
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "kazoo_api_key",
        "slack_client_secret",
        "state_secret",
        "token_key",
    }
)
# The shortest NUMBERS_BOT_STATE_SECRET accepted: it signs the OAuth state.
MIN_STATE_SECRET = 16
MASK = "**********"
_KAZOO_ACCOUNT_ID = re.compile(r"^[0-9a-fA-F]{32}$")
KAZOO_API_KEY_LENGTH = 64


def kazoo_url_problem(url: str) -> str | None:
    """Why `url` is not a Crossbar base URL, or None when it is one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL with a host"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "must not carry a user, password, query or fragment"
    return None


TOKEN_KEY_ACCEPTS = (
    "a Fernet key (44 characters of url-safe base64, e.g. from"
    " `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`),"
    " or several separated by commas, the newest first"
)


def token_keys(value: str | None) -> list[str]:
    """The keys of NUMBERS_BOT_TOKEN_KEY, the newest (the one that encrypts) first."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def token_key_problem(value: str | None) -> str | None:
    """Why NUMBERS_BOT_TOKEN_KEY cannot encrypt tokens (never echoing it), or None."""
    from cryptography.fernet import Fernet  # only needed with workspace installs

    keys = token_keys(value)
    if not keys:
        return f"required with workspace installs (OAuth); {TOKEN_KEY_ACCEPTS}"
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return f"is not a valid key; {TOKEN_KEY_ACCEPTS}"
    return None


def _split_ids(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NUMBERS_BOT_", extra="forbid", populate_by_name=True
    )

    slack_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_api_url: str = "https://slack.com/api/"
    # Workspace installs (OAuth): all three on, or none.
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_client_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret"),
    )
    state_secret: str | None = None
    # Fernet key(s) for installed tokens at rest: comma-separated, the newest first.
    token_key: str | None = None
    database_url: str = "sqlite+aiosqlite:///numbers-bot.db"
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    config: Path | None = None
    admins: Annotated[list[str], NoDecode] = []
    approvers: Annotated[list[str], NoDecode] = []
    approvals_channel: str | None = None
    backend: Literal["embedded", "kazoo"] = "embedded"
    kazoo_url: str | None = Field(
        default=None, validation_alias=AliasChoices("KAZOO_URL", "kazoo_url")
    )
    kazoo_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("KAZOO_API_KEY", "kazoo_api_key")
    )
    kazoo_account_id: str | None = Field(
        default=None, validation_alias=AliasChoices("KAZOO_ACCOUNT_ID", "kazoo_account_id")
    )

    approvals: ApprovalSettings = ApprovalSettings()
    holds: HoldSettings = HoldSettings()
    aging_days: int = Field(default=30, ge=0, le=365)
    service_plan: PlanSettings = PlanSettings()
    carrier: CarrierSettings = CarrierSettings()
    worker: WorkerSettings = WorkerSettings()
    default_account_name: str = Field(default="Main", min_length=1, max_length=64)
    # How often the kazoo backend re-reads every number from Kazoo into the mirror.
    kazoo_sync_minutes: int = Field(default=15, ge=1, le=1440)
    # The longest a Kazoo call may take: an e911 save validates and provisions at the
    # provider twice (dry run, then the save), and activating several numbers acquires
    # them one by one from the upstream carrier, so 10 s is too short for either.
    kazoo_timeout_seconds: float = Field(default=60.0, ge=1.0, le=600.0)

    # Operations (bot/logs.py, bot/server.py): log lines as text or JSON, and how long a
    # replica told to stop (SIGTERM) waits for the work in hand before it exits.
    log_format: Literal["text", "json"] = "text"
    drain_seconds: float = Field(default=8.0, ge=0, le=60)

    @model_validator(mode="before")
    @classmethod
    def _kazoo_section(cls, data: Any) -> Any:
        """YAML may group the Kazoo settings: `kazoo: {sync_minutes: 15, timeout_seconds: 60}`."""
        if isinstance(data, dict) and isinstance(data.get("kazoo"), dict):
            data = dict(data)
            section = data.pop("kazoo")
            for key, value in section.items():
                data.setdefault(f"kazoo_{key}", value)
        return data

    @model_validator(mode="after")
    def _kazoo_connection(self) -> Settings:
        """With the kazoo backend, the three connection settings must be there and sane.

        The messages name the setting and what it accepts, never the value: the
        key is a secret and a URL may carry a password.
        """
        if self.backend != "kazoo":
            return self
        if not self.kazoo_url:
            raise ValueError(
                "KAZOO_URL: required with NUMBERS_BOT_BACKEND=kazoo; Crossbar's base URL,"
                " e.g. https://kazoo.example.com:8443"
            )
        problem = kazoo_url_problem(self.kazoo_url)
        if problem:
            raise ValueError(
                f"KAZOO_URL: {problem}; use Crossbar's base URL,"
                " e.g. https://kazoo.example.com:8443"
            )
        url = self.kazoo_url.rstrip("/")
        self.kazoo_url = url.removesuffix("/v2") if url.endswith("/v2") else url
        if not self.kazoo_api_key or not self.kazoo_api_key.strip():
            raise ValueError(
                "KAZOO_API_KEY: required with NUMBERS_BOT_BACKEND=kazoo; the API key of the"
                " account in KAZOO_ACCOUNT_ID"
            )
        if self.kazoo_api_key != self.kazoo_api_key.strip() or " " in self.kazoo_api_key:
            raise ValueError("KAZOO_API_KEY: must be the key alone, without spaces")
        if len(self.kazoo_api_key) != KAZOO_API_KEY_LENGTH:
            # Kazoo refuses any other length (its api_auth schema): say so before starting.
            raise ValueError(
                f"KAZOO_API_KEY: must be {KAZOO_API_KEY_LENGTH} characters, as Kazoo gives it"
                f" (this one has {len(self.kazoo_api_key)})"
            )
        if not self.kazoo_account_id or not _KAZOO_ACCOUNT_ID.match(self.kazoo_account_id):
            raise ValueError(
                "KAZOO_ACCOUNT_ID: must be a Kazoo account id, 32 hexadecimal characters"
            )
        self.kazoo_account_id = self.kazoo_account_id.lower()
        return self

    @model_validator(mode="after")
    def _installs(self) -> Settings:
        """Workspace installs need all three OAuth settings, a token key that Fernet
        accepts, the signing secret, and the HTTP server (the redirect comes to it)."""
        given = {
            "SLACK_CLIENT_ID": self.slack_client_id,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "NUMBERS_BOT_STATE_SECRET": self.state_secret,
        }
        if not any(given.values()):
            return self
        for name, value in given.items():
            if not value or not value.strip():
                others = " and ".join(n for n in given if n != name)
                raise ValueError(f"{name}: required with {others} for workspace installs (OAuth)")
        if len(self.state_secret or "") < MIN_STATE_SECRET:
            raise ValueError(
                f"NUMBERS_BOT_STATE_SECRET: must be at least {MIN_STATE_SECRET} characters;"
                " a long random string, e.g. from `openssl rand -hex 32`"
            )
        if token_key_problem(self.token_key):
            raise ValueError(f"NUMBERS_BOT_TOKEN_KEY: {token_key_problem(self.token_key)}")
        if not self.slack_signing_secret:
            raise ValueError("SLACK_SIGNING_SECRET: required with workspace installs (OAuth)")
        if self.slack_app_token:
            raise ValueError(
                "SLACK_APP_TOKEN: workspace installs (OAuth) are served over HTTP;"
                " unset SLACK_APP_TOKEN to use them"
            )
        if self.slack_bot_token:
            raise ValueError(
                "SLACK_BOT_TOKEN: unset it with workspace installs (OAuth);"
                " each workspace's token comes from its install"
            )
        if self.backend == "kazoo":
            raise ValueError(
                "NUMBERS_BOT_BACKEND: kazoo serves one workspace;"
                " unset SLACK_CLIENT_ID to use it with SLACK_BOT_TOKEN"
            )
        return self

    @property
    def installs_enabled(self) -> bool:
        """Workspace installs (OAuth): `/slack/install` and each workspace's own token."""
        return bool(self.slack_client_id and self.slack_client_secret and self.state_secret)

    def __repr_args__(self) -> Any:
        # repr() and str() of the settings never show a secret.
        for name, value in super().__repr_args__():
            yield name, (MASK if name in SECRET_FIELDS and value else value)

    @field_validator("admins", "approvers", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("admins", "approvers")
    @classmethod
    def _id_shape(cls, value: list[str]) -> list[str]:
        for item in value:
            if item[:1] not in ("U", "W", "S") or not item.isalnum():
                raise ValueError(f"“{item}” is not a Slack user (U…/W…) or user group (S…) id")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @property
    def has_slack_credentials(self) -> bool:
        if self.installs_enabled:
            return True  # validated above: the signing secret is there
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def plan(self) -> ServicePlan:
        return self.service_plan.to_plan()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_file = _yaml_file()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


_YAML_OVERRIDE: list[Path | None] = []


def _default_yaml_file() -> Path | None:
    """`numbers-bot.yml` in the working directory, when there is one."""
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _yaml_file() -> Path | None:
    if _YAML_OVERRIDE:
        return _YAML_OVERRIDE[-1]
    named = os.environ.get("NUMBERS_BOT_CONFIG")
    if named:
        return Path(named)
    return _default_yaml_file()


_ENV_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "kazoo_url": "KAZOO_URL",
    "kazoo_api_key": "KAZOO_API_KEY",
    "kazoo_account_id": "KAZOO_ACCOUNT_ID",
    "slack_client_id": "SLACK_CLIENT_ID",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
}


def _setting_name(loc: tuple[int | str, ...]) -> str:
    # An alias (`KAZOO_API_KEY`) may stand in the location instead of the field's name.
    top = str(loc[0]).lower() if loc else "settings"
    if len(loc) > 1:
        return ".".join(str(p) for p in loc) + " (YAML)"
    return _ENV_NAMES.get(top, f"NUMBERS_BOT_{top.upper()}")


def load_settings(yaml_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; raise `SettingsError` with one line on the first bad one."""
    named = yaml_file or (Path(p) if (p := os.environ.get("NUMBERS_BOT_CONFIG")) else None)
    if named is not None and not named.exists():
        raise SettingsError(f"NUMBERS_BOT_CONFIG: file {named} does not exist")
    # The file this call reads: the one named, else the default one when present.
    _YAML_OVERRIDE.append(named if named is not None else _default_yaml_file())
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        if not err["loc"]:
            # A check across settings: its message starts with the setting's name.
            raise SettingsError(str(err["msg"]).removeprefix("Value error, ")) from None
        value = err.get("input")
        secret = str(err["loc"][0]).lower() in SECRET_FIELDS
        shown = f" (got {value!r})" if isinstance(value, str | int | float) and not secret else ""
        raise SettingsError(f"{_setting_name(err['loc'])}: {err['msg']}{shown}") from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"NUMBERS_BOT_CONFIG: cannot read the YAML file: {exc}") from None
    finally:
        _YAML_OVERRIDE.pop()
