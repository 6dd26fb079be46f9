"""The narrow carrier interface: what lives outside the bot's database.

A carrier (the simulated one, a Kazoo cluster) sells numbers, holds them,
routes them, provisions e911 and moves or releases them. Nothing here takes a
unit of work: the service layer calls a carrier outside any write
transaction and records the typed result in its own database afterwards.

Values are frozen dataclasses so results can be logged, compared in tests and
stored without touching the carrier again. Errors form one hierarchy under
`CarrierFailure` so the service can tell "the carrier said no" (nothing
changed) from "we do not know what happened" (ask with `number_status`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote, Rate
from bot.domain.e911 import E911Address, E911Candidates, E911Invalid, E911Valid
from bot.domain.errors import BackendUnavailable
from bot.domain.phone import Kind, SearchQuery

# --------------------------------------------------------------------------- errors


class CarrierFailure(BackendUnavailable):
    """Base of every carrier failure. `message` is safe to show people.

    `retryable` says whether the same call may succeed later without anyone
    changing anything (a fault or an outage, not a refusal).
    """

    retryable: bool = True

    def __init__(self, message: str, *, number: str | None = None) -> None:
        super().__init__(f"{number}: {message}" if number else message)
        self.reason = message
        self.number = number


class CarrierFault(CarrierFailure):
    """The carrier answered with an error of its own (Kazoo's `unspecified_fault`)."""


class NotEnoughCredit(CarrierFailure):
    """The account cannot pay for the change (Kazoo's `402 not_enough_credit`)."""

    retryable = False


class NumberConflict(CarrierFailure):
    """The number moved on: taken, in another state, or not the account's any more.

    `carrier_message` is what the carrier said, so a person sees why.
    """

    retryable = False

    def __init__(
        self, message: str, *, number: str | None = None, carrier_message: str = ""
    ) -> None:
        super().__init__(message, number=number)
        self.carrier_message = carrier_message


class NotFoundAtCarrier(NumberConflict):
    """The carrier does not know the number (or it is not the account's)."""


class CarrierUnavailable(CarrierFailure):
    """The carrier could not be reached or kept failing; nothing is known to have changed."""


class OutcomeUnknown(CarrierUnavailable):
    """The call was sent but no answer came back: it may or may not have taken effect.

    Never treat this as a failure of a change that costs money: ask with
    `number_status` first.
    """


class CarrierAuthFailed(CarrierUnavailable):
    """The carrier refused the bot's credentials (a bad or revoked API key)."""

    retryable = False


# --------------------------------------------------------------------------- values


class CarrierNumberState(StrEnum):
    """A number's state at the carrier (Kazoo's number manager states)."""

    DISCOVERY = "discovery"
    AVAILABLE = "available"
    RESERVED = "reserved"
    IN_SERVICE = "in_service"
    PORT_IN = "port_in"
    PORT_OUT = "port_out"
    RELEASED = "released"
    AGING = "aging"
    DELETED = "deleted"
    # Not a carrier state: the carrier does not know the number at all, or it
    # is on an account the bot cannot see.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CarrierAccount:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CarrierUser:
    """A person at the carrier (a Kazoo user); matched to Slack users by email."""

    id: str
    email: str | None
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    """A number the carrier offers in a search."""

    e164: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class SearchPage:
    offers: tuple[Offer, ...]
    # The offset to ask for next, or None when the carrier has nothing more.
    next_offset: int | None


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """Where a number rings at the carrier. `owner_id` is the carrier's user id."""

    kind: AssignmentKind
    owner_id: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is AssignmentKind.USER) != (self.owner_id is not None):
            raise ValueError("a user route needs the carrier user's id, and only it has one")

    @classmethod
    def main(cls) -> RouteTarget:
        return cls(AssignmentKind.MAIN)

    @classmethod
    def user(cls, owner_id: str) -> RouteTarget:
        return cls(AssignmentKind.USER, owner_id)

    @classmethod
    def of(cls, assignment: Assignment) -> RouteTarget:
        """Where an assignment rings. A user's carrier id is their Slack id until a
        carrier keeps a directory of its own (then the mirror maps them)."""
        return cls(assignment.kind, assignment.user_id)


@dataclass(frozen=True, slots=True)
class NumberStatus:
    """What the carrier says about one number right now."""

    e164: str
    state: CarrierNumberState
    account_id: str | None = None
    # The application using it (Kazoo's `used_by`, e.g. `callflow`); "" = spare.
    used_by: str = ""
    features: frozenset[str] = frozenset()

    def owned_by(self, account_id: str) -> bool:
        return self.account_id == account_id and self.state in (
            CarrierNumberState.IN_SERVICE,
            CarrierNumberState.PORT_IN,
        )

    @property
    def spare(self) -> bool:
        return (
            self.state in (CarrierNumberState.IN_SERVICE, CarrierNumberState.PORT_IN)
            and not self.used_by
        )


@dataclass(frozen=True, slots=True)
class OwnedPage:
    numbers: tuple[NumberStatus, ...]
    # Pass back as `start_key` for the next page; None on the last page.
    next_start_key: str | None


class OrderOutcome(StrEnum):
    BOUGHT = "bought"
    FAILED = "failed"
    # Sent, but no answer: ask `number_status` before recording anything.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class NumberOrderResult:
    e164: str
    outcome: OrderOutcome
    # For FAILED: what the carrier said, safe to show people.
    reason: str = ""
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class OrderResult:
    idempotency_key: str
    results: tuple[NumberOrderResult, ...]

    def by_number(self) -> Mapping[str, NumberOrderResult]:
        return {r.e164: r for r in self.results}

    def numbers(self, outcome: OrderOutcome) -> list[str]:
        return [r.e164 for r in self.results if r.outcome is outcome]


@dataclass(frozen=True, slots=True)
class CarrierQuote:
    """The carrier's own price for buying numbers, and those it activated at once.

    Kazoo's 402 is a dry run only when the change costs money: an activation
    that costs nothing is carried out straight away, so `activated` lists the
    numbers that are already bought (record them as bought, bill nothing), and
    `refused` the numbers it would not activate, with its reason.
    """

    quote: Quote
    activated: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    # The carrier priced the change itself (Kazoo's 402 invoices). When False the
    # service prices it from the bot's own plan.
    priced: bool = False


@dataclass(frozen=True, slots=True)
class E911Fault:
    """The e911 provider failed (not a judgement on the address); a retry may help."""

    message: str


@dataclass(frozen=True, slots=True)
class E911Charges:
    """The change costs money (Kazoo's 402 dry run): nothing was saved. Sent again
    with `accept_charges` once the person accepts `quote`."""

    quote: Quote


# What provisioning an address can end in. `E911Valid.address` carries the
# provider's result (status, coordinates, ZIP+4).
CarrierE911Outcome = E911Valid | E911Candidates | E911Invalid | E911Fault | E911Charges


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    e164: str
    # The state the carrier left it in: available, aging, released or deleted.
    state: CarrierNumberState
    # The routes it was taken out of, so the mirror can be told.
    unrouted_from: tuple[RouteTarget, ...] = field(default=())


# --------------------------------------------------------------------------- capabilities
#
# A carrier is the capabilities it brings (`Carrier` below): every carrier sells
# numbers; holding them, ringing them, listing an account's inventory and naming
# people are optional. The service asks for a capability (`deps.carrier.holds is None`),
# never which carrier it is. What a new carrier implements:
# docs/decisions/carrier-contract.md.


@runtime_checkable
class NumberSupplier(Protocol):
    """Every carrier: sells numbers, says who has one, takes it back, and its e911."""

    name: str

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        """Numbers offered for an area code, NPA-NXX or toll-free prefix, a page at a time.

        `account_id` is the account that will buy (its own reserved stock shows too).
        """
        ...

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        """The carrier's own price for buying these numbers (see `CarrierQuote`)."""
        ...

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        """Buy numbers, with an outcome per number.

        Repeating an order with the same key never buys or bills twice
        (`bot.backends.orders.OrderMemory` keeps that promise for any carrier).
        Raises `NotEnoughCredit` when the account cannot pay (nothing bought).
        A number whose outcome is UNKNOWN must be reconciled with
        `number_status` before it is recorded as bought or failed.
        """
        ...

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        """What the carrier says about a number now; reconciles unknown outcomes."""
        ...

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        """Validate and provision an emergency address on the number in one call.

        Without `accept_charges` a change that costs money is not made: `E911Charges`.
        """
        ...

    async def remove_e911(self, e164: str, *, account_id: str) -> None: ...

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        """Take the number out of every route, then give it back to the carrier."""
        ...

    async def close(self) -> None:
        """Release connections; the carrier is not used afterwards."""
        ...


@runtime_checkable
class Holds(Protocol):
    """Optional: the carrier holds a number for an account while a purchase is decided.

    Without it the bot's own hold (in its database) is the only one, and a number may
    be sold to someone else before the order: the order then says so.
    """

    async def reserve(self, e164: str, *, account_id: str) -> None:
        """Hold a number for the account. Raises `NumberConflict` if it is taken.

        The carrier may keep no expiry: the bot's database keeps the hold's end
        and calls `release_reservation` when it passes.
        """
        ...

    async def release_reservation(self, e164: str, *, account_id: str) -> None:
        """Give a held number back. A number no longer held is not an error."""
        ...


@runtime_checkable
class PhoneSystem(Protocol):
    """Optional: numbers ring somewhere at the carrier (Kazoo's callflows and accounts).

    Without it an assignment is the bot's record alone, and numbers stay on the
    account that bought them.
    """

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        """Make the number ring `target`, taking it out of any other route first."""
        ...

    async def unroute(self, e164: str, *, account_id: str) -> None:
        """Take the number out of every route (it becomes spare)."""
        ...

    async def routes(self, *, account_id: str) -> Mapping[str, RouteTarget]:
        """Where each routed number of the account rings, for the inventory sync."""
        ...

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]: ...

    async def accounts(self) -> Sequence[CarrierAccount]:
        """The accounts the bot may offer for channels and moves (Kazoo: its own
        account first, then the sub-accounts)."""
        ...

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        """Move an owned number to another account (out of the old account's routes)."""
        ...


@runtime_checkable
class InventorySource(Protocol):
    """Optional: the carrier is the system of record and the database its copy.

    With it the inventory sync (`bot/service/inventory_sync.py`) reads each
    account's numbers from here; without it the database is the record.
    """

    async def list_numbers(
        self, *, account_id: str, start_key: str | None = None, page_size: int = 500
    ) -> OwnedPage:
        """The account's numbers, a page at a time, for the full sync."""
        ...

    async def e911_of(self, e164: str, *, account_id: str) -> E911Address | None:
        """The emergency address stored on the number, or None."""
        ...


@runtime_checkable
class Directory(Protocol):
    """Optional: the carrier rings people as users of its own (Kazoo's users).

    Without it a person's route names the bot's person id as it is.
    """

    async def carrier_user(self, person_id: str, *, account_id: str) -> str:
        """The carrier user's id for a person; `InvalidInput` on the `target` field
        when there is none, so the person is told what to fix."""
        ...


@runtime_checkable
class E911Pricing(Protocol):
    """Optional: the carrier says what e911 on a number will cost, before it is set.

    Without it the modal says the service plan's e911 price.
    """

    async def quote_e911(self, e164: str, *, account_id: str) -> Rate | None: ...


_Part = TypeVar("_Part")


class Guard(Protocol):
    """Wraps one capability so each call is checked (`bot.backends.guard.CarrierGuard`)."""

    def wrap(self, part: _Part) -> _Part: ...


@dataclass(frozen=True, slots=True)
class Carrier:
    """The capabilities one carrier brings; `bot/bootstrap.py` chooses each once."""

    supplier: NumberSupplier
    holds: Holds | None = None
    phone_system: PhoneSystem | None = None
    inventory: InventorySource | None = None
    directory: Directory | None = None
    e911_pricing: E911Pricing | None = None
    # The carrier prices e911 by its own plan and asks for the charges to be accepted
    # when an address is saved (Kazoo's 402, `E911Charges`): the bot's plan says nothing.
    charges_e911_at_save: bool = False

    @property
    def name(self) -> str:
        return self.supplier.name

    def guarded(self, guard: Guard) -> Carrier:
        """The same capabilities, each call going through `guard`. The directory is
        not wrapped: it calls the guarded phone system itself."""
        return Carrier(
            guard.wrap(self.supplier),
            None if self.holds is None else guard.wrap(self.holds),
            None if self.phone_system is None else guard.wrap(self.phone_system),
            None if self.inventory is None else guard.wrap(self.inventory),
            self.directory,
            None if self.e911_pricing is None else guard.wrap(self.e911_pricing),
            self.charges_e911_at_save,
        )

    async def close(self) -> None:
        await self.supplier.close()
