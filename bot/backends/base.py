"""The interface the service layer uses to reach numbers, whichever system holds them.

Every call that touches the bot's database takes the caller's unit of work, so
the embedded backend's changes commit or roll back with the service's audit
events. Calls that reach a carrier (`order`, `geocode`, `search`) are made
outside of any write transaction, so a slow carrier never holds a database lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from bot.domain.assignment import Assignment
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address
from bot.domain.errors import BackendUnavailable
from bot.domain.phone import Kind, SearchQuery
from bot.domain.records import AccountInfo, NumberFilter, NumberRecord
from storage.uow import UnitOfWork


class CarrierError(BackendUnavailable):
    """The carrier refused or failed one number; `reason` is shown to people."""

    def __init__(self, number: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(f"{number}: {reason}")
        self.number = number
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class E911Valid:
    address: E911Address


@dataclass(frozen=True, slots=True)
class E911Candidates:
    candidates: tuple[E911Address, ...]


@dataclass(frozen=True, slots=True)
class E911Invalid:
    field: str
    message: str


E911Outcome = E911Valid | E911Candidates | E911Invalid


@dataclass(frozen=True, slots=True)
class ActivationStatus:
    number: str
    active: bool
    activated_at: datetime | None = None


class NumberBackend(Protocol):
    name: str

    # --- carrier stock -----------------------------------------------------------
    async def search(
        self, uow: UnitOfWork, query: SearchQuery, quantity: int, now: datetime
    ) -> list[str]:
        """Numbers the carrier offers for the query that nobody holds or owns."""

    async def is_offered(self, number: str) -> bool:
        """Whether the carrier sells this number at all (taken or not)."""

    async def hold(
        self,
        uow: UnitOfWork,
        numbers: Sequence[str],
        *,
        request_id: str,
        account: AccountInfo,
        until: datetime,
        now: datetime,
    ) -> set[str]:
        """Reserve numbers for a request; returns those it now holds (others were taken)."""

    async def set_hold_expiry(
        self, uow: UnitOfWork, request_id: str, until: datetime | None, now: datetime
    ) -> None:
        """Move a request's holds' expiry; None holds them until provisioning ends."""

    async def release_hold(
        self,
        uow: UnitOfWork,
        request_id: str,
        now: datetime,
        numbers: Sequence[str] | None = None,
    ) -> list[str]:
        """Give back a request's holds (all or some); returns the numbers released."""

    async def quote(
        self, uow: UnitOfWork, account: AccountInfo, new: Mapping[Kind, int]
    ) -> Quote: ...

    async def monthly_total(self, uow: UnitOfWork, account: AccountInfo) -> Decimal: ...

    async def order(self, number: str, account: AccountInfo, request_id: str) -> None:
        """Buy from the carrier. Idempotent per (number, request). Raises CarrierError."""

    async def record_purchase(
        self,
        uow: UnitOfWork,
        number: str,
        *,
        account: AccountInfo,
        request_id: str,
        now: datetime,
    ) -> bool:
        """Make an ordered number the account's; False if it already was (never twice)."""

    # --- owned numbers -----------------------------------------------------------
    async def get(self, uow: UnitOfWork, number: str) -> NumberRecord | None: ...

    async def list_numbers(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        flt: NumberFilter,
        *,
        after: str | None,
        limit: int,
    ) -> list[NumberRecord]: ...

    async def list_page(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        flt: NumberFilter,
        *,
        after: str | None,
        before: str | None,
        limit: int,
    ) -> list[NumberRecord]:
        """A keyset page in E.164 order: after `after`, or the last ones before `before`."""

    async def count_matching(
        self, uow: UnitOfWork, account: AccountInfo, flt: NumberFilter, *, cap: int
    ) -> tuple[int, bool]:
        """How many numbers match `flt` (counted up to `cap`), and whether a main number
        of the account is emergency enabled (the list shows both on every page)."""

    async def has_emergency_main(self, uow: UnitOfWork, account: AccountInfo) -> bool:
        """Whether a main number of the account is emergency enabled."""

    async def spares(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        *,
        kind: Kind | None,
        prefix: str | None,
        limit: int,
    ) -> list[NumberRecord]: ...

    async def assign(
        self,
        uow: UnitOfWork,
        number: NumberRecord,
        assignment: Assignment,
        *,
        actor: str,
        now: datetime,
    ) -> None: ...

    async def unassign(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> None: ...

    async def geocode(self, address: E911Address) -> E911Outcome:
        """Validate an address with the e911 provider (form already checked)."""

    async def set_e911(
        self,
        uow: UnitOfWork,
        number: NumberRecord,
        address: E911Address,
        *,
        actor: str,
        now: datetime,
    ) -> None: ...

    async def remove_e911(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> None: ...

    async def move(
        self, uow: UnitOfWork, number: NumberRecord, to: AccountInfo, now: datetime
    ) -> bool: ...

    async def release(
        self, uow: UnitOfWork, number: NumberRecord, *, aging_until: datetime, now: datetime
    ) -> bool: ...

    async def restore(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> bool: ...

    async def activate_due(self, uow: UnitOfWork, now: datetime) -> list[str]:
        """Mark numbers whose activation completed; returns them."""

    async def activation_status(self, uow: UnitOfWork, number: str) -> ActivationStatus: ...

    async def age_out(self, uow: UnitOfWork, now: datetime) -> list[str]:
        """Return numbers whose aging ended to the carrier; returns them."""
