"""Move to another account, release, the owned-number listing and the accounts."""

from __future__ import annotations

import pytest

from bot.backends.carrier import CarrierNumberState, NotFoundAtCarrier, RouteTarget
from bot.domain.assignment import AssignmentKind
from tests.contract.worlds import ACCOUNT, ACCOUNTS, ADDRESS, OTHER, World


async def test_move_leaves_the_old_routes_and_arrives_as_a_spare(world: World) -> None:
    """Shared: out of the old account's routes, the new account's spare.

    Billing differs: Kazoo activates the number on the destination, which
    charges its activation there; the simulated carrier moves it unbilled.
    """
    [number] = await world.bought()
    await world.carrier.route(number, RouteTarget.main(), account_id=ACCOUNT)

    await world.carrier.move(number, from_account_id=ACCOUNT, to_account_id=OTHER)

    arrived = await world.carrier.number_status(number, account_id=OTHER)
    assert arrived.owned_by(OTHER) and arrived.spare
    # Kazoo answers for the number through the old account's path too (H2); what
    # counts is that it is not the old account's.
    left = await world.carrier.number_status(number, account_id=ACCOUNT)
    assert not left.owned_by(ACCOUNT) and left.account_id in (None, OTHER)
    assert await world.carrier.routes(account_id=ACCOUNT) == {}
    assert await world.carrier.routes(account_id=OTHER) == {}
    assert world.times_sold(number) == (2 if world.move_bills_destination else 1)


async def test_release_leaves_every_route_and_gives_the_number_back(world: World) -> None:
    """Shared: out of its routes, no longer the account's, offered again later or now.

    The state differs: Kazoo (where aging is on, as in the stand-in) ages it;
    the simulated carrier takes it straight back (the bot's database ages it).
    """
    [number] = await world.bought()
    conference = RouteTarget(AssignmentKind.CONFERENCE)
    await world.carrier.route(number, conference, account_id=ACCOUNT)
    await world.carrier.provision_e911(number, ADDRESS, account_id=ACCOUNT)

    result = await world.carrier.release(number, account_id=ACCOUNT)

    assert (result.e164, result.unrouted_from) == (number, (conference,))
    assert result.state is world.released_state
    assert await world.carrier.routes(account_id=ACCOUNT) == {}
    status = await world.carrier.number_status(number, account_id=ACCOUNT)
    assert status.state is CarrierNumberState.UNKNOWN
    listed = (await world.carrier.list_numbers(account_id=ACCOUNT)).numbers
    assert number not in {n.e164 for n in listed}


async def test_releasing_a_spare_lists_no_route(world: World) -> None:
    [number] = await world.bought()

    result = await world.carrier.release(number, account_id=ACCOUNT)

    assert result.unrouted_from == ()


async def test_a_number_not_on_the_account_cannot_be_released_or_moved(world: World) -> None:
    [number] = await world.bought(account=OTHER)

    with pytest.raises(NotFoundAtCarrier):
        await world.carrier.release(number, account_id=ACCOUNT)

    assert (await world.carrier.number_status(number, account_id=OTHER)).owned_by(OTHER)


async def test_owned_numbers_are_listed_in_pages(world: World) -> None:
    numbers = await world.bought(quantity=5)
    await world.carrier.route(numbers[0], RouteTarget.main(), account_id=ACCOUNT)
    await world.bought(account=OTHER, prefix="646")

    seen: list[str] = []
    start: str | None = None
    pages = 0
    while True:
        page = await world.carrier.list_numbers(account_id=ACCOUNT, start_key=start, page_size=2)
        pages += 1
        seen.extend(n.e164 for n in page.numbers)
        if page.next_start_key is None:
            break
        start = page.next_start_key

    assert (seen, pages) == (sorted(numbers), 3)
    listed = {n.e164: n for n in (await world.carrier.list_numbers(account_id=ACCOUNT)).numbers}
    assert listed[numbers[0]].used_by == "callflow" and not listed[numbers[0]].spare
    assert listed[numbers[1]].spare and listed[numbers[1]].owned_by(ACCOUNT)


async def test_the_accounts_are_the_own_account_then_the_sub_accounts(world: World) -> None:
    assert list(await world.carrier.accounts()) == list(ACCOUNTS)
