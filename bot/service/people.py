"""People as the carrier knows them: a carrier whose user routes name the bot's users.

Kazoo routes a number to a person through that person's callflow (`owner_id`
= the Kazoo user). The bot's assignments keep Slack user ids, so the carrier
the services use asks a directory (`CarrierUserFor`, built from Slack's side
in `bot/handlers/slack_people.py`) for the carrier user of each person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.backends.carrier import (
    Carrier,
    CarrierAccount,
    CarrierE911Outcome,
    CarrierQuote,
    CarrierUser,
    NumberStatus,
    OrderResult,
    OwnedPage,
    ReleaseResult,
    RouteTarget,
    SearchPage,
)
from bot.domain.assignment import is_slack_user
from bot.domain.e911 import E911Address
from bot.domain.phone import SearchQuery

# (Slack user id, the carrier account's id) -> the carrier user's id.
CarrierUserFor = Callable[[str, str], Awaitable[str]]


class PeopleCarrier:
    """A carrier whose user routes name Slack users; each is routed to their Kazoo user.

    The bot's assignments keep Slack user ids (what people see and pick); a
    carrier with a directory of its own (Kazoo) rings its own user's callflow.
    The lookup raises `InvalidInput` on the `target` field when a Slack user has
    no Kazoo user, so the person is told what to fix. Every other call passes through.
    """

    def __init__(self, inner: Carrier, lookup: CarrierUserFor) -> None:
        self.inner = inner
        self.name = inner.name
        self.lookup = lookup

    # --- stock -----------------------------------------------------------------------

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        return await self.inner.search(
            query, quantity=quantity, offset=offset, account_id=account_id
        )

    async def reserve(self, e164: str, *, account_id: str) -> None:
        await self.inner.reserve(e164, account_id=account_id)

    async def release_reservation(self, e164: str, *, account_id: str) -> None:
        await self.inner.release_reservation(e164, account_id=account_id)

    # --- buying ----------------------------------------------------------------------

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        return await self.inner.quote(numbers, account_id=account_id)

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        return await self.inner.order(
            numbers, account_id=account_id, idempotency_key=idempotency_key
        )

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        return await self.inner.number_status(e164, account_id=account_id)

    # --- e911 ------------------------------------------------------------------------

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        return await self.inner.provision_e911(
            e164, address, account_id=account_id, accept_charges=accept_charges
        )

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        await self.inner.remove_e911(e164, account_id=account_id)

    # --- routing ---------------------------------------------------------------------

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        # Anything but a Slack user is the carrier's own user id (the mirror records one for
        # a Kazoo user no Slack user matches) and is routed as it is.
        if target.owner_id is not None and is_slack_user(target.owner_id):
            # A Slack user: ring their Kazoo user's callflow (or say why there is none).
            user = await self.lookup(target.owner_id, account_id)
            target = RouteTarget.user(user)
        await self.inner.route(e164, target, account_id=account_id)

    async def unroute(self, e164: str, *, account_id: str) -> None:
        await self.inner.unroute(e164, account_id=account_id)

    async def routes(self, *, account_id: str) -> Mapping[str, RouteTarget]:
        return await self.inner.routes(account_id=account_id)

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]:
        return await self.inner.users(account_id=account_id)

    # --- moving and releasing --------------------------------------------------------

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        await self.inner.move(e164, from_account_id=from_account_id, to_account_id=to_account_id)

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        return await self.inner.release(e164, account_id=account_id)

    # --- the mirror ------------------------------------------------------------------

    async def list_numbers(
        self, *, account_id: str, start_key: str | None = None, page_size: int = 500
    ) -> OwnedPage:
        return await self.inner.list_numbers(
            account_id=account_id, start_key=start_key, page_size=page_size
        )

    async def accounts(self) -> Sequence[CarrierAccount]:
        return await self.inner.accounts()

    async def close(self) -> None:
        await self.inner.close()


if TYPE_CHECKING:
    # mypy checks here that the wrapper keeps the Carrier protocol.
    _conforms: type[Carrier] = PeopleCarrier


async def check_person(carrier: Carrier, slack_user_id: str, account_id: str) -> None:
    """Before a purchase for a person: `InvalidInput` now if the carrier cannot ring them
    (Kazoo: no Kazoo user with their email), rather than after the numbers are bought."""
    if isinstance(carrier, PeopleCarrier) and is_slack_user(slack_user_id):
        await carrier.lookup(slack_user_id, account_id)
