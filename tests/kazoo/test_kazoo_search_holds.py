"""Search (area code, NPA-NXX, toll-free, paged by offset) and holds.

Numbers an upstream carrier offers live only in Kazoo's search cache: they are
held in the bot's database and never reserved at Kazoo (B1). Numbers in Kazoo's
numbers database (the local pool, `available`) are reserved there.
"""

from __future__ import annotations

import pytest

from bot.backends.carrier import CarrierNumberState, NumberConflict
from bot.backends.kazoo import KazooCarrier
from bot.domain.phone import Kind, SearchQuery
from tests.kazoo.helpers import bought, offered
from tests.kazoo_standin import CHILD_A, CHILD_B, KazooStandIn, Number


def local_pool(standin: KazooStandIn, count: int = 2, module: str = "knm_inventory") -> list[str]:
    """Numbers in Kazoo's numbers database, `available` (an inventory pool)."""
    numbers = [f"+1415555{i:04d}" for i in range(count)]
    for e164 in numbers:
        standin.model.numbers[e164] = Number(e164, state="available", module=module)
    return numbers


async def test_local_search_by_area_code_sends_the_prefix_under_the_buying_account(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    page = await carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=3, account_id=CHILD_A)

    assert len(page.offers) == 3
    assert all(o.e164.startswith("+1415") and o.kind is Kind.LOCAL for o in page.offers)
    search = standin.calls("GET", "/phone_numbers")[-1]
    assert search.path == f"/v2/accounts/{CHILD_A}/phone_numbers"
    assert search.query == {"prefix": "415", "quantity": "3", "offset": "0"}
    # Only in the search cache: Kazoo's numbers database has none of them.
    assert not {o.e164 for o in page.offers} & set(standin.model.numbers)


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


async def test_a_later_page_survives_a_new_login(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """Pages after the first come from a cache keyed by account and token (M7)."""
    standin.model.stock_per_prefix = 5
    query = SearchQuery(Kind.LOCAL, "646")
    first = await carrier.search(query, quantity=3)
    standin.expire_tokens()  # the bot logs in again: a new token, an empty cache

    second = await carrier.search(query, quantity=3, offset=first.next_offset or 0)

    assert [o.e164 for o in second.offers] == standin.model.stock("646")[3:5]


async def test_a_searched_number_is_held_without_a_reservation_at_kazoo(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await offered(carrier, quantity=1)

    await carrier.reserve(number, account_id=CHILD_A)
    await carrier.release_reservation(number, account_id=CHILD_A)

    # Kazoo's reserve would answer 404 for it (B1): it is never sent.
    assert standin.calls("PUT", "/reserve") == []
    assert standin.calls("DELETE") == []
    result = await carrier.order([number], account_id=CHILD_A, idempotency_key="k")
    assert [r.outcome.value for r in result.results] == ["bought"]


async def test_reserve_holds_for_the_account_and_a_repeat_is_fine(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number, _] = local_pool(standin)
    await offered(carrier, "415555", quantity=2)

    await carrier.reserve(number, account_id=CHILD_A)
    await carrier.reserve(number, account_id=CHILD_A)  # Kazoo: no_change_required

    status = await carrier.number_status(number, account_id=CHILD_A)
    assert (status.state, status.account_id) == (CarrierNumberState.RESERVED, CHILD_A)


async def test_reserving_a_number_held_by_another_account_is_a_conflict(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number, _] = local_pool(standin)
    await carrier.reserve(number, account_id=CHILD_B)

    with pytest.raises(NumberConflict) as refused:
        await carrier.reserve(number, account_id=CHILD_A)

    assert "reserved" in refused.value.carrier_message
    # Kazoo would have handed it over (M1): the bot never asks.
    assert standin.model.numbers[number].assigned_to == CHILD_B
    assert len(standin.calls("PUT", "/reserve")) == 1


async def test_a_number_in_service_elsewhere_is_never_reserved(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_B)

    with pytest.raises(NumberConflict):
        await carrier.reserve(number, account_id=CHILD_A)

    assert standin.model.numbers[number].assigned_to == CHILD_B
    assert standin.calls("PUT", "/reserve") == []


async def test_a_priced_reservation_is_left_to_the_bots_hold(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """Every number write is a dry run first; a plan that prices a reserved number
    answers 402 (H4c). The activation's quote is the one the person accepts."""
    standin.model.reserve_priced = True
    [number, _] = local_pool(standin)

    await carrier.reserve(number, account_id=CHILD_A)

    assert standin.model.numbers[number].state == "available"
    assert standin.model.charges == []


async def test_releasing_a_hold_gives_the_number_back(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number, _] = local_pool(standin)
    await carrier.reserve(number, account_id=CHILD_A)

    await carrier.release_reservation(number, account_id=CHILD_A)
    await carrier.release_reservation(number, account_id=CHILD_A)  # gone already: fine

    assert standin.model.numbers[number].assigned_to is None
    assert len(standin.calls("DELETE")) == 1


async def test_a_knm_local_number_is_never_reserved_since_releasing_would_delete_it(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number, _] = local_pool(standin, module="knm_local")

    await carrier.reserve(number, account_id=CHILD_A)
    await carrier.release_reservation(number, account_id=CHILD_A)

    assert standin.calls("PUT", "/reserve") == []
    assert standin.model.numbers[number].state == "available"


async def test_releasing_a_hold_never_frees_another_accounts_reservation(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """Kazoo answers for a number under any account's path (H2): the owner comes
    from `identify`, so B's reservation read through A's path stays B's."""
    [number, _] = local_pool(standin)
    await carrier.reserve(number, account_id=CHILD_B)

    status = await carrier.number_status(number, account_id=CHILD_A)
    await carrier.release_reservation(number, account_id=CHILD_A)

    assert (status.state, status.account_id) == (CarrierNumberState.RESERVED, CHILD_B)
    assert standin.model.numbers[number].assigned_to == CHILD_B
    assert standin.calls("DELETE") == []


async def test_releasing_a_hold_never_deletes_a_number_bought_meanwhile(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)

    await carrier.release_reservation(number, account_id=CHILD_A)

    assert standin.model.numbers[number].state == "in_service"
    assert standin.calls("DELETE") == []


async def test_a_slow_search_is_waited_for_beyond_the_client_timeout(
    quick: KazooCarrier, standin: KazooStandIn
) -> None:
    """An offset-0 search waits for each carrier module in turn (M7): it gets a longer
    timeout than the client's own (one second for `quick`)."""
    standin.slow_next("GET", "/phone_numbers", 1.5)

    page = await quick.search(SearchQuery(Kind.LOCAL, "415"), quantity=2, account_id=CHILD_A)

    assert len(page.offers) == 2
    assert standin.slow == []
