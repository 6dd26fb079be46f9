"""Stale writes lose: every conditional update reports "no change" once the row moved on.

Within one process SQLite lets one writer in at a time and the services read
before they write, so a missing `WHERE state = expected` goes unnoticed there.
Two replicas on PostgreSQL do not queue like that: each may have read the row
before the other's change. These tests call the repositories the way such a
late replica would, with what it read earlier, and check that the row count
tells it that it lost and that the row keeps the winner's change.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.context import Actor
from storage.db import session_factory
from storage.uow import UnitOfWorkFactory
from tests.conftest import FakeClock
from tests.integration.helpers import buy


@pytest.fixture
def uow(runtime: Runtime) -> UnitOfWorkFactory:
    """Units of work straight on the database, as a second replica would open them."""
    return UnitOfWorkFactory(session_factory(runtime.engine))


async def _quoted(rt: Runtime, admin: Actor, count: int = 1) -> PurchaseRequestRecord:
    found = await rt.services.numbers.search(admin, "local", "415", quantity=count)
    return await rt.services.purchases.request_purchase(
        admin, [n.e164 for n in found.available], Assignment.main()
    )


async def _request(uow: UnitOfWorkFactory, request_id: str) -> PurchaseRequestRecord:
    async with uow(write=False) as u:
        request = await u.requests.get(request_id)
    assert request is not None
    return request


# --- purchase requests --------------------------------------------------------------------


async def test_two_units_of_work_read_the_same_state_only_the_first_moves_it(
    runtime: Runtime, admin: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    request = await _quoted(runtime, admin)
    seen_by_one = await _request(uow, request.id)
    seen_by_two = await _request(uow, request.id)
    assert seen_by_one.state is seen_by_two.state is RequestState.QUOTED

    async with uow() as one:
        won = await one.requests.transition(
            request.id, seen_by_one.state, RequestState.AWAITING_APPROVAL, clock()
        )
        await one.commit()
    clock.advance(seconds=1)
    async with uow() as two:
        late = await two.requests.transition(
            request.id, seen_by_two.state, RequestState.AWAITING_APPROVAL, clock()
        )
        await two.commit()

    assert (won, late) == (True, False)
    after = await _request(uow, request.id)
    assert after.state is RequestState.AWAITING_APPROVAL


async def test_a_stale_transition_leaves_the_winners_state(
    runtime: Runtime, admin: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    request = await _quoted(runtime, admin)
    async with uow() as u:
        assert await u.requests.transition(
            request.id, RequestState.QUOTED, RequestState.CANCELLED, clock()
        )
        await u.commit()
    async with uow() as u:
        # A replica that still believes the request is quoted tries to approve it.
        assert not await u.requests.transition(
            request.id, RequestState.QUOTED, RequestState.PROVISIONING, clock()
        )
        assert not await u.requests.transition(
            request.id,
            [RequestState.QUOTED, RequestState.AWAITING_APPROVAL],
            RequestState.EXPIRED,
            clock(),
        )
        await u.commit()
    assert (await _request(uow, request.id)).state is RequestState.CANCELLED


async def test_a_recorded_item_outcome_is_not_recorded_again(
    runtime: Runtime, admin: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    request = await _quoted(runtime, admin)
    (number,) = request.numbers
    async with uow() as u:
        first = await u.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, clock())
        second = await u.requests.set_item(
            request.id, number, ItemOutcome.FAILED, "too late", clock()
        )
        await u.commit()
    assert (first, second) == (True, False)
    (item,) = (await _request(uow, request.id)).items
    assert item.outcome is ItemOutcome.BOUGHT and item.reason is None


async def test_the_activation_notice_is_claimed_once(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    done = await buy(runtime, admin, manager)
    async with uow() as u:
        first = await u.requests.mark_activation_notified(done.id, clock())
        await u.commit()
    clock.advance(minutes=1)
    async with uow() as u:
        second = await u.requests.mark_activation_notified(done.id, clock())
        await u.commit()
    assert (first, second) == (True, False)


# --- numbers ------------------------------------------------------------------------------


async def test_a_stale_number_state_loses(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    done = await buy(runtime, admin, manager)
    (number,) = done.numbers
    other = await runtime.services.accounts.create(admin, "Branch Office")
    async with uow(write=False) as u:
        seen = await u.numbers.get(number)
    assert seen is not None and seen.state is NumberState.IN_SERVICE

    async with uow() as u:
        released = await u.numbers.start_aging(
            number, seen.account_id, clock() + timedelta(days=30), clock()
        )
        await u.commit()
    async with uow() as u:
        # A replica that read it in service still tries to move it.
        moved = await u.numbers.move_account(number, seen.account_id, other.id, clock())
        await u.commit()

    assert (released, moved) == (True, False)
    async with uow(write=False) as u:
        after = await u.numbers.get(number)
    assert after is not None
    assert after.state is NumberState.AGING and after.account_id == seen.account_id


async def test_a_stale_number_account_loses(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    done = await buy(runtime, admin, manager)
    (number,) = done.numbers
    branch = await runtime.services.accounts.create(admin, "Branch Office")
    async with uow(write=False) as u:
        seen = await u.numbers.get(number)
    assert seen is not None

    async with uow() as u:
        moved = await u.numbers.move_account(number, seen.account_id, branch.id, clock())
        await u.commit()
    async with uow() as u:
        # The state still matches; the account it expected does not.
        released = await u.numbers.start_aging(
            number, seen.account_id, clock() + timedelta(days=30), clock()
        )
        await u.commit()

    assert (moved, released) == (True, False)
    async with uow(write=False) as u:
        after = await u.numbers.get(number)
    assert after is not None
    assert after.state is NumberState.IN_SERVICE and after.account_id == branch.id


async def test_a_number_is_marked_purchased_once_and_only_for_its_hold(
    runtime: Runtime, admin: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    request = await _quoted(runtime, admin)
    (number,) = request.numbers
    other = await _quoted(runtime, admin)
    marks = []
    async with uow() as u:
        for request_id in (other.id, request.id, request.id):
            marks.append(
                await u.numbers.mark_purchased(
                    number,
                    request_id=request_id,
                    account_id=request.account_id,
                    now=clock(),
                    activate_at=clock(),
                )
            )
        await u.commit()
    # Another request's hold does not buy it; the second call finds it bought already.
    assert marks == [False, True, False]
    async with uow(write=False) as u:
        after = await u.numbers.get(number)
    assert after is not None and after.state is NumberState.IN_SERVICE


async def test_a_number_is_marked_active_once(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    done = await buy(runtime, admin, manager)
    (number,) = done.numbers
    async with uow() as u:
        first = await u.numbers.mark_activated(number, clock())
        await u.commit()
    clock.advance(minutes=5)
    async with uow() as u:
        second = await u.numbers.mark_activated(number, clock())
        await u.commit()
    assert (first, second) == (True, False)
    async with uow(write=False) as u:
        after = await u.numbers.get(number)
    assert after is not None and after.activated_at is not None


async def test_a_released_number_is_not_marked_active(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock, uow: UnitOfWorkFactory
) -> None:
    done = await buy(runtime, admin, manager, count=2)
    number = done.numbers[0]
    await runtime.services.numbers.release(admin, number)
    async with uow() as u:
        marked = await u.numbers.mark_activated(number, clock())
        await u.commit()
    assert not marked
    async with uow(write=False) as u:
        after = await u.numbers.get(number)
    assert after is not None and after.activated_at is None
