"""`SimCarrier`: the simulated carrier behind the narrow `Carrier` interface.

Stock, the e911 geocoder and the per-number order decision (forced failures,
the failure rate, latency) are those of `SimulatedCarrier`; this module adds
what a real carrier keeps on its side: holds and the account holding them,
the numbers it sold and to whom, where each rings, e911 on numbers, and the
numbers released back to it. Like Kazoo it never sees the bot's database,
and it answers in the same typed values, so the contract suite in
`tests/contract/` runs the same cases against both.

Faults for tests and drills: `fail` (every order of a number fails with a
reason), `time_out_next_order` (the next order gets no answer, after the
carrier acted or before), `fail_next_e911` (the provider fails once).
The choices are written down in docs/decisions/carrier-contract.md.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.backends.carrier import (
    Carrier,
    CarrierAccount,
    CarrierE911Outcome,
    CarrierNumberState,
    CarrierQuote,
    CarrierUser,
    E911Fault,
    NotFoundAtCarrier,
    NumberConflict,
    NumberOrderResult,
    NumberStatus,
    Offer,
    OrderOutcome,
    OrderResult,
    OwnedPage,
    ReleaseResult,
    RouteTarget,
    SearchPage,
)
from bot.backends.carrier_sim import CarrierError, SimulatedCarrier
from bot.domain.assignment import Assignment, AssignmentKind, has_room, is_limited
from bot.domain.billing import ServicePlan, quote_purchase
from bot.domain.e911 import E911Address, E911Valid
from bot.domain.phone import Kind, SearchQuery, kind_of
from bot.keyed_locks import KeyedLocks

REMEMBERED_ORDERS = 10_000
# What a routed number's `used_by` says, as on Kazoo, so a mirror reads both alike.
ROUTED_BY = "callflow"
_OWNED = CarrierNumberState.IN_SERVICE


@dataclass
class _Number:
    """One number the carrier has handed out: held, or sold to an account."""

    state: CarrierNumberState
    account_id: str
    route: RouteTarget | None = None
    e911: E911Address | None = None


@dataclass(frozen=True, slots=True)
class Sale:
    """One number sold (and billed) to an account; a number sold twice shows twice."""

    account_id: str
    e164: str
    idempotency_key: str


@dataclass
class _Faults:
    # None: orders are answered; True/False: the next order times out after/before acting.
    order_timeout: bool | None = None
    e911: list[str] = field(default_factory=list)


class SimCarrier:
    """The `Carrier` protocol over the simulated stock. One instance per process."""

    name = "simulated"

    def __init__(
        self,
        stock: SimulatedCarrier,
        plan: ServicePlan,
        *,
        accounts: Sequence[CarrierAccount] = (),
        users: Mapping[str, Sequence[CarrierUser]] | None = None,
    ) -> None:
        self.stock = stock
        self.plan = plan
        self._accounts = tuple(accounts)
        self._users = {a: tuple(u) for a, u in (users or {}).items()}
        self._numbers: dict[str, _Number] = {}
        self.sales: list[Sale] = []
        # Numbers given back, newest last, with the account that gave them back.
        self.released: list[tuple[str, str]] = []
        self._orders: OrderedDict[str, OrderResult] = OrderedDict()
        self._order_locks = KeyedLocks()
        self._faults = _Faults()

    # --- faults --------------------------------------------------------------------

    def fail(self, e164: str, reason: str = "carrier rejected the order") -> None:
        """Every order of `e164` fails with `reason` (a retry may help)."""
        self.stock.fail(e164, reason)

    def heal(self, e164: str) -> None:
        self.stock.heal(e164)

    def time_out_next_order(self, *, went_through: bool) -> None:
        """The next order gets no answer; the carrier carried it out or not."""
        self._faults.order_timeout = went_through

    def fail_next_e911(self, message: str = "the e911 provider did not answer") -> None:
        self._faults.e911.append(message)

    # --- the bot's database tells it what it forgot ----------------------------------

    def adopt(
        self,
        e164: str,
        account_id: str,
        assignment: Assignment | None = None,
        e911: E911Address | None = None,
    ) -> None:
        """Know `e164` as the account's (with its route and address), as sold before.

        Its state is in memory only: after a restart the bot's database, the system
        of record in embedded mode, tells it again what each account owns.
        """
        route = RouteTarget.of(assignment) if assignment is not None else None
        self._numbers[e164] = _Number(_OWNED, account_id, route, e911)

    # --- stock ---------------------------------------------------------------------

    def _taken(self, e164: str) -> bool:
        return e164 in self._numbers

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        stock = await self.stock.search(query)
        free = [n for n in stock if not self._taken(n)]
        page = free[offset : offset + quantity]
        # As on Kazoo, `offset` counts free numbers and a full page may have more behind it.
        next_offset = offset + len(page) if page and len(page) >= quantity else None
        return SearchPage(tuple(Offer(n, query.kind) for n in page), next_offset)

    async def reserve(self, e164: str, *, account_id: str) -> None:
        held = self._numbers.get(e164)
        if held is None:
            if not self.stock.offers(e164):
                raise NotFoundAtCarrier(
                    "The carrier does not offer this number.",
                    number=e164,
                    carrier_message="not offered",
                )
            self._numbers[e164] = _Number(CarrierNumberState.RESERVED, account_id)
            return
        if held.state is CarrierNumberState.RESERVED and held.account_id == account_id:
            return
        raise self._conflict(e164, held, "reserved")

    async def release_reservation(self, e164: str, *, account_id: str) -> None:
        held = self._numbers.get(e164)
        # Only a hold is given back: a number bought meanwhile is never released here.
        if held and held.state is CarrierNumberState.RESERVED and held.account_id == account_id:
            del self._numbers[e164]

    @staticmethod
    def _conflict(e164: str, held: _Number, wanted: str) -> NumberConflict:
        said = f"from {held.state.value} to {wanted}"
        return NumberConflict(
            f"The carrier refused: the number is {held.state.value.replace('_', ' ')}.",
            number=e164,
            carrier_message=said,
        )

    # --- buying --------------------------------------------------------------------

    def _owned_counts(self, account_id: str) -> tuple[dict[Kind, int], int]:
        counts = dict.fromkeys(Kind, 0)
        e911 = 0
        for e164, number in self._numbers.items():
            if number.account_id == account_id and number.state is _OWNED:
                counts[kind_of(e164)] += 1
                e911 += number.e911 is not None
        return counts, e911

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        """The plan's price for the numbers not yet the account's. Never buys anything."""
        already: list[str] = []
        refused: list[tuple[str, str]] = []
        new = dict.fromkeys(Kind, 0)
        for e164 in numbers:
            held = self._numbers.get(e164)
            if held and held.account_id == account_id and held.state is _OWNED:
                already.append(e164)
            elif held and held.account_id != account_id:
                refused.append((e164, self._conflict(e164, held, "in_service").reason))
            elif not self.stock.offers(e164):
                refused.append((e164, "The carrier does not offer this number."))
            else:
                new[kind_of(e164)] += 1
        owned, e911 = self._owned_counts(account_id)
        before = self.plan.monthly_total(owned, e911)
        return CarrierQuote(
            quote_purchase(self.plan, before, new), activated=tuple(already), refused=tuple(refused)
        )

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        # One order per key at a time: a concurrent repeat waits and gets the result.
        async with self._order_locks.hold(idempotency_key):
            return await self._order(numbers, account_id, idempotency_key)

    async def _order(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        previous = self._orders.get(key)
        if previous is not None:
            unknown = previous.numbers(OrderOutcome.UNKNOWN)
            if not unknown:
                return previous
            # Settle what got no answer, and send again only what was not bought.
            merged = dict(previous.by_number())
            retry = []
            for e164 in unknown:
                status = await self.number_status(e164, account_id=account_id)
                if status.owned_by(account_id):
                    merged[e164] = NumberOrderResult(e164, OrderOutcome.BOUGHT)
                else:
                    retry.append(e164)
            if retry:
                merged.update((await self._sell(retry, account_id, key)).by_number())
            result = OrderResult(key, tuple(merged[n] for n in previous.by_number()))
        else:
            result = await self._sell(list(numbers), account_id, key)
        self._orders[key] = result
        self._orders.move_to_end(key)
        while len(self._orders) > REMEMBERED_ORDERS:
            self._orders.popitem(last=False)
        return result

    async def _sell(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        timeout, self._faults.order_timeout = self._faults.order_timeout, None
        lost = OrderResult(key, tuple(NumberOrderResult(n, OrderOutcome.UNKNOWN) for n in numbers))
        if timeout is False:
            return lost  # lost on the way: the carrier never saw the order
        results = [await self._sell_one(e164, account_id, key) for e164 in numbers]
        # Carried out, but the answer was lost on the way back.
        return lost if timeout else OrderResult(key, tuple(results))

    async def _sell_one(self, e164: str, account_id: str, key: str) -> NumberOrderResult:
        held = self._numbers.get(e164)
        if held and held.account_id == account_id and held.state is _OWNED:
            # Already the account's: bought, and not billed again (as on Kazoo).
            return NumberOrderResult(e164, OrderOutcome.BOUGHT)
        if held and held.account_id != account_id:
            return self._refused(e164, held)
        try:
            await self.stock.order(e164, key)
        except CarrierError as exc:
            return NumberOrderResult(e164, OrderOutcome.FAILED, exc.reason, exc.retryable)
        # The stock's order awaits: another order may have taken the number meanwhile.
        held = self._numbers.get(e164)
        if held and held.account_id != account_id:
            return self._refused(e164, held)
        if held and held.state is _OWNED:
            return NumberOrderResult(e164, OrderOutcome.BOUGHT)
        self._numbers[e164] = _Number(_OWNED, account_id)
        self.sales.append(Sale(account_id, e164, key))
        return NumberOrderResult(e164, OrderOutcome.BOUGHT)

    def _refused(self, e164: str, held: _Number) -> NumberOrderResult:
        reason = self._conflict(e164, held, "in_service").reason
        return NumberOrderResult(e164, OrderOutcome.FAILED, reason, False)

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        held = self._numbers.get(e164)
        # As on Kazoo, an account sees only its own numbers.
        if held is None or held.account_id != account_id:
            return NumberStatus(e164, CarrierNumberState.UNKNOWN)
        return self._status(e164, held)

    @staticmethod
    def _status(e164: str, held: _Number) -> NumberStatus:
        features = {"local"} if kind_of(e164) is Kind.LOCAL and held.state is _OWNED else set()
        if held.e911 is not None:
            features.add("e911")
        return NumberStatus(
            e164,
            held.state,
            account_id=held.account_id,
            used_by=ROUTED_BY if held.route else "",
            features=frozenset(features),
        )

    def _owned(self, e164: str, account_id: str) -> _Number:
        held = self._numbers.get(e164)
        if held is None or held.account_id != account_id or held.state is not _OWNED:
            raise NotFoundAtCarrier(
                "The carrier does not have this number on the account.",
                number=e164,
                carrier_message="not the account's number",
            )
        return held

    # --- e911 ----------------------------------------------------------------------

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        self._owned(e164, account_id)
        if self._faults.e911:
            return E911Fault(self._faults.e911.pop(0))
        outcome = await self.stock.geocode(address)
        if isinstance(outcome, E911Valid):
            # Looked up again: the number may have been released while the geocoder ran.
            self._owned(e164, account_id).e911 = outcome.address
        return outcome

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        self._owned(e164, account_id).e911 = None

    # --- routing -------------------------------------------------------------------

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        number = self._owned(e164, account_id)
        if number.route == target:
            return
        if is_limited(target.kind):
            there = [n for n, t in self._routes(account_id).items() if t == target and n != e164]
            if not has_room(target.kind, len(there)):
                raise NumberConflict(
                    f"The {target.kind.value} already answers on {there[0]}.",
                    number=e164,
                    carrier_message=f"{target.kind.value} holds {there[0]}",
                )
        # An account given a directory rings only its own people; without one, any id goes.
        directory = self._users.get(account_id)
        known = {u.id for u in directory} if directory is not None else None
        if (
            target.kind is AssignmentKind.USER
            and known is not None
            and target.owner_id not in known
        ):
            said = "The carrier has no such user on the account."
            raise NumberConflict(said, number=e164, carrier_message=said)
        number.route = target

    async def unroute(self, e164: str, *, account_id: str) -> None:
        self._owned(e164, account_id).route = None

    def _routes(self, account_id: str) -> dict[str, RouteTarget]:
        return {
            e164: number.route
            for e164, number in self._numbers.items()
            if number.account_id == account_id and number.route is not None
        }

    async def routes(self, *, account_id: str) -> Mapping[str, RouteTarget]:
        return self._routes(account_id)

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]:
        return self._users.get(account_id, ())

    # --- moving and releasing ------------------------------------------------------

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        number = self._owned(e164, from_account_id)
        # Out of the old account's routes first; it arrives as a spare.
        number.route = None
        number.account_id = to_account_id

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        number = self._owned(e164, account_id)
        left = (number.route,) if number.route else ()
        # Back into the stock: the bot's database, not the carrier, ages a released number.
        del self._numbers[e164]
        self.released.append((e164, account_id))
        return ReleaseResult(e164, CarrierNumberState.AVAILABLE, left)

    # --- the mirror ----------------------------------------------------------------

    async def list_numbers(
        self, *, account_id: str, start_key: str | None = None, page_size: int = 500
    ) -> OwnedPage:
        mine = sorted(
            (e164, n)
            for e164, n in self._numbers.items()
            if n.account_id == account_id and (start_key is None or e164 >= start_key)
        )
        page, rest = mine[:page_size], mine[page_size:]
        return OwnedPage(
            tuple(self._status(e164, n) for e164, n in page), rest[0][0] if rest else None
        )

    async def accounts(self) -> Sequence[CarrierAccount]:
        return self._accounts

    async def close(self) -> None:
        return None

    # --- what tests read -----------------------------------------------------------

    def times_sold(self, e164: str) -> int:
        return sum(1 for s in self.sales if s.e164 == e164)


if TYPE_CHECKING:
    # mypy checks here that SimCarrier keeps the Carrier protocol.
    _conforms: type[Carrier] = SimCarrier
