"""What the services need from the bot's database, as interfaces (`storage/` implements them).

The services speak only to these Protocols: a unit of work (one transaction,
`commit()` or it rolls back) holding one repository per table group. mypy
checks that `storage.uow.UnitOfWorkFactory` fits `UnitOfWorkFactory` (in
bot/bootstrap.py, where the two meet), and tests/unit/fakes.py fits them in
memory for the rules that need no SQL.

Repositories return domain records and answer conditional changes with a
bool: True when this call made the change, False when the row had moved on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address
from bot.domain.errors import BackendUnavailable
from bot.domain.mirror import MirrorRow, SyncEvent
from bot.domain.phone import Kind
from bot.domain.records import (
    AccountInfo,
    AccountUse,
    AuditEntry,
    AuditEvent,
    NumberCounts,
    NumberFilter,
    NumberRecord,
    PurchaseRequestRecord,
    RequestStamp,
    Viewer,
)
from bot.domain.states import ItemOutcome, RequestState


class ConstraintViolation(Exception):
    """The database refused a change (a unique index, a foreign key)."""


class StorageBusy(BackendUnavailable):
    """The database stayed locked past its busy timeout; nothing was changed."""


class AccountsRepository(Protocol):
    async def ensure_workspace(self, workspace_id: str, now: datetime) -> str | None: ...
    async def set_default(self, workspace_id: str, account_id: str) -> None: ...
    async def get(self, account_id: str) -> AccountInfo | None: ...
    async def default_of(self, workspace_id: str) -> AccountInfo | None: ...
    async def by_name(self, workspace_id: str, name: str) -> AccountInfo | None: ...
    async def create(
        self, account_id: str, workspace_id: str, name: str, now: datetime
    ) -> AccountInfo: ...
    async def all(self, workspace_id: str) -> list[AccountInfo]: ...
    async def binding(self, workspace_id: str, channel_id: str) -> str | None: ...
    async def bind(
        self, workspace_id: str, channel_id: str, account_id: str, actor: str, now: datetime
    ) -> None: ...


class NumbersRepository(Protocol):
    async def get(self, e164: str) -> NumberRecord | None: ...
    async def get_many(self, numbers: Iterable[str]) -> dict[str, NumberRecord]: ...
    async def all_owned(self) -> list[NumberRecord]: ...
    async def unavailable_among(self, numbers: Sequence[str], now: datetime) -> set[str]: ...
    async def hold(
        self,
        numbers: Sequence[str],
        *,
        request_id: str,
        account_id: str,
        until: datetime,
        now: datetime,
        kinds: dict[str, Kind],
    ) -> set[str]: ...
    async def extend_holds(self, request_id: str, until: datetime | None, now: datetime) -> int: ...
    async def release_holds(
        self, request_id: str, now: datetime, numbers: Sequence[str] | None = None
    ) -> list[str]: ...
    async def has_lapsed_holds(self, now: datetime) -> bool: ...
    async def release_lapsed_holds(
        self, now: datetime, limit: int = 100
    ) -> list[tuple[str, str]]: ...
    async def mark_purchased(
        self,
        e164: str,
        *,
        request_id: str,
        account_id: str,
        now: datetime,
        activate_at: datetime,
    ) -> bool: ...
    async def move_account(self, e164: str, source: str, target: str, now: datetime) -> bool: ...
    async def start_aging(
        self, e164: str, account_id: str, until: datetime, now: datetime
    ) -> bool: ...
    async def restore(self, e164: str, account_id: str, now: datetime) -> bool: ...
    async def claim_return(
        self, e164: str, account_id: str, version: int, now: datetime
    ) -> bool: ...
    async def return_to_stock(self, e164: str, account_id: str, now: datetime) -> bool: ...
    async def assign(
        self, e164: str, account_id: str, assignment: Assignment, actor: str, now: datetime
    ) -> None: ...
    async def unassign(self, e164: str) -> bool: ...
    async def count_assigned(self, account_id: str, kind: AssignmentKind) -> int: ...
    async def set_e911(
        self, e164: str, address: E911Address, actor: str, now: datetime
    ) -> None: ...
    async def remove_e911(self, e164: str) -> bool: ...
    async def emergency_main_numbers(self, account_id: str) -> list[str]: ...
    async def page(
        self, account_id: str, flt: NumberFilter, *, after: str | None, limit: int
    ) -> list[NumberRecord]: ...
    async def spares(
        self, account_id: str, *, kind: Kind | None, prefix: str | None, limit: int
    ) -> list[NumberRecord]: ...
    async def counts(self, account_id: str) -> NumberCounts: ...
    async def due_activation(self, now: datetime, limit: int = 200) -> list[str]: ...
    async def mark_activated(self, e164: str, now: datetime) -> bool: ...
    async def aged_out(self, now: datetime, limit: int = 500) -> list[str]: ...


class ListingRepository(Protocol):
    async def page(
        self,
        account_id: str,
        flt: NumberFilter,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int,
    ) -> list[NumberRecord]: ...
    async def count_and_emergency(
        self, account_id: str, flt: NumberFilter, *, cap: int
    ) -> tuple[int, bool]: ...
    async def has_emergency_main(self, account_id: str) -> bool: ...


class RequestsRepository(Protocol):
    async def create(
        self,
        *,
        request_id: str,
        workspace_id: str,
        account_id: str,
        requester_id: str,
        target: Assignment,
        kind: Kind,
        quote: Quote,
        numbers: Sequence[str],
        spares: Sequence[str] = (),
        hold_expires_at: datetime,
        channel_id: str | None,
        now: datetime,
    ) -> None: ...
    async def get(self, request_id: str) -> PurchaseRequestRecord | None: ...
    async def transition(
        self,
        request_id: str,
        expected: RequestState | Sequence[RequestState],
        new: RequestState,
        now: datetime,
        stamp: RequestStamp | None = None,
    ) -> bool: ...
    async def set_hold_expiry(
        self, request_id: str, until: datetime | None, now: datetime
    ) -> None: ...
    async def record_cards(
        self,
        request_id: str,
        now: datetime,
        *,
        message: tuple[str, str] | None = None,
        approval_cards: Sequence[tuple[str, str]] | None = None,
    ) -> None: ...
    async def set_item(
        self,
        request_id: str,
        number: str,
        outcome: ItemOutcome,
        reason: str | None,
        now: datetime,
        *,
        only_if: ItemOutcome | None = ItemOutcome.PENDING,
    ) -> bool: ...
    async def find(
        self,
        workspace_id: str,
        *,
        requester_id: str | None = None,
        states: Sequence[RequestState] | None = None,
        limit: int = 20,
    ) -> list[PurchaseRequestRecord]: ...
    async def pending_for_target(
        self, account_id: str, target: Assignment, *, excluding: str | None = None
    ) -> int: ...
    async def provisioning_activity(self, limit: int = 100) -> dict[str, datetime]: ...
    async def expired_open(self, now: datetime, limit: int = 100) -> list[str]: ...
    async def awaiting_activation_notice(self, limit: int = 100) -> list[str]: ...
    async def mark_activation_notified(self, request_id: str, now: datetime) -> bool: ...
    async def open_for_workspace(self, workspace_id: str) -> int: ...


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent, at: datetime) -> None: ...
    async def for_number(
        self, workspace_id: str, e164: str, limit: int = 50
    ) -> list[AuditEntry]: ...
    async def latest_id(self, workspace_id: str, e164: str) -> int: ...
    async def since(
        self, workspace_id: str, e164: str, after_id: int, limit: int = 20
    ) -> list[AuditEntry]: ...
    async def for_request(self, request_id: str, limit: int = 100) -> list[AuditEntry]: ...


class DeliveriesRepository(Protocol):
    async def claim(self, key: str, now: datetime) -> bool: ...
    async def release(self, key: str) -> None: ...
    async def prune(self, before: datetime) -> int: ...


class OverviewRepository(Protocol):
    async def account_use(self, workspace_id: str) -> dict[str, AccountUse]: ...
    async def number_history(
        self, workspace_id: str, e164: str, *, offset: int, limit: int
    ) -> list[AuditEntry]: ...
    async def last_event(self, workspace_id: str, e164: str, action: str) -> AuditEntry | None: ...
    async def open_requests(self, account_id: str) -> int: ...
    async def remember_viewer(
        self, workspace_id: str, user_id: str, account_id: str | None, now: datetime
    ) -> None: ...
    async def viewer(self, workspace_id: str, user_id: str) -> Viewer | None: ...
    async def viewers(self, workspace_id: str, since: datetime, limit: int) -> list[Viewer]: ...


class UnitOfWork(Protocol):
    """One transaction; leaving it without `commit()` rolls everything back."""

    accounts: AccountsRepository
    numbers: NumbersRepository
    listing: ListingRepository
    requests: RequestsRepository
    audit: AuditRepository
    deliveries: DeliveriesRepository
    overview: OverviewRepository
    inventory: InventoryRepository

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Undo only the block if it fails; a broken constraint is a `ConstraintViolation`."""
        ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """`write=False` for reads, which never queue behind writers."""

    def __call__(self, *, write: bool = True) -> AbstractAsyncContextManager[UnitOfWork]: ...


class InventoryRepository(Protocol):
    """The inventory sync's reads and writes: the carrier's numbers, routes, e911 and
    accounts, when the carrier is the system of record (`bot/service/inventory_sync.py`)."""

    async def take_turn(self) -> None:
        """Queue this write behind other replicas' sync writes (it reads, decides, then
        inserts). Call first in each write unit; where writers already take turns (SQLite)
        it does nothing."""
        ...

    async def link_account(
        self, workspace_id: str, external_id: str, name: str, now: datetime
    ) -> tuple[str, bool]: ...
    async def link_default(
        self, workspace_id: str, external_id: str, name: str, now: datetime
    ) -> tuple[str, bool]: ...
    async def rows(self, numbers: Sequence[str]) -> dict[str, MirrorRow]: ...
    async def owned_between(
        self,
        account_id: str,
        after: str | None,
        upto: str | None,
        limit: int = 500,
        excluding: Sequence[str] = (),
    ) -> list[str]: ...
    async def insert_owned(
        self, numbers: Sequence[str], account_id: str, now: datetime
    ) -> None: ...
    async def make_owned(self, row: MirrorRow, account_id: str, now: datetime) -> bool: ...
    async def mark_gone(self, e164: str, account_id: str, now: datetime) -> MirrorRow | None: ...
    async def set_assignment(
        self, e164: str, account_id: str, assignment: Assignment, now: datetime
    ) -> str | None: ...
    async def set_assignments(
        self, routed: Sequence[tuple[str, Assignment]], account_id: str, now: datetime
    ) -> None: ...
    async def clear_assignment(self, e164: str) -> bool: ...
    async def set_e911(self, e164: str, address: E911Address, now: datetime) -> None: ...
    async def clear_e911(self, e164: str) -> bool: ...
    async def audit(self, events: Sequence[SyncEvent], workspace_id: str, actor: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """How the person who moved a request is answered, and where its card may live.

    `answer` is the listener's own answer to the click or submission (an ack, a
    redraw of the list clicked in); the service calls it once the move is written
    and before what follows it. `response_url` reaches a card shown only through it
    (a private channel without the bot); `trigger_id` may still open a modal.
    """

    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    answer: Callable[[PurchaseRequestRecord], Awaitable[None]] | None = None


# Where a card was posted: (channel, ts).
CardPlace = tuple[str, str]


class PurchaseNotifier(Protocol):
    """Who is told of a purchase request, through what the people use (Slack's cards).

    The service decides who is told and what happens when nobody can be reached;
    the adapter (bot/handlers/cards.py) words and posts. Every method but the two
    `show_` ones is best effort: a failure is logged there, never raised.
    """

    async def approvers(self, workspace_id: str) -> Sequence[str]: ...
    async def show_billing(self, request: PurchaseRequestRecord, reply: Reply) -> CardPlace | bool:
        """The requester's card: where it was posted, True when it is shown only through
        the reply's response_url, False when it reached nobody."""
        ...

    async def show_approval(
        self, request: PurchaseRequestRecord, deciders: Sequence[str]
    ) -> list[CardPlace]: ...
    async def not_shown(self, request: PurchaseRequestRecord, reply: Reply) -> None: ...
    async def redraw(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        """Every card of the request, in place (through the reply's response_url when the
        card lives only there)."""
        ...

    async def tell_moved(self, request: PurchaseRequestRecord) -> None: ...
    async def tell_bought(self, request: PurchaseRequestRecord) -> None: ...
    async def tell_active(self, request: PurchaseRequestRecord) -> None: ...
    def homes_changed(self, workspace_id: str) -> None:
        """What the App Home shows changed: redraw it for its recent viewers."""
        ...
