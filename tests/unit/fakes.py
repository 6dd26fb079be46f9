"""The whole unit-of-work port (bot/service/ports.py) in memory, for service tests with no SQL.

A unit of work works on a copy of the tables and puts it back on `commit()`;
leaving without one drops it, as a rolled-back transaction does. Conditional
changes answer True only when they made the change, and every state move is
checked by the same function storage uses (`check_number_move`,
`check_request_move`). `mypy tests/unit/fakes.py` checks that `FakeStore` fits
`UnitOfWorkFactory`. The SQL tiers prove the SQL and the concurrency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address, E911Status
from bot.domain.phone import Kind, kind_of
from bot.domain.records import (
    AccountInfo,
    AccountUse,
    AuditEntry,
    AuditEvent,
    NumberCounts,
    NumberFilter,
    NumberRecord,
    PurchaseItemRecord,
    PurchaseRequestRecord,
    RequestStamp,
    Viewer,
)
from bot.domain.states import (
    OPEN_REQUEST_STATES,
    ItemOutcome,
    NumberState,
    RequestState,
    check_number_move,
    check_request_move,
)
from bot.service.ports import (
    AccountsRepository,
    AuditRepository,
    DeliveriesRepository,
    ListingRepository,
    NumbersRepository,
    OverviewRepository,
    RequestsRepository,
    UnitOfWork,
    UnitOfWorkFactory,
)

RUNNING = frozenset({*OPEN_REQUEST_STATES, RequestState.PROVISIONING})


@dataclass
class Tables:
    """The "database": what committed units of work left behind."""

    accounts: dict[str, AccountInfo] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    bindings: dict[tuple[str, str], str] = field(default_factory=dict)
    numbers: dict[str, NumberRecord] = field(default_factory=dict)
    requests: dict[str, PurchaseRequestRecord] = field(default_factory=dict)
    item_times: dict[str, datetime] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    deliveries: dict[str, datetime] = field(default_factory=dict)
    viewers: dict[tuple[str, str], tuple[str | None, datetime]] = field(default_factory=dict)

    def copy(self) -> Tables:
        return Tables(
            dict(self.accounts),
            dict(self.defaults),
            dict(self.bindings),
            dict(self.numbers),
            dict(self.requests),
            dict(self.item_times),
            list(self.audit),
            dict(self.deliveries),
            dict(self.viewers),
        )


class FakeAccountsRepo:
    def __init__(self, t: Tables) -> None:
        self.t = t

    async def ensure_workspace(self, workspace_id: str, now: datetime) -> str | None:
        if workspace_id in self.t.defaults:
            return None
        account = await self.create(f"acc-{workspace_id}", workspace_id, "Main", now)
        self.t.defaults[workspace_id] = account.id
        return account.id

    async def set_default(self, workspace_id: str, account_id: str) -> None:
        self.t.defaults[workspace_id] = account_id

    async def get(self, account_id: str) -> AccountInfo | None:
        return self.t.accounts.get(account_id)

    async def default_of(self, workspace_id: str) -> AccountInfo | None:
        found = self.t.defaults.get(workspace_id)
        return self.t.accounts.get(found) if found else None

    async def by_name(self, workspace_id: str, name: str) -> AccountInfo | None:
        for a in self.t.accounts.values():
            if a.workspace_id == workspace_id and a.name.lower() == name.lower():
                return a
        return None

    async def create(
        self, account_id: str, workspace_id: str, name: str, now: datetime
    ) -> AccountInfo:
        account = AccountInfo(account_id, workspace_id, name)
        self.t.accounts[account_id] = account
        return account

    async def all(self, workspace_id: str) -> list[AccountInfo]:
        return sorted(
            (a for a in self.t.accounts.values() if a.workspace_id == workspace_id),
            key=lambda a: a.name,
        )

    async def binding(self, workspace_id: str, channel_id: str) -> str | None:
        return self.t.bindings.get((workspace_id, channel_id))

    async def bind(
        self, workspace_id: str, channel_id: str, account_id: str, actor: str, now: datetime
    ) -> None:
        self.t.bindings[(workspace_id, channel_id)] = account_id


def _free(record: NumberRecord | None, now: datetime) -> bool:
    if record is None or record.state is NumberState.AVAILABLE:
        return True
    return (
        record.state is NumberState.RESERVED
        and record.hold_expires_at is not None
        and record.hold_expires_at <= now
    )


def _matches(record: NumberRecord, account_id: str, flt: NumberFilter) -> bool:
    if record.account_id != account_id or record.state not in flt.states:
        return False
    if flt.kind is not None and record.kind is not flt.kind:
        return False
    if flt.npa is not None and record.e164[2:5] != flt.npa:
        return False
    if flt.e911 is not None and record.emergency_enabled is not flt.e911:
        return False
    wanted = flt.assignment
    if wanted is None:
        return True
    if wanted.kind is None:
        return record.assignment is None
    if record.assignment is None or record.assignment.kind is not wanted.kind:
        return False
    return wanted.user_id is None or record.assignment.user_id == wanted.user_id


class FakeNumbers:
    def __init__(self, rows: dict[str, NumberRecord] | None = None) -> None:
        self.rows = rows if rows is not None else {}

    def _move(self, e164: str, new: NumberState, **values: object) -> None:
        """Every state change goes through the one check, as in storage."""
        row = self.rows[e164]
        check_number_move(e164, row.state, new)
        self.rows[e164] = replace(row, state=new, version=row.version + 1, **values)  # type: ignore[arg-type]

    async def get(self, e164: str) -> NumberRecord | None:
        return self.rows.get(e164)

    async def get_many(self, numbers: Iterable[str]) -> dict[str, NumberRecord]:
        return {n: self.rows[n] for n in numbers if n in self.rows}

    async def all_owned(self) -> list[NumberRecord]:
        owned = (NumberState.IN_SERVICE, NumberState.AGING)
        return [r for r in self.rows.values() if r.account_id and r.state in owned]

    async def unavailable_among(self, numbers: Sequence[str], now: datetime) -> set[str]:
        return {n for n in numbers if not _free(self.rows.get(n), now)}

    async def hold(
        self,
        numbers: Sequence[str],
        *,
        request_id: str,
        account_id: str,
        until: datetime,
        now: datetime,
        kinds: dict[str, Kind],
    ) -> set[str]:
        held: set[str] = set()
        for n in numbers:
            row = self.rows.get(n)
            if not _free(row, now):
                continue
            if row is None:
                row = NumberRecord(n, NumberState.AVAILABLE, kinds[n], None)
            elif row.state is NumberState.RESERVED:  # a lapsed hold: given back first
                check_number_move(n, NumberState.RESERVED, NumberState.AVAILABLE)
                row = replace(row, state=NumberState.AVAILABLE)
            self.rows[n] = row
            self._move(
                n, NumberState.RESERVED, account_id=None, hold_request_id=request_id,
                hold_expires_at=until,
            )  # fmt: skip
            held.add(n)
        return held

    def _held_by(self, request_id: str) -> list[str]:
        return [
            n
            for n, r in self.rows.items()
            if r.hold_request_id == request_id and r.state is NumberState.RESERVED
        ]

    async def extend_holds(self, request_id: str, until: datetime | None, now: datetime) -> int:
        held = self._held_by(request_id)
        for n in held:
            self.rows[n] = replace(self.rows[n], hold_expires_at=until)
        return len(held)

    async def release_holds(
        self, request_id: str, now: datetime, numbers: Sequence[str] | None = None
    ) -> list[str]:
        held = [n for n in self._held_by(request_id) if numbers is None or n in numbers]
        for n in held:
            self._move(n, NumberState.AVAILABLE, hold_request_id=None, hold_expires_at=None)
        return held

    def _lapsed(self, now: datetime) -> list[NumberRecord]:
        return [
            r
            for r in self.rows.values()
            if r.state is NumberState.RESERVED
            and r.hold_expires_at is not None
            and r.hold_expires_at <= now
        ]

    async def has_lapsed_holds(self, now: datetime) -> bool:
        return bool(self._lapsed(now))

    async def release_lapsed_holds(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        raise NotImplementedError("needs the requests table: see FakeUnitOfWork")

    async def mark_purchased(
        self,
        e164: str,
        *,
        request_id: str,
        account_id: str,
        now: datetime,
        activate_at: datetime,
    ) -> bool:
        row = self.rows.get(e164)
        if row is None or row.state is not NumberState.RESERVED:
            return False
        if row.hold_request_id != request_id:
            return False
        self._move(
            e164, NumberState.IN_SERVICE, account_id=account_id, hold_request_id=None,
            hold_expires_at=None, purchased_at=now, activate_at=activate_at, activated_at=None,
        )  # fmt: skip
        return True

    def _owned(self, e164: str, state: NumberState, account_id: str) -> NumberRecord | None:
        row = self.rows.get(e164)
        if row is None or row.state is not state or row.account_id != account_id:
            return None
        return row

    async def move_account(self, e164: str, source: str, target: str, now: datetime) -> bool:
        if self._owned(e164, NumberState.IN_SERVICE, source) is None:
            return False
        self._move(e164, NumberState.IN_SERVICE, account_id=target)
        return True

    async def start_aging(self, e164: str, account_id: str, until: datetime, now: datetime) -> bool:
        if self._owned(e164, NumberState.IN_SERVICE, account_id) is None:
            return False
        self._move(e164, NumberState.AGING, aging_until=until)
        return True

    async def restore(self, e164: str, account_id: str, now: datetime) -> bool:
        if self._owned(e164, NumberState.AGING, account_id) is None:
            return False
        self._move(e164, NumberState.IN_SERVICE, aging_until=None)
        return True

    async def claim_return(self, e164: str, account_id: str, version: int, now: datetime) -> bool:
        row = self._owned(e164, NumberState.AGING, account_id)
        if row is None or row.version != version:
            return False
        self._move(e164, NumberState.RETURNING)
        return True

    async def return_to_stock(self, e164: str, account_id: str, now: datetime) -> bool:
        if self._owned(e164, NumberState.RETURNING, account_id) is None:
            return False
        self._move(e164, NumberState.AVAILABLE, account_id=None, assignment=None, aging_until=None)
        return True

    async def assign(
        self, e164: str, account_id: str, assignment: Assignment, actor: str, now: datetime
    ) -> None:
        self.rows[e164] = replace(self.rows[e164], assignment=assignment)

    async def unassign(self, e164: str) -> bool:
        had = self.rows[e164].assignment is not None
        self.rows[e164] = replace(self.rows[e164], assignment=None)
        return had

    async def count_assigned(self, account_id: str, kind: AssignmentKind) -> int:
        return sum(
            1
            for r in self.rows.values()
            if r.account_id == account_id and r.assignment and r.assignment.kind is kind
        )

    async def set_e911(self, e164: str, address: E911Address, actor: str, now: datetime) -> None:
        self.rows[e164] = replace(self.rows[e164], e911=address)

    async def remove_e911(self, e164: str) -> bool:
        had = self.rows[e164].e911 is not None
        self.rows[e164] = replace(self.rows[e164], e911=None)
        return had

    async def emergency_main_numbers(self, account_id: str) -> list[str]:
        return sorted(
            n
            for n, r in self.rows.items()
            if r.account_id == account_id
            and r.state is NumberState.IN_SERVICE
            and r.is_emergency_main
        )

    async def page(
        self, account_id: str, flt: NumberFilter, *, after: str | None, limit: int
    ) -> list[NumberRecord]:
        found = sorted(
            (r for r in self.rows.values() if _matches(r, account_id, flt)), key=lambda r: r.e164
        )
        return [r for r in found if after is None or r.e164 > after][:limit]

    async def spares(
        self, account_id: str, *, kind: Kind | None, prefix: str | None, limit: int
    ) -> list[NumberRecord]:
        found = [
            r
            for r in sorted(self.rows.values(), key=lambda r: r.e164)
            if r.account_id == account_id
            and r.is_spare
            and (kind is None or r.kind is kind)
            and (prefix is None or r.e164.startswith(prefix))
        ]
        return found[:limit]

    async def counts(self, account_id: str) -> NumberCounts:
        mine = [r for r in self.rows.values() if r.account_id == account_id]

        def by_kind(state: NumberState) -> dict[Kind, int]:
            return {k: sum(r.state is state and r.kind is k for r in mine) for k in Kind}

        live = [r for r in mine if r.state is NumberState.IN_SERVICE]
        return NumberCounts(
            in_service=by_kind(NumberState.IN_SERVICE),
            aging=by_kind(NumberState.AGING),
            assigned={
                k: sum(bool(r.assignment and r.assignment.kind is k) for r in live)
                for k in AssignmentKind
            },
            emergency_enabled=sum(r.emergency_enabled for r in live),
        )

    async def due_activation(self, now: datetime, limit: int = 200) -> list[str]:
        return [
            n
            for n, r in self.rows.items()
            if r.state is NumberState.IN_SERVICE
            and r.activated_at is None
            and r.activate_at is not None
            and r.activate_at <= now
        ][:limit]

    async def mark_activated(self, e164: str, now: datetime) -> bool:
        row = self.rows.get(e164)
        if row is None or row.state is not NumberState.IN_SERVICE or row.activated_at:
            return False
        self.rows[e164] = replace(row, activated_at=now)
        return True

    async def aged_out(self, now: datetime, limit: int = 500) -> list[str]:
        return [
            n
            for n, r in self.rows.items()
            if (r.state is NumberState.AGING and r.aging_until and r.aging_until <= now)
            or r.state is NumberState.RETURNING
        ][:limit]


class FakeListing:
    def __init__(self, numbers: FakeNumbers) -> None:
        self.numbers = numbers

    async def page(
        self,
        account_id: str,
        flt: NumberFilter,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int,
    ) -> list[NumberRecord]:
        rows = await self.numbers.page(account_id, flt, after=after, limit=10**6)
        return [r for r in rows if before is None or r.e164 < before][:limit]

    async def count_and_emergency(
        self, account_id: str, flt: NumberFilter, *, cap: int
    ) -> tuple[int, bool]:
        rows = await self.numbers.page(account_id, flt, after=None, limit=cap)
        return len(rows), any(r.is_emergency_main for r in rows)

    async def has_emergency_main(self, account_id: str) -> bool:
        return bool(await self.numbers.emergency_main_numbers(account_id))


class FakeRequests:
    def __init__(self, t: Tables) -> None:
        self.t = t

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
    ) -> None:
        pending = ItemOutcome.PENDING
        items = tuple(PurchaseItemRecord(n, pending, None, n in spares) for n in numbers)
        self.t.requests[request_id] = PurchaseRequestRecord(
            request_id, workspace_id, account_id, requester_id, target, kind,
            RequestState.QUOTED, quote, hold_expires_at, now, now, items, channel_id=channel_id,
        )  # fmt: skip

    async def get(self, request_id: str) -> PurchaseRequestRecord | None:
        return self.t.requests.get(request_id)

    def _set(self, request_id: str, **values: object) -> None:
        self.t.requests[request_id] = replace(self.t.requests[request_id], **values)  # type: ignore[arg-type]

    async def transition(
        self,
        request_id: str,
        expected: RequestState | Sequence[RequestState],
        new: RequestState,
        now: datetime,
        stamp: RequestStamp | None = None,
    ) -> bool:
        states = [expected] if isinstance(expected, RequestState) else list(expected)
        for state in states:
            check_request_move(state, new)  # the one check storage makes too
        request = self.t.requests.get(request_id)
        if request is None or request.state not in states:
            return False
        self._set(request_id, state=new, updated_at=now, **(stamp.columns() if stamp else {}))
        return True

    async def set_hold_expiry(self, request_id: str, until: datetime | None, now: datetime) -> None:
        self._set(request_id, hold_expires_at=until, updated_at=now)

    async def record_cards(
        self,
        request_id: str,
        now: datetime,
        *,
        message: tuple[str, str] | None = None,
        approval_cards: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        if message is not None:
            self._set(request_id, channel_id=message[0], message_ts=message[1])
        if approval_cards is not None:
            self._set(request_id, approval_cards=tuple(approval_cards))

    async def set_item(
        self,
        request_id: str,
        number: str,
        outcome: ItemOutcome,
        reason: str | None,
        now: datetime,
        *,
        only_if: ItemOutcome | None = ItemOutcome.PENDING,
    ) -> bool:
        request = self.t.requests[request_id]
        items = list(request.items)
        for i, item in enumerate(items):
            if item.number == number and (only_if is None or item.outcome is only_if):
                items[i] = replace(item, outcome=outcome, reason=reason)
                self._set(request_id, items=tuple(items))
                self.t.item_times[request_id] = now
                return True
        return False

    async def find(
        self,
        workspace_id: str,
        *,
        requester_id: str | None = None,
        states: Sequence[RequestState] | None = None,
        limit: int = 20,
    ) -> list[PurchaseRequestRecord]:
        found = [
            r
            for r in self.t.requests.values()
            if r.workspace_id == workspace_id
            and (requester_id is None or r.requester_id == requester_id)
            and (not states or r.state in states)
        ]
        return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]

    async def pending_for_target(
        self, account_id: str, target: Assignment, *, excluding: str | None = None
    ) -> int:
        return sum(
            len(r.items_with(ItemOutcome.PENDING))
            for r in self.t.requests.values()
            if r.account_id == account_id
            and r.target == target
            and r.state in RUNNING
            and r.id != excluding
        )

    async def provisioning_activity(self, limit: int = 100) -> dict[str, datetime]:
        return {
            r.id: max(r.updated_at, self.t.item_times.get(r.id, r.updated_at))
            for r in self.t.requests.values()
            if r.state is RequestState.PROVISIONING
        }

    async def expired_open(self, now: datetime, limit: int = 100) -> list[str]:
        return [
            r.id
            for r in self.t.requests.values()
            if r.state in OPEN_REQUEST_STATES
            and r.hold_expires_at is not None
            and r.hold_expires_at <= now
        ][:limit]

    async def awaiting_activation_notice(self, limit: int = 100) -> list[str]:
        done = (RequestState.COMPLETED, RequestState.PARTIALLY_COMPLETED)
        return [
            r.id
            for r in self.t.requests.values()
            if r.state in done and r.activation_notified_at is None
        ][:limit]

    async def mark_activation_notified(self, request_id: str, now: datetime) -> bool:
        if self.t.requests[request_id].activation_notified_at is not None:
            return False
        self._set(request_id, activation_notified_at=now)
        return True

    async def open_for_workspace(self, workspace_id: str) -> int:
        return sum(
            r.workspace_id == workspace_id and r.state in OPEN_REQUEST_STATES
            for r in self.t.requests.values()
        )


class FakeAudit:
    """Added events are kept as written (`events`) and as read back (`Tables.audit`)."""

    def __init__(self, t: Tables) -> None:
        self.t = t
        self.events: list[AuditEvent] = []

    async def add(self, event: AuditEvent, at: datetime) -> None:
        self.events.append(event)
        entry = AuditEntry(
            len(self.t.audit) + 1, at, event.actor, event.action, event.number, event.request_id,
            dict(event.before) if event.before else None,
            dict(event.after) if event.after else None, event.detail,
        )  # fmt: skip
        self.t.audit.append(entry)

    def _of(self, e164: str) -> list[AuditEntry]:
        return [e for e in reversed(self.t.audit) if e.number == e164]

    async def for_number(self, workspace_id: str, e164: str, limit: int = 50) -> list[AuditEntry]:
        return self._of(e164)[:limit]

    async def latest_id(self, workspace_id: str, e164: str) -> int:
        return max((e.id for e in self._of(e164)), default=0)

    async def since(
        self, workspace_id: str, e164: str, after_id: int, limit: int = 20
    ) -> list[AuditEntry]:
        return [e for e in self._of(e164) if e.id > after_id][:limit]

    async def for_request(self, request_id: str, limit: int = 100) -> list[AuditEntry]:
        return [e for e in self.t.audit if e.request_id == request_id][:limit]


class FakeDeliveries:
    def __init__(self, t: Tables) -> None:
        self.t = t

    async def claim(self, key: str, now: datetime) -> bool:
        if key in self.t.deliveries:
            return False
        self.t.deliveries[key] = now
        return True

    async def release(self, key: str) -> None:
        self.t.deliveries.pop(key, None)

    async def prune(self, before: datetime) -> int:
        old = [k for k, at in self.t.deliveries.items() if at < before]
        for k in old:
            del self.t.deliveries[k]
        return len(old)


class FakeOverview:
    def __init__(self, t: Tables, audit: FakeAudit) -> None:
        self.t = t
        self.audit = audit

    async def account_use(self, workspace_id: str) -> dict[str, AccountUse]:
        use: dict[str, AccountUse] = {}
        for a in self.t.accounts.values():
            if a.workspace_id != workspace_id:
                continue
            owned = sum(r.account_id == a.id for r in self.t.numbers.values())
            channels = tuple(c for (w, c), acc in self.t.bindings.items() if acc == a.id)
            use[a.id] = AccountUse(owned, channels)
        return use

    async def number_history(
        self, workspace_id: str, e164: str, *, offset: int, limit: int
    ) -> list[AuditEntry]:
        return self.audit._of(e164)[offset : offset + limit]

    async def last_event(self, workspace_id: str, e164: str, action: str) -> AuditEntry | None:
        return next((e for e in self.audit._of(e164) if e.action == action), None)

    async def open_requests(self, account_id: str) -> int:
        return sum(
            r.account_id == account_id and r.state in OPEN_REQUEST_STATES
            for r in self.t.requests.values()
        )

    async def remember_viewer(
        self, workspace_id: str, user_id: str, account_id: str | None, now: datetime
    ) -> None:
        self.t.viewers[(workspace_id, user_id)] = (account_id, now)

    async def viewer(self, workspace_id: str, user_id: str) -> Viewer | None:
        seen = self.t.viewers.get((workspace_id, user_id))
        return Viewer(user_id, seen[0]) if seen else None

    async def viewers(self, workspace_id: str, since: datetime, limit: int) -> list[Viewer]:
        return [
            Viewer(u, acc)
            for (w, u), (acc, at) in self.t.viewers.items()
            if w == workspace_id and at >= since
        ][:limit]


class FakeUnitOfWork:
    """One "transaction" over a copy of the tables: kept only on commit."""

    def __init__(self, store: FakeStore, write: bool) -> None:
        self.store = store
        self.write = write
        self.t = store.tables.copy()
        # Typed as the port's repositories, so mypy checks each fake against its Protocol.
        self.fake_numbers = _NumbersOf(self.t)
        self.fake_audit = FakeAudit(self.t)
        self.accounts: AccountsRepository = FakeAccountsRepo(self.t)
        self.numbers: NumbersRepository = self.fake_numbers
        self.listing: ListingRepository = FakeListing(self.fake_numbers)
        self.requests: RequestsRepository = FakeRequests(self.t)
        self.audit: AuditRepository = self.fake_audit
        self.deliveries: DeliveriesRepository = FakeDeliveries(self.t)
        self.overview: OverviewRepository = FakeOverview(self.t, self.fake_audit)

    async def __aenter__(self) -> FakeUnitOfWork:
        self.store.opened.append(self.write)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        before = self.t.copy()
        try:
            yield
        except BaseException:
            self.t.__dict__.update(before.__dict__)
            self.fake_numbers.rows = self.t.numbers
            raise

    async def commit(self) -> None:
        assert self.write, "a read unit of work never commits"
        self.store.tables = self.t
        self.store.audit.events += self.fake_audit.events
        self.fake_audit.events = []


class _NumbersOf(FakeNumbers):
    """The numbers table of one unit of work; lapsed holds need its requests too."""

    def __init__(self, t: Tables) -> None:
        super().__init__(t.numbers)
        self.t = t

    async def release_lapsed_holds(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        released: list[tuple[str, str]] = []
        for row in self._lapsed(now)[:limit]:
            request = self.t.requests.get(row.hold_request_id or "")
            if request is None:
                continue
            self._move(row.e164, NumberState.AVAILABLE, hold_request_id=None, hold_expires_at=None)
            released.append((row.e164, request.account_id))
        return released


class FakeStore:
    """The unit-of-work factory over in-memory tables (`store(write=False)` reads)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.opened: list[bool] = []
        # Every event ever committed, in order (what tests read back).
        self.audit = _Committed()

    def __call__(self, *, write: bool = True) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write)

    @property
    def numbers(self) -> FakeNumbers:
        return FakeNumbers(self.tables.numbers)

    def add_account(self, account: AccountInfo, *, default: bool = False) -> AccountInfo:
        self.tables.accounts[account.id] = account
        if default:
            self.tables.defaults[account.workspace_id] = account.id
        return account

    def own(self, account: AccountInfo, e164: str, **values: object) -> NumberRecord:
        record = replace(
            NumberRecord(e164, NumberState.IN_SERVICE, kind_of(e164), account.id),
            **values,  # type: ignore[arg-type]
        )
        self.tables.numbers[e164] = record
        return record


@dataclass
class _Committed:
    events: list[AuditEvent] = field(default_factory=list)


def _fits(store: FakeStore) -> UnitOfWorkFactory:
    """mypy checks here that the fakes implement the whole port."""
    return store


# An address e911 tests may use.
PROVISIONED = E911Status.PROVISIONED


@dataclass
class FakeAccounts:
    account: AccountInfo

    async def for_channel(self, actor: object, channel_id: str | None = None) -> AccountInfo:
        return self.account


@dataclass
class FakeCarrier:
    """Records what the carrier was told, in order; `refuse` makes the next call fail."""

    name: str = "fake"
    calls: list[tuple[str, str]] = field(default_factory=list)
    refuse: Exception | None = None

    def _call(self, method: str, e164: str) -> None:
        self.calls.append((method, e164))
        if self.refuse is not None:
            error, self.refuse = self.refuse, None
            raise error

    async def route(self, e164: str, target: object, *, account_id: str) -> None:
        self._call("route", e164)

    async def unroute(self, e164: str, *, account_id: str) -> None:
        self._call("unroute", e164)

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        self._call(f"move:{from_account_id}->{to_account_id}", e164)


def _fits_uow(uow: FakeUnitOfWork) -> UnitOfWork:
    return uow
