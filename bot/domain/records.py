"""Plain records the repositories return and the service hands to handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address
from bot.domain.errors import InvalidInput
from bot.domain.phone import Kind, display
from bot.domain.states import ItemOutcome, NumberState, RequestState


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    workspace_id: str
    name: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class NumberRecord:
    e164: str
    state: NumberState
    kind: Kind
    account_id: str | None
    assignment: Assignment | None = None
    e911: E911Address | None = None
    hold_request_id: str | None = None
    hold_expires_at: datetime | None = None
    aging_until: datetime | None = None
    purchased_at: datetime | None = None
    activate_at: datetime | None = None
    activated_at: datetime | None = None
    # The row's version: every state or account change adds one (a prompt drawn from
    # the record acts only while it is unchanged).
    version: int = 0

    @property
    def display(self) -> str:
        return display(self.e164)

    @property
    def emergency_enabled(self) -> bool:
        return self.e911 is not None and self.e911.emergency_enabled

    @property
    def is_spare(self) -> bool:
        return self.state is NumberState.IN_SERVICE and self.assignment is None

    @property
    def active(self) -> bool:
        return self.activated_at is not None

    @property
    def is_emergency_main(self) -> bool:
        """A main number that reaches emergency services (an account needs one)."""
        return (
            self.emergency_enabled
            and self.assignment is not None
            and self.assignment.kind is AssignmentKind.MAIN
        )

    def snapshot(self) -> dict[str, Any]:
        """What an audit event records of a number, before and after a change."""
        return {
            "state": self.state.value,
            "account_id": self.account_id,
            "assignment": self.assignment.key if self.assignment else None,
            "e911": self.e911.status.value if self.e911 and self.e911.status else None,
        }


@dataclass(frozen=True, slots=True)
class Drawn:
    """What a prompt showed of a number: the row's version and the id of the number's
    latest audit event then. A prompt acts only while both are unchanged."""

    version: int
    seen: int


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    """A number offered by a search: carrier stock, or one of the account's spares."""

    e164: str
    kind: Kind
    place: str
    monthly: Decimal
    spare: bool = False

    @property
    def display(self) -> str:
        return display(self.e164)


@dataclass(frozen=True, slots=True)
class PurchaseItemRecord:
    number: str
    outcome: ItemOutcome
    reason: str | None = None
    spare: bool = False


@dataclass(frozen=True, slots=True)
class PurchaseRequestRecord:
    id: str
    workspace_id: str
    account_id: str
    requester_id: str
    target: Assignment
    kind: Kind
    state: RequestState
    quote: Quote
    hold_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    items: tuple[PurchaseItemRecord, ...] = ()
    accepted_at: datetime | None = None
    accepted_by: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    approval_cards: tuple[tuple[str, str], ...] = ()
    activation_notified_at: datetime | None = None

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(i.number for i in self.items)

    def may_decide(self, user_id: str, *, allow_self_approval: bool) -> bool:
        """Four eyes, the one place of the rule: neither the person who asked for the
        purchase nor the one who accepted its billing change approves or rejects it,
        unless `approvals.allow_self_approval`. (Being an approver is checked apart.)"""
        return allow_self_approval or user_id not in (self.requester_id, self.accepted_by)

    def items_with(self, outcome: ItemOutcome) -> tuple[PurchaseItemRecord, ...]:
        return tuple(i for i in self.items if i.outcome is outcome)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    number: str | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AssignmentFilter:
    """Numbers by where they ring: spare, one target kind, any user, or one user."""

    kind: AssignmentKind | None = None  # None: spare (rings nowhere)
    user_id: str | None = None  # with kind USER: that person only

    @classmethod
    def parse(cls, key: str) -> AssignmentFilter:
        """From the stored/button form: `spare`, `users`, `user:U123`, `main`, …"""
        if key == "spare":
            return cls()
        if key == "users":
            return cls(AssignmentKind.USER)
        if key.startswith("user:"):
            return cls(AssignmentKind.USER, Assignment.parse(key).user_id)
        try:
            return cls(AssignmentKind(key))
        except ValueError:
            raise InvalidInput(
                "filter", f"“{key}” is not a list filter: spare, users, main, conference, faxbox."
            ) from None

    @property
    def key(self) -> str:
        if self.kind is None:
            return "spare"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return "users" if self.kind is AssignmentKind.USER else self.kind.value

    @property
    def spare(self) -> bool:
        return self.kind is None


@dataclass(frozen=True, slots=True)
class NumberFilter:
    """Filters of `/numbers list`; all optional."""

    assignment: AssignmentFilter | None = None
    e911: bool | None = None  # True: emergency enabled only, False: not enabled
    kind: Kind | None = None
    npa: str | None = None
    states: tuple[NumberState, ...] = (NumberState.IN_SERVICE,)


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[NumberRecord, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit trail, written in the same transaction as the change."""

    action: str
    actor: str
    workspace_id: str
    number: str | None = None
    request_id: str | None = None
    before: Mapping[str, object] | None = None
    after: Mapping[str, object] | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class NumberCounts:
    """An account's numbers counted: in service and aging by kind, assigned by target."""

    in_service: Mapping[Kind, int]
    aging: Mapping[Kind, int]
    assigned: Mapping[AssignmentKind, int]
    emergency_enabled: int
    # Assigned (so ringing, and calling out) in service with no working e911 address.
    assigned_without_e911: int = 0

    @property
    def total_in_service(self) -> int:
        return sum(self.in_service.values())

    @property
    def total_aging(self) -> int:
        return sum(self.aging.values())

    @property
    def spare(self) -> int:
        return self.total_in_service - sum(self.assigned.values())


@dataclass(frozen=True, slots=True)
class RequestStamp:
    """Who moved a request and why, written with the move (all optional)."""

    accepted_by: str | None = None
    accepted_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    def columns(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class AccountUse:
    """How much an account is used: its numbers, and the channels bound to it."""

    numbers: int
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Someone who opened the App Home, and the account it showed them."""

    user_id: str
    account_id: str | None
