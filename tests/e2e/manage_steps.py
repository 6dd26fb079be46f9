"""Steps shared by the accounts, release, requests and App Home end-to-end tests."""

from __future__ import annotations

from bot.console.fake_slack import Message
from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from bot.domain.records import PurchaseRequestRecord
from tests.conftest import ADMIN, MANAGER
from tests.e2e.conftest import CHANNEL, Harness, text_of

ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "caller_name": "Acme Corp",
}


async def own(
    bot: Harness, count: int = 1, area: str = "415", target: Assignment | None = None
) -> list[str]:
    """Numbers bought for the channel's account (set up through the services)."""
    s = bot.runtime.services
    admin = bot.actor(ADMIN)
    found = await s.numbers.search(admin, "local", area, quantity=count)
    request = await s.purchases.request_purchase(
        admin, [n.e164 for n in found.available[:count]], target or Assignment.main()
    )
    accepted = await s.purchases.accept(admin, request.id)
    if accepted.needs_approval:
        await s.purchases.approve(bot.actor(MANAGER), request.id)
    done = await s.purchases.provision(request.id)
    return list(done.numbers)


async def quoted(bot: Harness, count: int = 1, user: str = ADMIN) -> PurchaseRequestRecord:
    s = bot.runtime.services
    actor = bot.actor(user)
    found = await s.numbers.search(actor, "local", "212", quantity=count)
    return await s.purchases.request_purchase(
        actor, [n.e164 for n in found.available[:count]], Assignment.main()
    )


def national(e164: str) -> str:
    return format_national(e164)


async def say(bot: Harness, text: str, user: str = ADMIN, channel: str = CHANNEL) -> Message:
    """Type `/numbers TEXT` and wait for the (ephemeral) answer; return it."""
    before = len(bot.state.ephemerals_for(channel, user))
    result = await bot.driver.slash(user, channel, text=text)
    assert result.status == 200
    await bot.until(lambda s: len(s.ephemerals_for(channel, user)) > before)
    await bot.settle()
    return bot.state.ephemerals_for(channel, user)[-1]


def shown(message: Message) -> str:
    return text_of(message)
