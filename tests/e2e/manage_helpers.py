"""Helpers for the tests of managing numbers: owning numbers, reading the list."""

from __future__ import annotations

from bot.console.fake_slack import Message, plain
from bot.domain.assignment import Assignment
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, e164_of

ADDRESS = {
    "Street address": "140 Main St",
    "City": "San Francisco",
    "State": "CA · California",
    "ZIP code": "94103",
}


async def own(
    bot: Harness,
    count: int,
    area: str = "415",
    target: Assignment | None = None,
    user: str = ADMIN,
) -> list[str]:
    """Buy `count` numbers through the services (no approval in these bots)."""
    services, actor = bot.runtime.services, bot.actor(user)
    bought: list[str] = []
    while len(bought) < count:
        want = min(50, count - len(bought))
        found = await services.numbers.search(actor, "local", area, quantity=want)
        numbers = [n.e164 for n in found.available[:want]]
        assert numbers, f"the carrier has no more numbers in {area}"
        request = await services.purchases.request_purchase(
            actor, numbers, target or Assignment.main()
        )
        await services.purchases.accept(actor, request.id)
        await services.purchases.provision(request.id)
        bought += numbers
    return bought


def latest_list(bot: Harness, user: str = ADMIN, channel: str = CHANNEL) -> Message:
    """The newest ephemeral list (a message with number rows) the user sees."""
    lists = [
        m
        for m in bot.state.ephemerals_for(channel, user)
        if any(str(b.get("block_id", "")).startswith("number.row.") for b in m.blocks)
        or "numbers match" in " ".join(plain(b.get("text")) for b in m.blocks)
        or "number matches" in " ".join(str(b) for b in m.blocks)
    ]
    assert lists, f"{user} sees no list"
    return lists[-1]


def rows(message: Message) -> list[str]:
    """The E.164 of every row the list shows, top to bottom (read from the visible text)."""
    return [
        e164_of(plain(b.get("text")).lstrip("*"))
        for b in message.blocks
        if b.get("type") == "section" and str(b.get("block_id", "")).startswith("number.row.")
    ]


def row_text(message: Message, e164: str) -> str:
    for block in message.blocks:
        if block.get("block_id") == f"number.row.{e164}":
            return plain(block.get("text"))
    raise AssertionError(f"{e164} is not on the list")


async def slash_and_wait(bot: Harness, text: str, user: str = ADMIN) -> Message | None:
    before = len(bot.state.ephemerals_for(CHANNEL, user))
    await bot.driver.slash(user, CHANNEL, text=text)
    await bot.until(lambda s: len(s.ephemerals_for(CHANNEL, user)) > before)
    await bot.settle()
    return bot.state.ephemerals_for(CHANNEL, user)[-1]
