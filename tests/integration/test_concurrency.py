"""Races on a real SQLite file: two clicks, two replicas, two buyers. One wins."""

from __future__ import annotations

import asyncio

import pytest

from bot.blocks.errors import error_text
from bot.bootstrap import Runtime, start
from bot.config import Settings
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict
from bot.domain.refusals import StaleRequest
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.context import Actor
from tests.conftest import FakeClock


async def _awaiting(rt: Runtime, admin: Actor, count: int = 2) -> str:
    found = await rt.services.numbers.search(admin, "local", "415", quantity=count)
    request = await rt.services.purchases.request_purchase(
        admin, [n.e164 for n in found.available], Assignment.main()
    )
    await rt.services.purchases.accept(admin, request.id)
    return request.id


async def test_two_approvers_at_once_exactly_one_wins(
    runtime: Runtime, admin: Actor, manager: Actor, manager2: Actor
) -> None:
    request_id = await _awaiting(runtime, admin)
    results = await asyncio.gather(
        runtime.services.purchases.approve(manager, request_id),
        runtime.services.purchases.approve(manager2, request_id),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1
    winner = wins[0].decided_by
    # The loser is told who won, in the blocks' words.
    assert f"approved by <@{winner}>" in error_text(losses[0])
    history = await runtime.services.purchases.history(admin, request_id)
    assert [e.action for e in history].count("request.approved") == 1


async def test_approve_and_reject_at_once(
    runtime: Runtime, admin: Actor, manager: Actor, manager2: Actor
) -> None:
    request_id = await _awaiting(runtime, admin)
    results = await asyncio.gather(
        runtime.services.purchases.approve(manager, request_id),
        runtime.services.purchases.reject(manager2, request_id, "no"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    final = await runtime.services.purchases.get(admin, request_id)
    assert final.state in (RequestState.PROVISIONING, RequestState.REJECTED)


async def test_double_click_on_approve(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    request_id = await _awaiting(runtime, admin)
    await runtime.services.purchases.approve(manager, request_id)
    with pytest.raises(StaleRequest) as stale:
        await runtime.services.purchases.approve(manager, request_id)
    # The error carries who moved the request; the blocks word it ("already approved by …").
    assert stale.value.request.decided_by == "UMANAGER"
    assert stale.value.request.state is RequestState.PROVISIONING


async def test_two_replicas_on_one_database(
    settings: Settings, clock: FakeClock, admin: Actor, manager: Actor, manager2: Actor
) -> None:
    """Two app processes (two engines) on the same file: still exactly one approval."""
    one = await start(settings, clock=clock)
    two = await start(settings, clock=clock)
    try:
        request_id = await _awaiting(one, admin)
        results = await asyncio.gather(
            one.services.purchases.approve(manager, request_id),
            two.services.purchases.approve(manager2, request_id),
            return_exceptions=True,
        )
        assert sum(isinstance(r, Conflict) for r in results) == 1
        # Both replicas provision at once: every number is bought once.
        done = await asyncio.gather(
            one.services.purchases.provision(request_id),
            two.services.purchases.provision(request_id),
        )
        assert {d.state for d in done} == {RequestState.COMPLETED}
        history = await one.services.purchases.history(admin, request_id)
        assert [e.action for e in history].count("number.purchased") == 2
        assert [e.action for e in history].count("request.provisioned") == 1
        # And both sweeps at once expire nothing twice.
        await asyncio.gather(
            one.services.purchases.expire_holds(), two.services.purchases.expire_holds()
        )
    finally:
        await one.close()
        await two.close()


async def test_racing_requests_never_sell_a_number_twice(runtime: Runtime, manager: Actor) -> None:
    admins = [Actor(f"UADM{i}", "T1", is_admin=True, channel_id="C1") for i in range(12)]
    found = await runtime.services.numbers.search(admins[0], "local", "415", quantity=6)
    pool = [n.e164 for n in found.available]

    async def attempt(i: int, actor: Actor) -> str | None:
        pick = [pool[i % 6], pool[(i + 1) % 6]]
        try:
            request = await runtime.services.purchases.request_purchase(
                actor, pick, Assignment.main()
            )
        except Conflict:
            return None
        await runtime.services.purchases.accept(actor, request.id)
        await runtime.services.purchases.approve(manager, request.id)
        await runtime.services.purchases.provision(request.id)
        return request.id

    winners = [r for r in await asyncio.gather(*(attempt(i, a) for i, a in enumerate(admins))) if r]
    assert 1 <= len(winners) <= 3
    bought: list[str] = []
    for request_id in winners:
        request = await runtime.services.purchases.get(admins[0], request_id)
        bought += [i.number for i in request.items_with(ItemOutcome.BOUGHT)]
    assert len(bought) == len(set(bought))
    async with runtime.services.deps.uow(write=False) as uow:
        rows = await uow.numbers.get_many(pool)
    owned = [r for r in rows.values() if r.state is NumberState.IN_SERVICE]
    assert sorted(r.e164 for r in owned) == sorted(bought)
    # Losers left no holds behind.
    assert all(r.state is not NumberState.RESERVED for r in rows.values())


async def test_a_delivery_is_claimed_once_across_replicas(
    settings: Settings, clock: FakeClock
) -> None:
    one = await start(settings, clock=clock)
    two = await start(settings, clock=clock)
    try:
        claims = await asyncio.gather(
            one.services.deliveries.first_time("V1:hash1"),
            two.services.deliveries.first_time("V1:hash1"),
            one.services.deliveries.first_time("V1:hash1"),
        )
        assert sorted(claims) == [False, False, True]
        await two.services.deliveries.forget("V1:hash1")  # failed visibly: may try again
        assert await one.services.deliveries.first_time("V1:hash1")
    finally:
        await one.close()
        await two.close()
