"""What every service call needs: who acts, and the dependencies it works with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.backends.base import NumberBackend
from bot.config import Settings
from bot.domain.errors import NotAllowed
from storage.uow import UnitOfWorkFactory

Clock = Callable[[], datetime]

# Audit events written by the bot itself (sweeps, provisioning) name this actor.
SYSTEM = "system"


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, with the roles the Slack layer resolved for them."""

    user_id: str
    workspace_id: str
    is_admin: bool = False
    is_approver: bool = False
    channel_id: str | None = None

    def require_admin(self, doing: str) -> None:
        if not self.is_admin:
            raise NotAllowed(f"Only numbers admins can {doing}. Ask an admin of this workspace.")


@dataclass(slots=True)
class Deps:
    uow: UnitOfWorkFactory
    backend: NumberBackend
    settings: Settings
    clock: Clock = utc_now
    ids: Callable[[], str] = field(default=new_id)

    @property
    def has_approvers(self) -> bool:
        return bool(self.settings.approvers)
