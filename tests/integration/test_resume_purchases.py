"""Interrupted purchases: a failing redraw never stops one, and the worker finishes them.

Two replicas run the worker on one database file; a purchase left in
provisioning is resumed by exactly one of them, once it has been quiet for
the grace period, and every number is ordered and bought once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from bot.backends.carrier import OrderResult
from bot.bootstrap import Runtime, start
from bot.config import Settings
from bot.domain.assignment import Assignment
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import ItemOutcome, RequestState
from bot.service.context import Actor
from bot.service.ports import Reply
from bot.service.purchase.tell import NobodyListens
from bot.worker import Worker
from tests.conftest import FakeClock

GRACE = timedelta(minutes=5)


def _count_orders(rt: Runtime) -> list[str]:
    assert rt.carrier is not None
    calls: list[str] = []
    original = rt.carrier.order

    async def order(
        numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        calls.extend(numbers)
        return await original(numbers, account_id=account_id, idempotency_key=idempotency_key)

    rt.carrier.order = order  # type: ignore[method-assign]
    return calls


async def _provisioning(rt: Runtime, admin: Actor, manager: Actor, count: int = 3) -> str:
    """Approved and then interrupted: the process that was to buy the numbers stopped."""
    found = await rt.services.numbers.search(admin, "local", "415", quantity=count)
    request = await rt.services.purchases.request_purchase(
        admin, [n.e164 for n in found.available], Assignment.main()
    )
    await rt.services.purchases.accept(admin, request.id)
    approved = await rt.services.purchases.approve(manager, request.id)
    assert approved.state is RequestState.PROVISIONING
    return request.id


@pytest.fixture
async def replicas(settings: Settings, clock: FakeClock) -> AsyncIterator[list[Runtime]]:
    one = await start(settings, clock=clock)
    two = await start(settings, clock=clock)
    yield [one, two]
    await one.close()
    await two.close()


async def test_a_failing_progress_redraw_never_stops_the_purchase(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    request_id = await _provisioning(runtime, admin, manager, count=2)
    redraws: list[int] = []

    class SlowCards(NobodyListens):
        async def redraw(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
            if request.state is RequestState.PROVISIONING:
                redraws.append(len(request.items_with(ItemOutcome.BOUGHT)))
                raise TimeoutError("chat.update took too long")

    runtime.services.purchases.connect(SlowCards())
    done = await runtime.services.purchases.provision(request_id, Reply())
    assert done.state is RequestState.COMPLETED
    assert len(done.items_with(ItemOutcome.BOUGHT)) == 2
    assert redraws == [1, 2]  # every redraw was tried, none stopped the next number


async def test_the_worker_resumes_a_stalled_purchase_after_the_grace_period(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    request_id = await _provisioning(runtime, admin, manager)
    worker = Worker(runtime.services, resume_grace=GRACE)
    # Just approved: the replica that approved it may still be buying; leave it alone.
    assert (await worker.run_once()).resumed == ()
    clock.advance(seconds=GRACE.total_seconds() + 1)
    tick = await worker.run_once()
    assert tick.resumed == (request_id,)
    done = await runtime.services.purchases.get(admin, request_id)
    assert done.state is RequestState.COMPLETED
    assert len(done.items_with(ItemOutcome.BOUGHT)) == 3
    assert (await worker.run_once()).resumed == ()  # nothing left to resume


async def test_a_purchase_still_moving_is_not_taken_over(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    request_id = await _provisioning(runtime, admin, manager, count=2)
    clock.advance(seconds=GRACE.total_seconds() + 1)
    # A live purchase settled one of its numbers a moment ago: it is not stalled.
    first = (await runtime.services.purchases.reload(request_id)).items[0].number
    async with runtime.services.deps.uow() as uow:
        await uow.requests.set_item(request_id, first, ItemOutcome.FAILED, "busy", clock())
        await uow.commit()
    worker = Worker(runtime.services, resume_grace=GRACE)
    assert (await worker.run_once()).resumed == ()
    clock.advance(seconds=GRACE.total_seconds() + 1)
    assert (await worker.run_once()).resumed == (request_id,)


async def test_two_replicas_resume_a_purchase_once(
    replicas: list[Runtime], admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    one, two = replicas
    request_id = await _provisioning(one, admin, manager, count=3)
    orders = [_count_orders(rt) for rt in replicas]
    workers = [Worker(rt.services, resume_grace=GRACE) for rt in replicas]
    clock.advance(seconds=GRACE.total_seconds() + 1)
    ticks = await asyncio.gather(*(w.run_once() for w in workers))
    assert sorted(len(t.resumed) for t in ticks) == [0, 1]
    # Each number was ordered once, by one replica, and bought once.
    assert sorted(orders[0] + orders[1]) == sorted(
        i.number for i in (await one.services.purchases.reload(request_id)).items
    )
    history = await one.services.purchases.history(admin, request_id)
    assert [e.action for e in history].count("number.purchased") == 3
    assert [e.action for e in history].count("request.provisioned") == 1
    done = await two.services.purchases.get(admin, request_id)
    assert done.state is RequestState.COMPLETED
    # Later passes on both replicas find nothing more to do.
    clock.advance(seconds=GRACE.total_seconds() * 3)
    ticks = await asyncio.gather(*(w.run_once() for w in workers))
    assert all(t.resumed == () for t in ticks)
