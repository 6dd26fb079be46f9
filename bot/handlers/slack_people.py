"""Slack users and Kazoo users, matched by email address (Slack's side of `PeopleCarrier`).

Slack shows emails only with the `users:read.email` scope (manifest.yml). A
Slack user with no Kazoo user gets a clear answer naming what to fix, never a
silent failure.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.backends.carrier import Carrier, CarrierUser
from bot.domain.errors import InvalidInput
from bot.service.mirror import SlackUserFor
from bot.service.people import CarrierUserFor

FIELD = "target"
_NO_ANSWER = "Slack did not say who that person is. Try again in a moment."


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


async def require_person(client: AsyncWebClient, user_id: str, field: str = "user") -> None:
    """A person of this workspace, as Slack knows them (`users.info`): not a made-up id,
    not a deactivated account, not an app. `InvalidInput` on `field` otherwise."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("user_not_found", "invalid_user"):
            raise InvalidInput(
                field,
                f"There is no such person in this workspace (“{user_id}”): choose them from "
                "the list, or type @ and pick their name so Slack links it.",
            ) from None
        raise InvalidInput(field, _NO_ANSWER) from None
    except (aiohttp.ClientError, TimeoutError):
        raise InvalidInput(field, _NO_ANSWER) from None
    user = response.get("user") or {}
    if user.get("deleted"):
        raise InvalidInput(field, "That person's Slack account is deactivated: choose another.")
    if user.get("is_bot") or user_id == "USLACKBOT":
        raise InvalidInput(field, "That is an app, not a person: choose a person.")


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


def slack_directory(client: AsyncWebClient, carrier: Carrier) -> CarrierUserFor:
    """The Kazoo user of a Slack user, by email (`kazoo_user_for`)."""

    async def lookup(slack_user_id: str, account_id: str) -> str:
        user = await kazoo_user_for(
            client, carrier, slack_user_id=slack_user_id, account_id=account_id
        )
        return user.id

    return lookup
