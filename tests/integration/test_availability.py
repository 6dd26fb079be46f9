"""What search offers: never a number another request is buying right now."""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.states import NumberState, RequestState
from bot.service.context import Actor
from tests.conftest import FakeClock


async def test_a_number_being_bought_is_not_offered(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    s = runtime.services
    first = await s.numbers.search(admin, "local", "415", quantity=3)
    picked = first.available[0].e164
    request = await s.purchases.request_purchase(admin, [picked], Assignment.main())
    await s.purchases.accept(admin, request.id)
    approved = await s.purchases.approve(manager, request.id)
    # Approved, not yet provisioned: the number is held with no expiry while it is bought.
    assert approved.state is RequestState.PROVISIONING
    async with s.deps.uow(write=False) as uow:
        held = await uow.numbers.get(picked)
    assert held is not None and held.state is NumberState.RESERVED
    assert held.hold_expires_at is None
    again = await s.numbers.search(admin, "local", "415", quantity=3)
    offered = [n.e164 for n in again.available]
    assert picked not in offered
    # The rest of the stock is still offered, in the same order.
    assert offered[:2] == [n.e164 for n in first.available[1:]]


async def test_a_quote_hold_blocks_until_it_runs_out(
    runtime: Runtime, admin: Actor, clock: FakeClock
) -> None:
    s = runtime.services
    first = await s.numbers.search(admin, "local", "415", quantity=2)
    picked = first.available[0].e164
    await s.purchases.request_purchase(admin, [picked], Assignment.main())
    held = await s.numbers.search(admin, "local", "415", quantity=2)
    assert picked not in [n.e164 for n in held.available]
    clock.advance(minutes=runtime.settings.holds.quote_minutes + 1)
    after = await s.numbers.search(admin, "local", "415", quantity=2)
    assert picked in [n.e164 for n in after.available]
