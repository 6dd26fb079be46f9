"""Routing to each target, unrouting, spares and the faxbox's one number, on both carriers."""

from __future__ import annotations

import pytest

from bot.backends.carrier import NumberConflict, RouteTarget
from bot.domain.assignment import AssignmentKind
from tests.contract.worlds import ACCOUNT, ALICE, World

# Beyond the supplier part: a carrier without a phone system has none of this.
pytestmark = pytest.mark.needs("phone_system")

TARGETS = [
    pytest.param(RouteTarget.main(), id="main"),
    pytest.param(RouteTarget(AssignmentKind.CONFERENCE), id="conference"),
    pytest.param(RouteTarget(AssignmentKind.FAXBOX), id="faxbox"),
    pytest.param(RouteTarget.user(ALICE), id="user"),
]


async def test_a_bought_number_is_a_spare(world: World) -> None:
    [number] = await world.bought()

    status = await world.carrier.number_status(number, account_id=ACCOUNT)

    assert status.spare and status.used_by == ""
    assert await world.carrier.routes(account_id=ACCOUNT) == {}


@pytest.mark.parametrize("target", TARGETS)
async def test_route_to_each_target_then_unroute_leaves_a_spare(
    world: World, target: RouteTarget
) -> None:
    [number] = await world.bought()

    await world.carrier.route(number, target, account_id=ACCOUNT)

    assert await world.carrier.routes(account_id=ACCOUNT) == {number: target}
    routed = await world.carrier.number_status(number, account_id=ACCOUNT)
    assert not routed.spare and routed.used_by == "callflow"
    assert routed.owned_by(ACCOUNT)

    await world.carrier.unroute(number, account_id=ACCOUNT)
    await world.carrier.unroute(number, account_id=ACCOUNT)  # nothing left: fine

    assert await world.carrier.routes(account_id=ACCOUNT) == {}
    assert (await world.carrier.number_status(number, account_id=ACCOUNT)).spare


async def test_rerouting_keeps_a_number_on_one_target_only(world: World) -> None:
    first, second = await world.bought(quantity=2)
    await world.carrier.route(first, RouteTarget.main(), account_id=ACCOUNT)
    await world.carrier.route(second, RouteTarget.main(), account_id=ACCOUNT)

    await world.carrier.route(first, RouteTarget(AssignmentKind.CONFERENCE), account_id=ACCOUNT)
    await world.carrier.route(first, RouteTarget.user(ALICE), account_id=ACCOUNT)
    await world.carrier.route(first, RouteTarget.user(ALICE), account_id=ACCOUNT)  # again: fine

    assert await world.carrier.routes(account_id=ACCOUNT) == {
        first: RouteTarget.user(ALICE),
        second: RouteTarget.main(),
    }


async def test_the_faxbox_answers_on_one_number_only(world: World) -> None:
    first, second = await world.bought(quantity=2)
    faxbox = RouteTarget(AssignmentKind.FAXBOX)
    await world.carrier.route(first, faxbox, account_id=ACCOUNT)

    with pytest.raises(NumberConflict) as refused:
        await world.carrier.route(second, faxbox, account_id=ACCOUNT)

    assert first in str(refused.value)
    assert await world.carrier.routes(account_id=ACCOUNT) == {first: faxbox}
    assert (await world.carrier.number_status(second, account_id=ACCOUNT)).spare


async def test_a_user_the_carrier_cannot_ring_is_a_conflict(world: World) -> None:
    """Shared: a conflict naming why, nothing routed.

    Kazoo rings a user through the user's own callflow, so a Kazoo user
    without one cannot be rung; the simulated carrier rings anyone in the
    account's directory.
    """
    [number] = await world.bought()

    with pytest.raises(NumberConflict) as refused:
        await world.carrier.route(
            number, RouteTarget.user(world.unringable_user()), account_id=ACCOUNT
        )

    assert refused.value.carrier_message
    assert (await world.carrier.number_status(number, account_id=ACCOUNT)).spare


async def test_the_account_directory_lists_its_people(world: World) -> None:
    users = await world.carrier.users(account_id=ACCOUNT)

    assert {(u.id, u.email) for u in users} >= {(ALICE, "alice@example.com")}
