"""Slack users and Kazoo users, matched by email address.

Kazoo routes a number to a person through that person's callflow (`owner_id`
= the Kazoo user), so assigning a number to a Slack user first finds the
Kazoo user with the same email. Slack shows emails only with the
`users:read.email` scope (manifest.yml). A Slack user with no Kazoo user gets
a clear answer naming what to fix, never a silent failure.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.domain.e911 import E911Address
from bot.domain.errors import InvalidInput
from bot.domain.phone import SearchQuery
from bot.service.mirror import SlackUserFor

FIELD = "target"


def _email(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


async def slack_email(client: AsyncWebClient, slack_user_id: str) -> str:
    """The Slack user's email address; `InvalidInput` saying why there is none."""
    try:
        response = await client.users_info(user=slack_user_id)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "missing_scope":
            raise InvalidInput(
                FIELD,
                "Slack did not give the bot email addresses (the app lacks the"
                " users:read.email scope), so it cannot find Kazoo users. Ask an admin"
                " to reinstall the app, or pick another target.",
            ) from None
        raise InvalidInput(FIELD, f"Slack does not know the user <@{slack_user_id}>.") from None
    user = response.get("user") or {}
    email = _email((user.get("profile") or {}).get("email"))
    if email is None:
        raise InvalidInput(
            FIELD,
            f"Slack shows no email address for <@{slack_user_id}> (a bot or a guest"
            " without one), so the bot cannot find their Kazoo user. Pick another target.",
        )
    return email


def match_by_email(users: list[CarrierUser], email: str, slack_user_id: str) -> CarrierUser:
    """The one Kazoo user with this email; `InvalidInput` when none or several."""
    found = [u for u in users if _email(u.email) == email]
    if not found:
        raise InvalidInput(
            FIELD,
            f"<@{slack_user_id}> has no Kazoo user on this account: no Kazoo user there has"
            " their Slack email address. Add it to their user in SmartPBX (or create the"
            " user), then try again; or pick another target.",
        )
    if len(found) > 1:
        raise InvalidInput(
            FIELD,
            f"Several Kazoo users on this account have <@{slack_user_id}>'s email address;"
            " keep it on one of them in SmartPBX, then try again.",
        )
    return found[0]


async def kazoo_user_for(
    client: AsyncWebClient, carrier: Carrier, *, slack_user_id: str, account_id: str
) -> CarrierUser:
    """The Kazoo user (on the Kazoo account `account_id`) for a Slack user.

    Slack is asked first: no carrier call is made for a user without an email.
    """
    email = await slack_email(client, slack_user_id)
    users = list(await carrier.users(account_id=account_id))
    return match_by_email(users, email, slack_user_id)


def slack_users_by_email(client: AsyncWebClient) -> SlackUserFor:
    """For the mirror: the Slack user of a Kazoo user (`users.lookupByEmail`), or None.

    Answers are remembered for the life of the function (one sync), so a person
    with many numbers costs one Slack call.
    """
    seen: dict[str, str | None] = {}

    async def slack_user_for(user: CarrierUser) -> str | None:
        email = _email(user.email)
        if email is None:
            return None
        if email not in seen:
            try:
                response = await client.users_lookupByEmail(email=email)
            except SlackApiError:
                seen[email] = None  # users_not_found, or the scope is missing
            else:
                found = (response.get("user") or {}).get("id")
                seen[email] = str(found) if found else None
        return seen[email]

    return slack_user_for


# A Slack user id. Anything else is the carrier's own user id (the mirror records one
# for a Kazoo user no Slack user matches) and is routed as it is.
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")

# (Slack user id, the carrier account's id) -> the carrier user's id.
CarrierUserFor = Callable[[str, str], Awaitable[str]]


def slack_directory(client: AsyncWebClient, carrier: Carrier) -> CarrierUserFor:
    """The Kazoo user of a Slack user, by email (`kazoo_user_for`)."""

    async def lookup(slack_user_id: str, account_id: str) -> str:
        user = await kazoo_user_for(
            client, carrier, slack_user_id=slack_user_id, account_id=account_id
        )
        return user.id

    return lookup


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

    async def search(self, query: SearchQuery, *, quantity: int, offset: int = 0) -> SearchPage:
        return await self.inner.search(query, quantity=quantity, offset=offset)

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
        self, e164: str, address: E911Address, *, account_id: str
    ) -> CarrierE911Outcome:
        return await self.inner.provision_e911(e164, address, account_id=account_id)

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        await self.inner.remove_e911(e164, account_id=account_id)

    # --- routing ---------------------------------------------------------------------

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        if target.owner_id is not None and _SLACK_USER.match(target.owner_id):
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
    if isinstance(carrier, PeopleCarrier) and _SLACK_USER.match(slack_user_id):
        await carrier.lookup(slack_user_id, account_id)
