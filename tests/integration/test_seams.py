"""The seams of issue 7 on a real SQLite file: the carrier outside write transactions,
the database as the system of record across a restart, the rules where they live."""

from __future__ import annotations

import pytest

from bot.backends.carrier import RouteTarget
from bot.bootstrap import Runtime, start
from bot.config import Settings
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.errors import Conflict
from bot.domain.refusals import LastEmergencyMain
from bot.domain.states import NumberState, RequestState
from bot.service.context import Actor
from tests.conftest import FakeClock
from tests.integration.helpers import buy

ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "caller_name": "Acme Corp",
}


async def test_every_use_case_calls_the_carrier_outside_write_transactions(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    s = runtime.services
    done = await buy(runtime, admin, manager, count=3)
    a, b, c = done.numbers
    await s.e911.set_address(admin, a, ADDRESS)
    await s.numbers.assign(admin, b, "conference")
    await s.numbers.unassign(admin, b)
    await s.numbers.add_spares(admin, [b], Assignment.user("UALICE"))
    branch = await s.accounts.create(admin, "Branch Office")
    await s.numbers.move(admin, c, branch.name)
    await s.numbers.release(admin, b)
    await s.numbers.restore(admin, b)
    quoted = await s.purchases.request_purchase(
        admin,
        [n.e164 for n in (await s.numbers.search(admin, "local", "212")).available[:1]],
        Assignment.main(),
    )
    await s.purchases.cancel(admin, quoted.id)
    await s.numbers.release(admin, b)
    clock.advance(days=runtime.settings.aging_days + 1, minutes=5)
    await s.purchases.expire_holds()
    await s.lifecycle.activation_sweep()

    calls = {c.method for c in runtime.guard.violations}
    assert runtime.guard.violations == [], calls
    # The carrier was told: the sweep gave the aged-out number back to it.
    assert runtime.carrier is not None
    assert b in [n for n, _ in runtime.carrier.released]


async def test_the_database_is_the_system_of_record_across_a_restart(
    settings: Settings, clock: FakeClock, admin: Actor, manager: Actor
) -> None:
    first = await start(settings, clock=clock)
    try:
        done = await buy(first, admin, manager, count=2)
        main, other = done.numbers
        found = await first.services.numbers.search(admin, "local", "415", quantity=5)
        held = found.available[0].e164
        await first.services.purchases.request_purchase(admin, [held], Assignment.main())
    finally:
        await first.close()

    second = await start(settings, clock=clock)
    try:
        s = second.services
        assert second.carrier is not None
        # The fresh simulated carrier was told what the accounts own and where it rings.
        routes = await second.carrier.routes(account_id=(await s.accounts.for_channel(admin)).id)
        assert routes == {main: RouteTarget.main(), other: RouteTarget.main()}
        again = await s.numbers.search(admin, "local", "415", quantity=50)
        offered = {n.e164 for n in again.available}
        assert not offered & {main, other, held}
        await s.numbers.assign(admin, other, "faxbox")
        saved = await s.e911.set_address(admin, main, ADDRESS)
        assert saved.saved
        released = await s.numbers.release(admin, other)
        assert released.state is NumberState.AGING
        assert second.guard.violations == []
    finally:
        await second.close()


async def test_a_move_is_audited_as_a_move(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    [number] = (await buy(runtime, admin, manager, count=1)).numbers
    branch = await runtime.services.accounts.create(admin, "Branch Office")
    moved = await runtime.services.numbers.move(admin, number, branch.name)
    assert moved.account_id == branch.id and moved.assignment is None
    history = await runtime.services.numbers.history(admin, number)
    latest = history[0] if history[0].action == "number.moved" else history[-1]
    assert latest.action == "number.moved"
    assert latest.detail is not None and "Branch Office" in latest.detail
    assert (latest.after or {}).get("account_id") == branch.id


@pytest.mark.parametrize("doing", ["move", "reassign", "unassign", "release", "remove e911"])
async def test_the_last_emergency_main_number_keeps_its_role(
    runtime: Runtime, admin: Actor, manager: Actor, doing: str
) -> None:
    s = runtime.services
    a, b = (await buy(runtime, admin, manager, count=2)).numbers
    await s.e911.set_address(admin, a, ADDRESS)
    branch = await s.accounts.create(admin, "Branch Office")
    attempts = {
        "move": lambda: s.numbers.move(admin, a, branch.name),
        "reassign": lambda: s.numbers.assign(admin, a, "conference"),
        "unassign": lambda: s.numbers.unassign(admin, a),
        "release": lambda: s.numbers.release(admin, a),
        "remove e911": lambda: s.e911.remove_address(admin, a),
    }
    with pytest.raises(LastEmergencyMain):
        await attempts[doing]()
    record = await s.numbers.get(admin, a)
    assert record.assignment is not None and record.assignment.kind is AssignmentKind.MAIN
    assert record.emergency_enabled and record.account_id != branch.id
    # With a second emergency-enabled main number, the first may go.
    await s.e911.set_address(admin, b, ADDRESS)
    await attempts[doing]()


async def test_a_request_moves_only_from_the_state_it_is_in(runtime: Runtime, admin: Actor) -> None:
    s = runtime.services
    found = await s.numbers.search(admin, "local", "415", quantity=1)
    request = await s.purchases.request_purchase(
        admin, [found.available[0].e164], Assignment.main()
    )
    await s.purchases.cancel(admin, request.id)
    now = runtime.services.deps.clock()
    async with runtime.services.deps.uow() as uow:
        # Allowed by the table, but the request is no longer quoted: the row count says no.
        assert not await uow.requests.transition(
            request.id, RequestState.QUOTED, RequestState.AWAITING_APPROVAL, now
        )
        # Forbidden by the table: never written, whatever the row says.
        with pytest.raises(Conflict):
            await uow.requests.transition(
                request.id, RequestState.CANCELLED, RequestState.PROVISIONING, now
            )
    assert (await s.purchases.reload(request.id)).state is RequestState.CANCELLED
