"""The list's pages on a real SQLite file: keyset both ways, aging merged in, the count."""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.domain.records import AssignmentFilter, NumberFilter
from bot.service.context import Actor
from bot.service.listing import ListingService
from tests.integration.helpers import buy

ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
}


async def _walk(listing: ListingService, admin: Actor, flt: NumberFilter) -> list[list[str]]:
    pages: list[list[str]] = []
    page = await listing.page(admin, flt, page_size=4)
    pages.append([n.e164 for n in page.rows])
    while page.has_next:
        page = await listing.page(
            admin, flt, after=page.rows[-1].e164, page=page.page + 1, page_size=4
        )
        pages.append([n.e164 for n in page.rows])
    return pages


async def test_pages_merge_aging_numbers_and_walk_back(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    s = runtime.services
    numbers = sorted((await buy(runtime, admin, manager, count=10)).numbers)
    await s.numbers.release(admin, numbers[3])
    await s.numbers.release(admin, numbers[8])

    pages = await _walk(s.listing, admin, NumberFilter())
    assert [n for p in pages for n in p] == numbers  # aging ones in place, nothing twice
    assert [len(p) for p in pages] == [4, 4, 2]
    first = await s.listing.page(admin, NumberFilter(), page_size=4)
    assert (first.matching, first.more_than, first.has_previous) == (10, False, False)
    assert [n.state.value for n in first.rows].count("aging") == 1

    # Previous from the last page gives the page before it; from the second, the first.
    back = await s.listing.page(admin, NumberFilter(), before=pages[2][0], page=2, page_size=4)
    assert [n.e164 for n in back.rows] == pages[1] and back.page == 2 and back.has_previous
    start = await s.listing.page(admin, NumberFilter(), before=pages[1][0], page=1, page_size=4)
    assert [n.e164 for n in start.rows] == pages[0] and not start.has_previous

    # Assignment filters and spares list in-service numbers only.
    mains = await s.listing.page(
        admin, NumberFilter(assignment=AssignmentFilter.parse("main")), page_size=20
    )
    assert len(mains.rows) == 8 and mains.matching == 8
    spares = await s.listing.page(
        admin, NumberFilter(assignment=AssignmentFilter.parse("spare")), page_size=20
    )
    assert spares.rows == ()


async def test_previous_near_the_start_shows_a_full_first_page(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    s = runtime.services
    numbers = sorted((await buy(runtime, admin, manager, count=6)).numbers)
    # A cursor two rows in: fewer than a page lies before it, so the first page is shown.
    page = await s.listing.page(admin, NumberFilter(), before=numbers[2], page=5, page_size=4)
    assert [n.e164 for n in page.rows] == numbers[:4]
    assert page.page == 1 and not page.has_previous and page.has_next


async def test_the_e911_warning_follows_the_main_numbers(
    runtime: Runtime, admin: Actor, member: Actor, manager: Actor
) -> None:
    s = runtime.services
    [number] = (await buy(runtime, admin, manager, count=1)).numbers
    assert not (await s.listing.page(member, NumberFilter())).main_emergency_enabled
    assert (await s.e911.set_address(admin, number, ADDRESS)).saved
    listed = await s.listing.page(member, NumberFilter(e911=True))
    assert listed.main_emergency_enabled and [n.e164 for n in listed.rows] == [number]
    account = await s.accounts.for_channel(admin)
    assert await s.listing.main_emergency_enabled(account.id)
