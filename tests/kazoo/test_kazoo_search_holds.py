"""Search (area code, NPA-NXX, toll-free, paged by offset) and holds with /reserve."""

from __future__ import annotations

import pytest

from bot.backends.carrier import CarrierNumberState, NumberConflict
from bot.backends.kazoo import KazooCarrier
from bot.domain.phone import Kind, SearchQuery
from tests.kazoo.helpers import bought, offered
from tests.kazoo_standin import CHILD_A, CHILD_B, KazooStandIn


async def test_local_search_by_area_code_sends_the_prefix_and_marks_discovery(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    page = await carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=3)

    assert len(page.offers) == 3
    assert all(o.e164.startswith("+1415") and o.kind is Kind.LOCAL for o in page.offers)
    assert standin.calls("GET", "/phone_numbers")[-1].query == {
        "prefix": "415",
        "quantity": "3",
        "offset": "0",
    }
    assert {standin.model.numbers[o.e164].state for o in page.offers} == {"discovery"}


async def test_search_by_npa_nxx_and_toll_free_prefix(carrier: KazooCarrier) -> None:
    local = await carrier.search(SearchQuery(Kind.LOCAL, "415", "233"), quantity=2)
    tollfree = await carrier.search(SearchQuery(Kind.TOLLFREE, "888"), quantity=2)

    assert [o.e164[:8] for o in local.offers] == ["+1415233"] * 2
    assert [(o.e164[:5], o.kind) for o in tollfree.offers] == [("+1888", Kind.TOLLFREE)] * 2


async def test_search_pages_with_offset_until_the_stock_ends(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    standin.model.stock_per_prefix = 5
    query = SearchQuery(Kind.LOCAL, "646")

    first = await carrier.search(query, quantity=3)
    assert first.next_offset == 3
    second = await carrier.search(query, quantity=3, offset=first.next_offset)

    assert len(second.offers) == 2 and second.next_offset is None
    assert not {o.e164 for o in first.offers} & {o.e164 for o in second.offers}


async def test_reserve_holds_for_the_account_and_a_repeat_is_fine(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await offered(carrier, quantity=1)

    await carrier.reserve(number, account_id=CHILD_A)
    await carrier.reserve(number, account_id=CHILD_A)  # Kazoo: no_change_required

    status = await carrier.number_status(number, account_id=CHILD_A)
    assert (status.state, status.account_id) == (CarrierNumberState.RESERVED, CHILD_A)


async def test_reserving_a_number_held_by_another_account_is_a_conflict(
    carrier: KazooCarrier,
) -> None:
    [number] = await offered(carrier, quantity=1)
    await carrier.reserve(number, account_id=CHILD_B)

    with pytest.raises(NumberConflict) as refused:
        await carrier.reserve(number, account_id=CHILD_A)

    assert "reserved" in refused.value.carrier_message


async def test_releasing_a_hold_gives_the_number_back(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await offered(carrier, quantity=1)
    await carrier.reserve(number, account_id=CHILD_A)

    await carrier.release_reservation(number, account_id=CHILD_A)
    await carrier.release_reservation(number, account_id=CHILD_A)  # gone already: fine

    assert standin.model.numbers[number].assigned_to is None
    assert standin.model.numbers[number].state in ("available", "aging")


async def test_releasing_a_hold_never_deletes_a_number_bought_meanwhile(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)

    await carrier.release_reservation(number, account_id=CHILD_A)

    assert standin.model.numbers[number].state == "in_service"
    assert standin.calls("DELETE") == []
