"""SQLAlchemy 2 models. Indexes follow what is searched and listed.

Times are stored as timezone-aware UTC (`UtcDateTime`) so SQLite and
PostgreSQL compare them the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.domain.names import name_key


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    default_account_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]


def _name_key(context: Any) -> str:
    return name_key(str(context.get_current_parameters()["name"]))


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_account_name"),
        # One account per name as people read it (`bot.domain.names.name_key`).
        Index("uq_account_name_key", "workspace_id", "name_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(64))
    # Filled from `name` on every insert, so no writer can forget it (the mirror neither).
    name_key: Mapped[str] = mapped_column(String(256), default=_name_key)
    # The Kazoo account this one stands for, when the kazoo backend is used.
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class ChannelBinding(Base):
    __tablename__ = "channel_bindings"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    bound_by: Mapped[str] = mapped_column(String(32))
    bound_at: Mapped[datetime]


class Number(Base):
    """A number the bot knows: held, owned, aging. Carrier stock is not stored until taken."""

    __tablename__ = "numbers"
    __table_args__ = (
        # Listing an account's numbers by state, in E.164 order (keyset pagination).
        Index("ix_numbers_account_state_e164", "account_id", "state", "e164"),
        # Spares and listings filtered by area code, or by kind.
        Index("ix_numbers_account_state_npa", "account_id", "state", "npa", "e164"),
        Index("ix_numbers_account_state_kind", "account_id", "state", "kind", "e164"),
        # Hold expiry sweep.
        Index("ix_numbers_state_hold", "state", "hold_expires_at"),
        Index("ix_numbers_hold_request", "hold_request_id"),
    )

    e164: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    npa: Mapped[str] = mapped_column(String(3))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    hold_request_id: Mapped[str | None] = mapped_column(String(36))
    hold_expires_at: Mapped[datetime | None]
    aging_until: Mapped[datetime | None]
    purchased_at: Mapped[datetime | None]
    activate_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class NumberAssignment(Base):
    """Kazoo's `used_by`: the primary key makes one assignment per number."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_account_kind", "account_id", "kind", "number"),
        # One person's numbers in a big account.
        Index("ix_assignments_account_kind_user", "account_id", "kind", "user_id", "number"),
        # The faxbox answers on one number per account; the database enforces it.
        Index(
            "uq_assignments_one_faxbox",
            "account_id",
            unique=True,
            sqlite_where=text("kind = 'faxbox'"),
            postgresql_where=text("kind = 'faxbox'"),
        ),
    )

    number: Mapped[str] = mapped_column(
        ForeignKey("numbers.e164", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Slack ids, or a carrier's own id for a person it alone knows (migration 0008).
    user_id: Mapped[str | None] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime]


class E911Record(Base):
    __tablename__ = "e911_addresses"
    __table_args__ = (Index("ix_e911_status", "status"),)

    number: Mapped[str] = mapped_column(
        ForeignKey("numbers.e164", ondelete="CASCADE"), primary_key=True
    )
    street_address: Mapped[str] = mapped_column(String(100))
    extended_address: Mapped[str | None] = mapped_column(String(100))
    locality: Mapped[str] = mapped_column(String(60))
    region: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    caller_name: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    plus_four: Mapped[str | None] = mapped_column(String(4))
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class PurchaseRequest(Base):
    __tablename__ = "purchase_requests"
    __table_args__ = (
        Index("ix_requests_workspace_state", "workspace_id", "state", "created_at"),
        Index("ix_requests_requester", "workspace_id", "requester_id", "created_at"),
        Index("ix_requests_state_hold", "state", "hold_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    requester_id: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    quote: Mapped[dict[str, Any]]
    monthly_increase: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    hold_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    # Who clicked Accept (the requester or an admin): four eyes keeps them from approving.
    accepted_by: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    # Where its cards are, so they can be updated in place hours later.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    approval_cards: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who may see progress: the request's requester is told when numbers are active.
    activation_notified_at: Mapped[datetime | None]


class PurchaseItem(Base):
    __tablename__ = "purchase_items"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("purchase_requests.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    spare: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_number", "number", "id"),
        Index("ix_audit_request", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime]
    workspace_id: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    number: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(36))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)


class ProcessedDelivery(Base):
    """Keys of side effects already done (Slack re-deliveries, double clicks)."""

    __tablename__ = "processed_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]
    result: Mapped[str | None] = mapped_column(Text)


class HomeViewer(Base):
    """Who opened the App Home and which account they look at: republished on changes."""

    __tablename__ = "home_viewers"
    __table_args__ = (Index("ix_home_viewers_opened", "workspace_id", "opened_at"),)

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    opened_at: Mapped[datetime]


class SlackInstallation(Base):
    """A workspace's install (OAuth): its bot and who installed it. One row per workspace;
    a re-install replaces it. Tokens are Fernet-encrypted (storage/installs.py)."""

    __tablename__ = "slack_installations"
    __table_args__ = (
        UniqueConstraint("client_id", "enterprise_id", "team_id", name="uq_slack_installation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64))
    app_id: Mapped[str | None] = mapped_column(String(32))
    # "" rather than NULL where Slack names none: a unique key must compare equal.
    enterprise_id: Mapped[str] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    enterprise_url: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean)
    bot_token: Mapped[str | None] = mapped_column(Text)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str] = mapped_column(Text)
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(String(32))
    user_token: Mapped[str | None] = mapped_column(Text)
    user_scopes: Mapped[str] = mapped_column(Text)
    user_refresh_token: Mapped[str | None] = mapped_column(Text)
    user_token_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    token_type: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime]


class SlackOAuthState(Base):
    """An OAuth `state` issued by `/slack/install`: consumed once, before it expires."""

    __tablename__ = "slack_oauth_states"
    __table_args__ = (Index("ix_slack_oauth_states_expire_at", "expire_at"),)

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expire_at: Mapped[datetime]
