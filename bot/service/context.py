"""What every service call needs: who acts, and the dependencies it works with."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.backends.carrier import Carrier
from bot.config import Settings
from bot.domain.errors import NotAllowed
from bot.domain.purchase import Decider, PurchaseRequest
from bot.domain.records import PurchaseRequestRecord
from bot.service.ports import UnitOfWorkFactory
from bot.service.resync import MirrorDue
from bot.service.telemetry import NoTelemetry, Telemetry

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


EXTERNAL = (
    "You are in another organization's workspace (Slack Connect); numbers-bot answers only "
    "members of the workspace it is installed in. Ask someone there."
)


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, with the roles the Slack layer resolved for them.

    `workspace_id` is the installation's workspace: every read and write is scoped to
    it. `team_id` is the person's own team when the Slack layer knows it; a person of
    another team (Slack Connect) holds no role here, whatever the settings say.
    """

    user_id: str
    workspace_id: str
    is_admin: bool = False
    is_approver: bool = False
    channel_id: str | None = None
    team_id: str | None = None
    # The account the person chose to act on where they are (the App Home's select, a
    # modal or list drawn for that account): it wins over the channel's binding.
    account_id: str | None = None

    def __post_init__(self) -> None:
        if self.is_external:
            # Roles are checked as flags all over the service layer: clear them here once.
            object.__setattr__(self, "is_admin", False)
            object.__setattr__(self, "is_approver", False)

    @property
    def is_external(self) -> bool:
        return self.team_id is not None and self.team_id != self.workspace_id

    def require_member(self, doing: str) -> None:
        """Refuse people of other workspaces, even for reading."""
        if self.is_external:
            raise NotAllowed(EXTERNAL)

    def require_admin(self, doing: str) -> None:
        self.require_member(doing)
        if not self.is_admin:
            raise NotAllowed(f"Only numbers admins can {doing}. Ask an admin of this workspace.")


@dataclass(slots=True)
class Deps:
    uow: UnitOfWorkFactory
    # Everything outside the bot's database, by capability (`deps.carrier.holds is None`:
    # the carrier keeps no holds); never called inside a write unit of work.
    carrier: Carrier
    settings: Settings
    clock: Clock = utc_now
    ids: Callable[[], str] = field(default=new_id)
    # Numbers the carrier refused to change because they moved on: synced sooner.
    due: MirrorDue = field(default_factory=MirrorDue)
    # Counters for operations (bot/metrics.py); nothing by default.
    telemetry: Telemetry = field(default_factory=NoTelemetry)

    @property
    def has_approvers(self) -> bool:
        return bool(self.settings.approvers)

    def decider(self, actor: Actor) -> Callable[[PurchaseRequestRecord], bool]:
        """Whether `actor` is offered `Approve`/`Reject` for a request: what every surface
        (the App Home, `/numbers requests`, the cards) asks; `approve` enforces the same
        rule (`PurchaseRequest.offers_decision` and `refusal`, bot/domain/purchase.py)."""
        person = Decider(actor.user_id, actor.is_admin, actor.is_approver)
        allow = self.settings.approvals.allow_self_approval
        return lambda request: PurchaseRequest(request).offers_decision(
            person, allow_self_approval=allow
        )
