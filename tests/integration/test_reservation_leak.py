"""Reservations at the carrier are per account; the bot's database decides who may buy.

Requests reserve at the carrier before writing their hold, so two requests of
one account share one reservation, and a reservation can exist for a moment
(or, if giving it back fails, for good) with no hold behind it. These cases
run those interleavings one step at a time on a real SQLite file: a number
must never become unsellable, and never be sold twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.backends.carrier import CarrierFault, CarrierNumberState
from bot.backends.sim_carrier import SimCarrier
from bot.bootstrap import Runtime, start
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict
from bot.domain.records import AccountInfo, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.context import Actor
from tests.conftest import ADMIN, WORKSPACE, FakeClock, make_settings


@dataclass(frozen=True, slots=True)
class Team:
    """An admin in a channel bound to its own account."""

    actor: Actor
    account: AccountInfo


@pytest.fixture
async def rt(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Runtime]:
    runtime = await start(make_settings(tmp_path, approvals={"mode": "never"}), clock=clock)
    yield runtime
    await runtime.close()


async def _teams(rt: Runtime) -> tuple[Team, Team, Team]:
    """Three accounts of one workspace: A (the default, C1), B (C2) and C (C3)."""
    accounts = rt.services.accounts
    boss = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id="C1")
    teams = [Team(boss, await accounts.for_channel(boss))]
    for name, channel in (("Team B", "C2"), ("Team C", "C3")):
        await accounts.create(boss, name)
        account = await accounts.use(boss, channel, name)
        teams.append(Team(Actor(f"UADM{channel}", WORKSPACE, True, channel_id=channel), account))
    return teams[0], teams[1], teams[2]


async def _pool(rt: Runtime, team: Team, count: int) -> list[str]:
    found = await rt.services.numbers.search(team.actor, "local", "415", quantity=count)
    return [n.e164 for n in found.available]


def _sim(rt: Runtime) -> SimCarrier:
    assert rt.carrier is not None
    return rt.carrier


async def _request(rt: Runtime, team: Team, numbers: list[str]) -> PurchaseRequestRecord:
    return await rt.services.purchases.request_purchase(team.actor, numbers, Assignment.main())


async def _buy(rt: Runtime, team: Team, request: PurchaseRequestRecord) -> PurchaseRequestRecord:
    accepted = await rt.services.purchases.accept(team.actor, request.id)
    assert not accepted.needs_approval
    return await rt.services.purchases.provision(request.id)


async def _state_at_carrier(rt: Runtime, number: str, team: Team) -> CarrierNumberState:
    return (await _sim(rt).number_status(number, account_id=team.account.id)).state


async def _owner_in_database(rt: Runtime, number: str) -> tuple[NumberState, str | None]:
    async with rt.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(number)
    assert record is not None
    return record.state, record.account_id


class Gate:
    """Holds the carrier's `reserve` of one number until opened: a request paused mid-way."""

    def __init__(self, sim: SimCarrier, number: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.number = number
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()
        original: Callable[..., Awaitable[None]] = sim.reserve

        async def reserve(e164: str, *, account_id: str) -> None:
            if e164 == number and not self.opened.is_set():
                self.reached.set()
                await self.opened.wait()
            await original(e164, account_id=account_id)

        monkeypatch.setattr(sim, "reserve", reserve)


async def test_a_losing_request_keeps_the_reservation_its_sibling_holds(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests of one account share the carrier's reservation; the loser keeps it."""
    a, b, c = await _teams(rt)
    wanted, taken, other = await _pool(rt, a, 3)
    await _request(rt, b, [taken])
    first = await _request(rt, a, [wanted])
    with pytest.raises(Conflict, match="Just taken"):
        await _request(rt, a, [wanted, taken])
    # The reservation backs `first`'s hold: it stays.
    assert await _state_at_carrier(rt, wanted, a) is CarrierNumberState.RESERVED

    # So another account asking meanwhile is told at once, and cannot get in the way
    # of the order: C's request is paused after its reservations, while A buys.
    gate = Gate(_sim(rt), other, monkeypatch)
    late = asyncio.create_task(_request(rt, c, [wanted, other]))
    done = await _buy(rt, a, first)
    gate.opened.set()
    with pytest.raises(Conflict, match="Just taken"):
        await late
    assert done.state is RequestState.COMPLETED
    assert await _owner_in_database(rt, wanted) == (NumberState.IN_SERVICE, a.account.id)
    assert _sim(rt).times_sold(wanted) == 1


async def test_a_reservation_left_behind_does_not_block_another_account(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A give-back that failed leaves a reservation no hold backs: an orphan, taken over."""
    a, b, _ = await _teams(rt)
    (wanted,) = await _pool(rt, a, 1)
    first = await _request(rt, a, [wanted])

    async def carrier_down(e164: str, *, account_id: str) -> None:
        raise CarrierFault("the carrier did not answer")

    with monkeypatch.context() as patch:
        patch.setattr(_sim(rt), "release_reservation", carrier_down)
        await rt.services.purchases.cancel(a.actor, first.id)
    # The database let go; the carrier still keeps A's reservation.
    assert await _state_at_carrier(rt, wanted, a) is CarrierNumberState.RESERVED

    second = await _request(rt, b, [wanted])
    done = await _buy(rt, b, second)
    assert done.state is RequestState.COMPLETED
    assert await _owner_in_database(rt, wanted) == (NumberState.IN_SERVICE, b.account.id)
    assert _sim(rt).times_sold(wanted) == 1


async def test_a_reservation_in_flight_elsewhere_does_not_block_another_account(
    rt: Runtime,
) -> None:
    """Another replica's request, between the carrier and its hold, loses to one that writes."""
    a, b, _ = await _teams(rt)
    (wanted,) = await _pool(rt, a, 1)
    # The other replica reserved for A and has not written its hold yet.
    await _sim(rt).reserve(wanted, account_id=a.account.id)

    second = await _request(rt, b, [wanted])
    # Its hold, written now, is refused by the database.
    with pytest.raises(Conflict, match="Just taken"):
        await _request(rt, a, [wanted])
    done = await _buy(rt, b, second)
    assert done.state is RequestState.COMPLETED
    assert await _owner_in_database(rt, wanted) == (NumberState.IN_SERVICE, b.account.id)
    assert _sim(rt).times_sold(wanted) == 1


async def test_requests_of_one_process_take_turns_for_a_number(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second waits for the first's hold and then asks the carrier nothing."""
    a, b, _ = await _teams(rt)
    wanted, slow = await _pool(rt, a, 2)
    gate = Gate(_sim(rt), slow, monkeypatch)
    first = asyncio.create_task(_request(rt, a, [wanted, slow]))
    await gate.reached.wait()
    second = asyncio.create_task(_request(rt, b, [wanted]))
    await asyncio.sleep(0)
    gate.opened.set()
    held = await first
    with pytest.raises(Conflict, match="Just taken"):
        await second
    assert held.state is RequestState.QUOTED
    assert await _state_at_carrier(rt, wanted, a) is CarrierNumberState.RESERVED
    assert await _state_at_carrier(rt, wanted, b) is CarrierNumberState.UNKNOWN


async def test_the_holder_reserves_again_before_ordering(rt: Runtime) -> None:
    """The database holds it for the request: another account's reservation is an orphan."""
    a, _, c = await _teams(rt)
    (wanted,) = await _pool(rt, a, 1)
    first = await _request(rt, a, [wanted])
    # A sibling request gave the shared reservation back, and C's request in flight
    # reserved the number before finding the hold.
    await _sim(rt).release_reservation(wanted, account_id=a.account.id)
    await _sim(rt).reserve(wanted, account_id=c.account.id)

    done = await _buy(rt, a, first)
    assert done.state is RequestState.COMPLETED, done.items_with(ItemOutcome.FAILED)
    assert await _owner_in_database(rt, wanted) == (NumberState.IN_SERVICE, a.account.id)
    assert _sim(rt).times_sold(wanted) == 1


async def test_a_number_another_account_holds_in_the_database_is_never_taken_over(
    rt: Runtime,
) -> None:
    a, b, _ = await _teams(rt)
    (wanted,) = await _pool(rt, a, 1)
    first = await _request(rt, a, [wanted])
    with pytest.raises(Conflict, match="Just taken"):
        await _request(rt, b, [wanted])
    assert await _state_at_carrier(rt, wanted, a) is CarrierNumberState.RESERVED
    assert await _state_at_carrier(rt, wanted, b) is CarrierNumberState.UNKNOWN
    done = await _buy(rt, a, first)
    assert done.state is RequestState.COMPLETED
    assert _sim(rt).times_sold(wanted) == 1
