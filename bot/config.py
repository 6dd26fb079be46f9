"""Settings: environment variables (prefix `NUMBERS_BOT_`) over an optional YAML file.

Read once at start-up and passed down; nothing else reads `os.environ`.
A bad setting stops start-up with one line naming it (`SettingsError`).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field, ValidationError, field_validator
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


class CarrierSettings(BaseModel):
    """The simulated carrier of the embedded backend."""

    seed: str = "numbers-bot"
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    activation_delay_seconds: int = Field(default=60, ge=0, le=86_400)
    inventory_per_prefix: int = Field(default=500, ge=1, le=10_000)


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
    default_account_name: str = Field(default="Main", min_length=1, max_length=64)

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
}


def _setting_name(loc: tuple[int | str, ...]) -> str:
    top = str(loc[0]) if loc else "settings"
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
        value = err.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
        raise SettingsError(f"{_setting_name(err['loc'])}: {err['msg']}{shown}") from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"NUMBERS_BOT_CONFIG: cannot read the YAML file: {exc}") from None
    finally:
        _YAML_OVERRIDE.pop()
