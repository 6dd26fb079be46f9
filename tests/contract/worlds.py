"""One carrier and what a test may do behind its back, for each implementation.

A `World` is a carrier plus the faults and readings its stand-in offers, named
the same way for both: the simulated carrier (`SimCarrier`) and Kazoo
(`KazooCarrier` against the stand-in Kazoo on a loopback port). The contract
cases use only the `Carrier` protocol and these few methods, so a case that
passes on both states one promise. Where the two genuinely differ, the world
says how (`quote_names_owned_when_charging`, `released_state`,
`move_bills_destination`, `invalid_zip_field`) and the
case asserts the difference in the open.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal

from bot.backends.carrier import (
    Carrier,
    CarrierAccount,
    CarrierNumberState,
    CarrierUser,
    OrderOutcome,
)
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.kazoo import KazooCarrier
from bot.backends.kazoo_client import Backoff
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings
from bot.domain.billing import Rate, ServicePlan
from bot.domain.e911 import E911Address
from bot.domain.phone import Kind, SearchQuery
from tests.kazoo_standin import API_KEY, CHILD_A, CHILD_B, ROOT, KazooStandIn, Number, running

ACCOUNT = CHILD_A
OTHER = CHILD_B
# The carrier's own account first, then its sub-accounts.
ACCOUNTS = (
    CarrierAccount(ROOT, "Reseller"),
    CarrierAccount(CHILD_A, "Acme West"),
    CarrierAccount(CHILD_B, "Acme East"),
)
ALICE = f"{CHILD_A}-user-alice"
BOB = f"{CHILD_A}-user-bob"
STOCK_PER_PREFIX = 40

ADDRESS = E911Address(
    street_address="116 Natoma St",
    locality="San Francisco",
    region="CA",
    postal_code="94105",
    caller_name="Acme West",
)


class World(ABC):
    name: str
    carrier: Carrier
    # A carrier whose next order can be made to time out; for the simulated
    # carrier the same instance, for Kazoo one with a short timeout.
    quick: Carrier
    # Whether a quote that costs money names the numbers the account already owns.
    quote_names_owned_when_charging: bool
    # The state a released number is left in at the carrier.
    released_state: CarrierNumberState
    # Whether moving a number charges its activation again, to the destination.
    move_bills_destination: bool
    # The field an address with a ZIP code nobody has is reported on.
    invalid_zip_field: str

    @abstractmethod
    def fail_number(self, e164: str, reason: str) -> None:
        """Every order of `e164` fails with `reason`, a failure a retry may cure."""

    @abstractmethod
    def time_out_next_order(self, *, went_through: bool) -> None:
        """The next order on `quick` gets no answer; the carrier acted or did not."""

    @abstractmethod
    def e911_fault(self) -> E911Address:
        """An address whose provisioning the e911 provider fails (not a verdict)."""

    @abstractmethod
    def times_sold(self, e164: str) -> int:
        """How many times the carrier billed the number's activation."""

    @abstractmethod
    def unringable_user(self) -> str:
        """A user id of the account that the carrier cannot ring."""

    # --- steps the cases share ------------------------------------------------------

    async def offered(
        self, prefix: str = "415", quantity: int = 1, kind: Kind = Kind.LOCAL
    ) -> list[str]:
        query = SearchQuery(kind, prefix[:3], prefix[3:] or None)
        page = await self.carrier.search(query, quantity=quantity)
        assert len(page.offers) == quantity
        return [o.e164 for o in page.offers]

    # The prefix that offers `holdable` numbers.
    hold_prefix = "415"

    async def holdable(self, quantity: int = 1) -> list[str]:
        """Offered numbers the carrier itself can hold (`reserve`)."""
        return await self.offered(self.hold_prefix, quantity)

    async def bought(
        self, quantity: int = 1, *, account: str = ACCOUNT, prefix: str = "415"
    ) -> list[str]:
        numbers = await self.offered(prefix, quantity)
        result = await self.carrier.order(
            numbers, account_id=account, idempotency_key=f"buy-{numbers[0]}"
        )
        assert result.numbers(OrderOutcome.BOUGHT) == numbers
        return numbers


class SimWorld(World):
    name = "simulated"
    quote_names_owned_when_charging = True
    # The simulated carrier takes a number straight back; the bot's database ages it.
    released_state = CarrierNumberState.AVAILABLE
    invalid_zip_field = "postal_code"
    move_bills_destination = False

    def __init__(self) -> None:
        stock = SimulatedCarrier(
            CarrierSettings(seed="contract", inventory_per_prefix=STOCK_PER_PREFIX)
        )
        # The stand-in Kazoo's price list, so the quotes can be compared figure by figure.
        plan = ServicePlan(
            "USD",
            {
                Kind.LOCAL: Rate(Decimal("1.00"), Decimal("0.50")),
                Kind.TOLLFREE: Rate(Decimal("2.00"), Decimal("0.50")),
            },
            Rate(Decimal("0")),
        )
        users = {
            CHILD_A: (
                CarrierUser(ALICE, "alice@example.com", "Alice", "Able"),
                CarrierUser(BOB, "bob@example.com", "Bob", "Baker"),
            )
        }
        self.sim = SimCarrier(stock, plan, accounts=ACCOUNTS, users=users)
        self.carrier = self.quick = self.sim

    def fail_number(self, e164: str, reason: str) -> None:
        self.sim.fail(e164, reason)

    def time_out_next_order(self, *, went_through: bool) -> None:
        self.sim.time_out_next_order(went_through=went_through)

    def e911_fault(self) -> E911Address:
        self.sim.fail_next_e911("the e911 provider did not answer")
        return ADDRESS

    def times_sold(self, e164: str) -> int:
        return self.sim.times_sold(e164)

    def unringable_user(self) -> str:
        return f"{CHILD_A}-user-nobody"  # not in the account's directory


class NoSleep:
    """Backoff waits cost no time here."""

    async def __call__(self, seconds: float) -> None:
        return None


class KazooWorld(World):
    name = "kazoo"
    # Kazoo answers a paid dry run with its 402 only, naming no number.
    quote_names_owned_when_charging = False
    # The stand-in ages released numbers, as Kazoo does where aging is configured.
    released_state = CarrierNumberState.AGING
    # Kazoo's 400 `invalid` names no field: the Kazoo carrier puts it on the street.
    invalid_zip_field = "street_address"
    # A move is an activation on the destination account, with `accept_charges`.
    move_bills_destination = True

    def __init__(self, standin: KazooStandIn) -> None:
        self.standin = standin
        # Aging configured (`should_age`; Kazoo's default releases to available), and a
        # plan that prices numbers only, like the simulated carrier's.
        standin.model.should_age = True
        standin.model.user_rate = Decimal("0")
        self.carrier = self._connect(timeout=2.0)
        # Short enough to keep a hung order cheap, long enough for a loaded machine's
        # other calls on it to answer in time.
        self.quick = self._connect(timeout=1.0)

    def _connect(self, *, timeout: float) -> KazooCarrier:
        backoff = Backoff(attempts=4, base=0.2, cap=2.0, sleep=NoSleep(), rng=random.Random(7))
        return KazooCarrier.connect(
            self.standin.url, API_KEY, ROOT, timeout=timeout, backoff=backoff
        )

    async def close(self) -> None:
        await self.carrier.close()
        await self.quick.close()

    def fail_number(self, e164: str, reason: str) -> None:
        self.standin.fail_number(e164, message=reason)

    hold_prefix = "415555"

    async def holdable(self, quantity: int = 1) -> list[str]:
        """Kazoo reserves only numbers of its numbers database (an inventory pool):
        a number an upstream carrier offered lives in the search cache only (B1)."""
        pool = [f"+1415555{i:04d}" for i in range(quantity)]
        for e164 in pool:
            self.standin.model.numbers[e164] = Number(e164, "available", module="knm_inventory")
        offered = await self.offered(self.hold_prefix, quantity)
        assert offered == pool
        return offered

    def time_out_next_order(self, *, went_through: bool) -> None:
        self.standin.hang_next("PUT", "collection/activate", apply=went_through)

    def e911_fault(self) -> E911Address:
        return replace(ADDRESS, street_address="116 Fault St")

    def times_sold(self, e164: str) -> int:
        return sum(1 for _, number, _ in self.standin.model.charges if number == e164)

    def unringable_user(self) -> str:
        return BOB  # a Kazoo user with no callflow of their own


@asynccontextmanager
async def kazoo_world() -> AsyncIterator[KazooWorld]:
    async with running() as standin:
        world = KazooWorld(standin)
        try:
            yield world
        finally:
            await world.close()
    # Every body the carrier sent matched Kazoo's schemas.
    assert standin.schema_errors == []
