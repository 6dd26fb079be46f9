"""A carrier that only sells numbers, as Twilio, Telnyx or Bandwidth would.

It brings a `NumberSupplier` and nothing else: no holds, no phone system, no
inventory, no directory (docs/decisions/carrier-contract.md). Its upstream
(the numbers on offer and the e911 geocoder) is the simulated stock; what it
sold, to whom, and the e911 on each number it keeps itself. Its order memory
is the generic one every carrier uses (`bot.backends.orders.OrderMemory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.backends.carrier import (
    CarrierE911Outcome,
    CarrierNumberState,
    CarrierQuote,
    E911Fault,
    NotFoundAtCarrier,
    NumberOrderResult,
    NumberStatus,
    NumberSupplier,
    Offer,
    OrderOutcome,
    OrderResult,
    ReleaseResult,
    SearchPage,
)
from bot.backends.carrier_sim import CarrierError, SimulatedCarrier
from bot.backends.orders import OrderMemory
from bot.domain.billing import ServicePlan, quote_purchase
from bot.domain.e911 import E911Address, E911Valid
from bot.domain.phone import Kind, SearchQuery, kind_of


@dataclass(slots=True)
class _Sold:
    account_id: str
    e911: E911Address | None = None


@dataclass(slots=True)
class _Faults:
    # None: orders answer; True: carried out but the answer is lost; False: lost on the way.
    order_timeout: bool | None = None
    e911: list[str] = field(default_factory=list)


class NumbersOnlyCarrier:
    name = "numbers-only"

    def __init__(self, stock: SimulatedCarrier, plan: ServicePlan) -> None:
        self.stock = stock
        self.plan = plan
        self._sold: dict[str, _Sold] = {}
        self.sales: list[str] = []
        self.faults = _Faults()
        self._orders = OrderMemory(self._send, self._settle)

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        free = [n for n in await self.stock.search(query) if n not in self._sold]
        page = free[offset : offset + quantity]
        next_offset = offset + len(page) if page and len(page) >= quantity else None
        return SearchPage(tuple(Offer(n, query.kind) for n in page), next_offset)

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        owned = [n for n in numbers if self._owner(n) == account_id]
        refused = [
            (n, "The carrier does not offer this number.")
            for n in numbers
            if n not in owned and (n in self._sold or not self.stock.offers(n))
        ]
        new = dict.fromkeys(Kind, 0)
        for n in numbers:
            if n not in owned and n not in dict(refused):
                new[kind_of(n)] += 1
        mine = [n for n, s in self._sold.items() if s.account_id == account_id]
        counts = {k: sum(kind_of(n) is k for n in mine) for k in Kind}
        e911 = sum(self._sold[n].e911 is not None for n in mine)
        before = self.plan.monthly_total(counts, e911)
        return CarrierQuote(
            quote_purchase(self.plan, before, new), activated=tuple(owned), refused=tuple(refused)
        )

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        return await self._orders.order(numbers, account_id, idempotency_key)

    async def _send(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        timeout, self.faults.order_timeout = self.faults.order_timeout, None
        lost = OrderResult(key, tuple(NumberOrderResult(n, OrderOutcome.UNKNOWN) for n in numbers))
        if timeout is False:
            return lost
        results = [await self._sell(n, account_id, key) for n in numbers]
        return lost if timeout else OrderResult(key, tuple(results))

    async def _sell(self, e164: str, account_id: str, key: str) -> NumberOrderResult:
        owner = self._owner(e164)
        if owner == account_id:
            return NumberOrderResult(e164, OrderOutcome.BOUGHT)  # not billed again
        if owner is not None:
            return NumberOrderResult(e164, OrderOutcome.FAILED, "The number is sold.", False)
        try:
            await self.stock.order(e164, key)
        except CarrierError as exc:
            return NumberOrderResult(e164, OrderOutcome.FAILED, exc.reason, exc.retryable)
        self._sold[e164] = _Sold(account_id)
        self.sales.append(e164)
        return NumberOrderResult(e164, OrderOutcome.BOUGHT)

    async def _settle(self, numbers: Sequence[str], *, account_id: str) -> OrderResult:
        results = []
        for e164 in numbers:
            mine = self._owner(e164) == account_id
            outcome = OrderOutcome.BOUGHT if mine else OrderOutcome.FAILED
            results.append(NumberOrderResult(e164, outcome, retryable=not mine))
        return OrderResult("settle", tuple(results))

    def _owner(self, e164: str) -> str | None:
        sold = self._sold.get(e164)
        return None if sold is None else sold.account_id

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        sold = self._sold.get(e164)
        if sold is None or sold.account_id != account_id:
            return NumberStatus(e164, CarrierNumberState.UNKNOWN)
        features = {"e911"} if sold.e911 is not None else set()
        return NumberStatus(
            e164, CarrierNumberState.IN_SERVICE, account_id, features=frozenset(features)
        )

    def _mine(self, e164: str, account_id: str) -> _Sold:
        sold = self._sold.get(e164)
        if sold is None or sold.account_id != account_id:
            raise NotFoundAtCarrier("Not the account's number.", number=e164)
        return sold

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        self._mine(e164, account_id)
        if self.faults.e911:
            return E911Fault(self.faults.e911.pop(0))
        outcome = await self.stock.geocode(address)
        if isinstance(outcome, E911Valid):
            self._mine(e164, account_id).e911 = outcome.address
        return outcome

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        self._mine(e164, account_id).e911 = None

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        self._mine(e164, account_id)
        del self._sold[e164]
        return ReleaseResult(e164, CarrierNumberState.AVAILABLE)

    async def close(self) -> None:
        return None


# What it is: a supplier, checked by mypy wherever this module is checked.
_conforms: type[NumberSupplier] = NumbersOnlyCarrier
