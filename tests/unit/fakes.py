"""In-memory stand-ins for the service ports (bot/service/ports.py), for rules that need no SQL.

Only what the change skeleton and its rules use is here; anything else raises
AttributeError, so a test that strays into SQL territory fails loudly. The
SQLite integration tests prove the conditional updates and the concurrency.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import E911Address
from bot.domain.records import AccountInfo, AuditEntry, AuditEvent, NumberRecord
from bot.domain.states import NumberState


@dataclass
class FakeNumbers:
    rows: dict[str, NumberRecord] = field(default_factory=dict)

    async def get(self, e164: str) -> NumberRecord | None:
        return self.rows.get(e164)

    async def get_many(self, numbers: Iterable[str]) -> dict[str, NumberRecord]:
        return {n: self.rows[n] for n in numbers if n in self.rows}

    async def emergency_main_numbers(self, account_id: str) -> list[str]:
        return sorted(
            n
            for n, r in self.rows.items()
            if r.account_id == account_id
            and r.state is NumberState.IN_SERVICE
            and r.is_emergency_main
        )

    async def count_assigned(self, account_id: str, kind: AssignmentKind) -> int:
        return sum(
            1
            for r in self.rows.values()
            if r.account_id == account_id and r.assignment and r.assignment.kind is kind
        )

    async def assign(
        self, e164: str, account_id: str, assignment: Assignment, actor: str, now: datetime
    ) -> None:
        self.rows[e164] = replace(self.rows[e164], assignment=assignment)

    async def unassign(self, e164: str) -> bool:
        had = self.rows[e164].assignment is not None
        self.rows[e164] = replace(self.rows[e164], assignment=None)
        return had

    async def start_aging(self, e164: str, account_id: str, until: datetime, now: datetime) -> bool:
        row = self.rows.get(e164)
        if row is None or row.state is not NumberState.IN_SERVICE or row.account_id != account_id:
            return False
        self.rows[e164] = replace(row, state=NumberState.AGING, aging_until=until)
        return True

    async def move_account(self, e164: str, source: str, target: str, now: datetime) -> bool:
        row = self.rows.get(e164)
        if row is None or row.state is not NumberState.IN_SERVICE or row.account_id != source:
            return False
        self.rows[e164] = replace(row, account_id=target)
        return True

    async def set_e911(self, e164: str, address: E911Address, actor: str, now: datetime) -> None:
        self.rows[e164] = replace(self.rows[e164], e911=address)

    async def remove_e911(self, e164: str) -> bool:
        had = self.rows[e164].e911 is not None
        self.rows[e164] = replace(self.rows[e164], e911=None)
        return had


@dataclass
class FakeAudit:
    events: list[AuditEvent] = field(default_factory=list)

    async def add(self, event: AuditEvent, at: datetime) -> None:
        self.events.append(event)


class FakeOverview:
    async def last_event(self, workspace_id: str, e164: str, action: str) -> AuditEntry | None:
        return None


class FakeUnitOfWork:
    """One "transaction" over shared in-memory tables: writes are kept only on commit."""

    def __init__(self, store: FakeStore, write: bool) -> None:
        self.store = store
        self.write = write
        self.numbers = FakeNumbers(dict(store.numbers.rows))
        self.audit = FakeAudit()
        self.overview = FakeOverview()

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
        yield

    async def commit(self) -> None:
        assert self.write, "a read unit of work never commits"
        self.store.numbers.rows = self.numbers.rows
        self.store.audit.events += self.audit.events


@dataclass
class FakeStore:
    """The "database": what committed units of work left behind."""

    numbers: FakeNumbers = field(default_factory=FakeNumbers)
    audit: FakeAudit = field(default_factory=FakeAudit)
    opened: list[bool] = field(default_factory=list)

    def __call__(self, *, write: bool = True) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write)

    def own(self, account: AccountInfo, e164: str, **values: object) -> NumberRecord:
        from bot.domain.phone import kind_of

        record = replace(
            NumberRecord(e164, NumberState.IN_SERVICE, kind_of(e164), account.id), **values
        )
        self.numbers.rows[e164] = record
        return record


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
