"""The purchase use cases on in-memory ports: the unit of work is tests/unit/fakes.py, the
carrier the embedded simulation, the notifier a recorder. No SQL, no Slack.

Each test is one use case, given a world, asserting on what the service left in the
"database" and whom it told: the service tier's contract, apart from the storage's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.backends.carrier import Carrier
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings, Settings
from bot.domain.assignment import Assignment
from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.phone import Kind, SearchQuery
from bot.domain.records import AccountInfo, PurchaseRequestRecord
from bot.domain.refusals import StaleRequest
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.accounts import AccountService
from bot.service.context import Actor, Deps
from bot.service.numbers import NumberService
from bot.service.ports import CardPlace, Reply
from bot.service.purchase import PurchaseService
from bot.service.purchase.notify import NO_DECIDER
from bot.service.purchase.tell import NobodyListens
from tests.unit.fakes import FakeStore

WS = "T1"
MAIN = AccountInfo("acc-main", WS, "Main")
ADMIN = Actor("UADMIN", WS, is_admin=True)
ADMIN2 = Actor("UADMIN2", WS, is_admin=True, is_approver=True)
MANAGER = Actor("UMGR", WS, is_approver=True)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Recorder(NobodyListens):
    """The notifier port, recording who was told what."""

    def __init__(self, approvers: Sequence[str] = ("UMGR",)) -> None:
        self.people = list(approvers)
        self.told: list[tuple[str, str, RequestState]] = []

    async def approvers(self, workspace_id: str) -> Sequence[str]:
        return self.people

    async def show_billing(self, request: PurchaseRequestRecord, reply: Reply) -> CardPlace | bool:
        self.told.append(("billing", request.requester_id, request.state))
        return ("C1", "1.0")

    async def show_approval(
        self, request: PurchaseRequestRecord, deciders: Sequence[str]
    ) -> list[CardPlace]:
        self.told += [("approval", u, request.state) for u in deciders]
        return [(f"D-{u}", "2.0") for u in deciders]

    async def tell_moved(self, request: PurchaseRequestRecord) -> None:
        self.told.append(("moved", request.requester_id, request.state))

    async def tell_bought(self, request: PurchaseRequestRecord) -> None:
        self.told.append(("bought", request.requester_id, request.state))


class World:
    def __init__(self, *, approvals: str = "always", approvers: Sequence[str] = ("UMGR",)):
        self.clock = Clock()
        self.store = FakeStore()
        self.store.add_account(MAIN, default=True)
        stock = SimulatedCarrier(
            CarrierSettings(seed="unit", inventory_per_prefix=20, activation_delay_seconds=0)
        )
        self.carrier = SimCarrier(stock, PlanSettings().to_plan())
        settings = Settings(
            approvers=["UMGR", "UADMIN2"],
            approvals={"mode": approvals},
        )
        ids = iter(f"req-{i}" for i in range(1, 100))
        self.deps = Deps(
            uow=self.store,
            # The simulated carrier sells, holds and rings numbers (as bootstrap wires it).
            carrier=Carrier(self.carrier, holds=self.carrier, phone_system=self.carrier),
            settings=settings,
            clock=self.clock,
            ids=lambda: next(ids),
        )
        accounts = AccountService(self.deps)
        self.purchases = PurchaseService(self.deps, accounts, NumberService(self.deps, accounts))
        self.told = Recorder(approvers)
        self.purchases.connect(self.told)

    async def offered(self, quantity: int = 2) -> list[str]:
        page = await self.carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=quantity)
        return [o.e164 for o in page.offers]

    async def quoted(self, quantity: int = 2) -> PurchaseRequestRecord:
        numbers = await self.offered(quantity)
        return await self.purchases.request_purchase(
            ADMIN, numbers, Assignment.main(), reply=Reply(channel_id="C1")
        )

    def number(self, e164: str) -> NumberState:
        return self.store.tables.numbers[e164].state

    def actions(self, request_id: str) -> list[str]:
        return [e.action for e in self.store.tables.audit if e.request_id == request_id]


async def test_request_holds_the_numbers_and_shows_the_requester_the_card() -> None:
    w = World()
    request = await w.quoted()
    assert request.state is RequestState.QUOTED
    assert all(w.number(n) is NumberState.RESERVED for n in request.numbers)
    assert w.actions(request.id) == ["request.created", "number.held", "number.held"]
    assert w.told.told == [("billing", ADMIN.user_id, RequestState.QUOTED)]
    stored = w.store.tables.requests[request.id]
    assert (stored.channel_id, stored.message_ts) == ("C1", "1.0")  # redrawn in place later


async def test_accept_asks_each_approver_who_may_decide_and_keeps_the_holds() -> None:
    w = World(approvers=["UMGR", "UADMIN"])
    request = await w.quoted()
    accepted = await w.purchases.accept(ADMIN, request.id, Reply())
    assert accepted.needs_approval
    assert accepted.request.state is RequestState.AWAITING_APPROVAL
    # Four eyes: the requester, who also accepted, is not asked.
    assert [t for t in w.told.told if t[0] == "approval"] == [
        ("approval", "UMGR", RequestState.AWAITING_APPROVAL)
    ]
    assert w.store.tables.requests[request.id].approval_cards == (("D-UMGR", "2.0"),)
    assert all(w.number(n) is NumberState.RESERVED for n in request.numbers)


async def test_accept_with_nobody_to_decide_cancels_and_gives_the_numbers_back() -> None:
    w = World(approvers=["UADMIN"])  # only the requester could approve
    request = await w.quoted()
    await w.purchases.accept(ADMIN, request.id, Reply())
    stored = w.store.tables.requests[request.id]
    assert (stored.state, stored.reason) == (RequestState.CANCELLED, NO_DECIDER)
    assert all(w.number(n) is NumberState.AVAILABLE for n in request.numbers)
    assert ("moved", ADMIN.user_id, RequestState.CANCELLED) in w.told.told


async def test_approve_buys_every_number_and_tells_the_requester() -> None:
    w = World()
    request = await w.quoted()
    await w.purchases.accept(ADMIN, request.id, Reply())
    done = await w.purchases.approve(MANAGER, request.id, Reply())
    assert done.state is RequestState.COMPLETED
    assert all(w.number(n) is NumberState.IN_SERVICE for n in request.numbers)
    assert all(w.store.tables.numbers[n].assignment == Assignment.main() for n in request.numbers)
    assert w.actions(request.id)[-1] == "request.provisioned"
    assert w.told.told[-1] == ("bought", ADMIN.user_id, RequestState.COMPLETED)


async def test_who_accepted_may_not_approve() -> None:
    w = World()
    request = await w.quoted()
    await w.purchases.accept(ADMIN2, request.id)  # an admin who is also an approver
    with pytest.raises(NotAllowed, match="You accepted this request"):
        await w.purchases.approve(ADMIN2, request.id)
    assert w.store.tables.requests[request.id].state is RequestState.AWAITING_APPROVAL


async def test_reject_gives_the_numbers_back_and_a_second_click_is_stale() -> None:
    w = World()
    request = await w.quoted()
    await w.purchases.accept(ADMIN, request.id)
    rejected = await w.purchases.reject(MANAGER, request.id, "  not  this month ", Reply())
    assert (rejected.state, rejected.reason) == (RequestState.REJECTED, "not this month")
    assert all(w.number(n) is NumberState.AVAILABLE for n in request.numbers)
    assert ("moved", ADMIN.user_id, RequestState.REJECTED) in w.told.told
    with pytest.raises(StaleRequest) as stale:
        await w.purchases.approve(MANAGER, request.id)
    assert stale.value.request.decided_by == MANAGER.user_id


async def test_expire_gives_back_lapsed_holds_once_and_tells_the_requester() -> None:
    w = World()
    request = await w.quoted()
    w.clock.now += timedelta(minutes=w.deps.settings.holds.quote_minutes + 1)
    [expired] = await w.purchases.expire_holds()
    assert expired.state is RequestState.EXPIRED
    assert all(w.number(n) is NumberState.AVAILABLE for n in request.numbers)
    assert ("moved", ADMIN.user_id, RequestState.EXPIRED) in w.told.told
    assert await w.purchases.expire_holds() == []  # a second sweep finds nothing


async def test_provision_with_a_failing_number_buys_the_rest() -> None:
    w = World(approvals="never")
    request = await w.quoted(3)
    bad = request.numbers[1]
    w.carrier.fail(bad, "the carrier refused it")
    accepted = await w.purchases.accept(ADMIN, request.id, Reply())  # no approval: bought now
    assert not accepted.needs_approval
    done = w.store.tables.requests[request.id]
    assert done.state is RequestState.PARTIALLY_COMPLETED
    [failed] = done.items_with(ItemOutcome.FAILED)
    assert (failed.number, failed.reason) == (bad, "the carrier refused it")
    assert w.number(bad) is NumberState.AVAILABLE  # its hold was given back
    assert [w.number(n) for n in request.numbers if n != bad] == [NumberState.IN_SERVICE] * 2
    assert "number.purchase_failed" in w.actions(request.id)
    assert w.told.told[-1] == ("bought", ADMIN.user_id, RequestState.PARTIALLY_COMPLETED)


async def test_a_submission_is_quoted_once_and_given_back_if_it_fails_unanswered() -> None:
    w = World()
    numbers = await w.offered(1)
    answers: list[str] = []

    async def answer(request: PurchaseRequestRecord) -> None:
        answers.append(request.id)

    reply = Reply(channel_id="C1", answer=answer)
    with pytest.raises(InvalidInput):  # nothing quoted: the claim goes back
        await w.purchases.submit(ADMIN, ["+1415"], Assignment.main(), key="v1:h", reply=reply)
    first = await w.purchases.submit(ADMIN, numbers, Assignment.main(), key="v1:h", reply=reply)
    again = await w.purchases.submit(ADMIN, numbers, Assignment.main(), key="v1:h", reply=reply)
    assert first is not None and again is None  # the repeated delivery does nothing
    assert answers == [first.id] and len(w.store.tables.requests) == 1
