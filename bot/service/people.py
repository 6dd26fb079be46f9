"""People as the carrier knows them: routes to a person name the carrier's user.

The bot's assignments keep Slack user ids (what people see and pick). A carrier
with a directory of its own (Kazoo: a person rings through their Kazoo user's
callflow) is asked for the carrier user of each person (`Carrier.directory`,
built from Slack's side in `bot/handlers/slack_people.py`); a carrier without
one is given the person id as it is.
"""

from __future__ import annotations

from bot.backends.carrier import Carrier, RouteTarget
from bot.domain.assignment import is_slack_user


async def ring(carrier: Carrier, e164: str, target: RouteTarget, *, account_id: str) -> None:
    """Make the number ring `target` at the carrier's phone system, if it has one.

    Anything but a Slack user is the carrier's own user id (the inventory sync records
    one for a carrier user no Slack user matches) and is routed as it is.
    """
    if carrier.phone_system is None:
        return
    person = target.owner_id
    if carrier.directory is not None and person is not None and is_slack_user(person):
        user = await carrier.directory.carrier_user(person, account_id=account_id)
        target = RouteTarget.user(user)
    await carrier.phone_system.route(e164, target, account_id=account_id)


async def unring(carrier: Carrier, e164: str, *, account_id: str) -> None:
    """Take the number out of every route at the carrier's phone system, if it has one."""
    if carrier.phone_system is not None:
        await carrier.phone_system.unroute(e164, account_id=account_id)


async def check_person(carrier: Carrier, slack_user_id: str, account_id: str) -> None:
    """Before a purchase for a person: `InvalidInput` now if the carrier cannot ring them
    (Kazoo: no Kazoo user with their email), rather than after the numbers are bought."""
    if carrier.directory is not None and is_slack_user(slack_user_id):
        await carrier.directory.carrier_user(slack_user_id, account_id=account_id)
