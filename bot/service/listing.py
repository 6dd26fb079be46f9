"""`/numbers list` and `/numbers spare`: one page of the account's numbers, paged by keyset.

A page is found from a cursor (the E.164 just before or after it), never an
offset, so numbers bought or released between two pages neither repeat nor go
missing, and a deep page costs what the first one does. The count of matching
numbers is capped for the same reason: counting a million rows on every page
would make a big account list slowly.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.records import NumberFilter
from bot.domain.states import NumberState
from bot.domain.views import PAGE_SIZE, NumberList
from bot.service.accounts import UsesAccounts
from bot.service.context import Actor

COUNT_CAP = 1000  # beyond this the list says "more than 1,000"
LISTED_STATES = (NumberState.IN_SERVICE, NumberState.AGING)


def listed_filter(flt: NumberFilter) -> NumberFilter:
    """Which states a filter lists: aging numbers too, unless it asks for an assignment
    (aging numbers have none) or for spares (a spare is in service)."""
    if flt.assignment:
        return replace(flt, states=(NumberState.IN_SERVICE,))
    return replace(flt, states=LISTED_STATES)


class ListingService(UsesAccounts):
    """The number list's keyset pages."""

    async def page(
        self,
        actor: Actor,
        flt: NumberFilter,
        *,
        page: int = 1,
        after: str | None = None,
        before: str | None = None,
        channel_id: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> NumberList:
        """A page after `after` (Next), before `before` (Previous), or the first one.

        Anyone may read the list; changes are checked by the services that make them.
        """
        flt = listed_filter(flt)
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            if before is not None:
                rows = await uow.listing.page(
                    account.id, flt, after=None, before=before, limit=page_size + 1
                )
                if len(rows) <= page_size:
                    # Back at the start: show a full first page, not the few rows left.
                    before, page = None, 1
                    rows = await uow.listing.page(
                        account.id, flt, after=None, before=None, limit=page_size + 1
                    )
                    has_previous, has_next = False, len(rows) > page_size
                    rows = rows[:page_size]
                else:
                    rows = rows[1:]
                    has_previous, has_next, page = True, True, max(2, page)
            else:
                rows = await uow.listing.page(
                    account.id, flt, after=after, before=None, limit=page_size + 1
                )
                has_previous = after is not None
                has_next = len(rows) > page_size
                rows = rows[:page_size]
                page = max(1, page) if has_previous else 1
            matching, enabled = await uow.listing.count_and_emergency(
                account.id, flt, cap=COUNT_CAP + 1
            )
        return NumberList(
            account=account,
            flt=flt,
            rows=tuple(rows),
            page=page,
            has_previous=has_previous,
            has_next=has_next,
            matching=min(matching, COUNT_CAP),
            more_than=matching > COUNT_CAP,
            main_emergency_enabled=enabled,
            page_size=page_size,
        )

    async def main_emergency_enabled(self, account_id: str) -> bool:
        """System side (cards): whether a main number of the account is emergency enabled."""
        async with self.deps.uow(write=False) as uow:
            return await uow.listing.has_emergency_main(account_id)
