"""Search (area code, NPA-NXX, toll-free prefix, paging) and holds, on both carriers."""

from __future__ import annotations

import pytest

from bot.backends.carrier import CarrierNumberState, NumberConflict, OrderOutcome
from bot.domain.phone import Kind, SearchQuery
from tests.contract.worlds import ACCOUNT, OTHER, STOCK_PER_PREFIX, World


async def test_local_search_by_area_code_offers_local_numbers_of_that_area(world: World) -> None:
    page = await world.carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=5)

    assert len(page.offers) == 5
    assert len({o.e164 for o in page.offers}) == 5
    assert all(o.e164.startswith("+1415") and len(o.e164) == 12 for o in page.offers)
    assert {o.kind for o in page.offers} == {Kind.LOCAL}
    assert page.next_offset == 5


async def test_local_search_by_npa_nxx_keeps_the_exchange(world: World) -> None:
    page = await world.carrier.search(SearchQuery(Kind.LOCAL, "415", "233"), quantity=3)

    assert [o.e164[:8] for o in page.offers] == ["+1415233"] * 3


async def test_toll_free_search_by_prefix(world: World) -> None:
    page = await world.carrier.search(SearchQuery(Kind.TOLLFREE, "888"), quantity=3)

    assert [(o.e164[:5], o.kind) for o in page.offers] == [("+1888", Kind.TOLLFREE)] * 3


async def test_paging_with_offset_walks_the_whole_stock_without_repeats(world: World) -> None:
    query = SearchQuery(Kind.LOCAL, "646")
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = await world.carrier.search(query, quantity=7, offset=offset)
        seen.extend(o.e164 for o in page.offers)
        offset = page.next_offset
        pages += 1
        assert pages <= 10, "the pages never end"

    assert len(seen) == len(set(seen)) == STOCK_PER_PREFIX
    assert pages == 6  # 7 * 5 + 5


async def test_search_no_longer_offers_held_or_sold_numbers(world: World) -> None:
    first = await world.holdable(quantity=4)
    await world.carrier.reserve(first[0], account_id=ACCOUNT)
    await world.carrier.order([first[1]], account_id=OTHER, idempotency_key="k-sold")

    again = await world.offered(world.hold_prefix, quantity=4)

    assert first[0] not in again and first[1] not in again
    assert again[:2] == first[2:]


async def test_reserve_holds_for_the_account_and_a_repeat_is_fine(world: World) -> None:
    [number] = await world.holdable()

    await world.carrier.reserve(number, account_id=ACCOUNT)
    await world.carrier.reserve(number, account_id=ACCOUNT)

    status = await world.carrier.number_status(number, account_id=ACCOUNT)
    assert (status.state, status.account_id) == (CarrierNumberState.RESERVED, ACCOUNT)
    assert not status.owned_by(ACCOUNT)
    # Another account never takes it for its own (Kazoo shows its owner: H2).
    other = await world.carrier.number_status(number, account_id=OTHER)
    assert other.account_id != OTHER and not other.owned_by(OTHER)


async def test_a_number_held_for_another_account_cannot_be_held_or_bought(world: World) -> None:
    [number] = await world.holdable()
    await world.carrier.reserve(number, account_id=OTHER)

    with pytest.raises(NumberConflict) as refused:
        await world.carrier.reserve(number, account_id=ACCOUNT)
    result = await world.carrier.order([number], account_id=ACCOUNT, idempotency_key="k-held")

    assert "reserved" in refused.value.carrier_message
    [outcome] = result.results
    assert outcome.outcome is OrderOutcome.FAILED and not outcome.retryable
    assert outcome.reason
    assert world.times_sold(number) == 0


async def test_a_held_number_is_bought_by_the_account_holding_it(world: World) -> None:
    [number] = await world.holdable()
    await world.carrier.reserve(number, account_id=ACCOUNT)

    result = await world.carrier.order([number], account_id=ACCOUNT, idempotency_key="k-mine")

    assert result.numbers(OrderOutcome.BOUGHT) == [number]
    assert (await world.carrier.number_status(number, account_id=ACCOUNT)).owned_by(ACCOUNT)


async def test_releasing_a_hold_gives_the_number_back_and_a_repeat_is_fine(world: World) -> None:
    [number] = await world.holdable()
    await world.carrier.reserve(number, account_id=ACCOUNT)

    await world.carrier.release_reservation(number, account_id=ACCOUNT)
    await world.carrier.release_reservation(number, account_id=ACCOUNT)

    status = await world.carrier.number_status(number, account_id=ACCOUNT)
    assert status.account_id is None and not status.owned_by(ACCOUNT)
    await world.carrier.reserve(number, account_id=OTHER)  # free for anyone again


async def test_releasing_a_hold_never_gives_back_a_number_bought_meanwhile(world: World) -> None:
    [number] = await world.bought()

    await world.carrier.release_reservation(number, account_id=ACCOUNT)

    assert (await world.carrier.number_status(number, account_id=ACCOUNT)).owned_by(ACCOUNT)
