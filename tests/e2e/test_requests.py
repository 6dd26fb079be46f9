"""Purchase requests through their cards: cancel, reject, expiry, races, failures."""

from __future__ import annotations

import asyncio

from bot.domain.states import RequestState
from tests.conftest import ADMIN, MANAGER, MANAGER2
from tests.e2e.conftest import (
    APPROVALS,
    CHANNEL,
    BotFactory,
    Harness,
    e164_of,
    result_labels,
    says,
    text_of,
)


async def _quote(bot: Harness, count: int = 2, area: str = "415", user: str = ADMIN) -> list[str]:
    """From /numbers buy to the billing card; returns the numbers quoted."""
    await bot.open_buy(user)
    modal = await bot.search(area, user)
    labels = result_labels(modal)[:count]
    await bot.driver.check(user, labels)
    await bot.submit_and_wait_card(user)
    return [e164_of(label) for label in labels]


async def _accepted(bot: Harness, user: str = ADMIN) -> None:
    await bot.click_and_wait(user, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)


async def _request_state(bot: Harness) -> RequestState:
    (request,) = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    return request.state


async def test_cancel_changes_nothing_and_releases_the_hold(bot: Harness) -> None:
    numbers = await _quote(bot)
    await bot.click_and_wait(ADMIN, "Cancel", says(CHANNEL, "Cancelled by @alice"), channel=CHANNEL)
    assert "[ " not in text_of(bot.card())
    assert await _request_state(bot) is RequestState.CANCELLED
    assert await bot.numbers() == []
    # The numbers are for sale again.
    found = await bot.runtime.services.numbers.search(bot.actor(), "local", "415")
    assert set(numbers) <= {n.e164 for n in found.available}


async def test_reject_with_a_reason(bot: Harness) -> None:
    await _quote(bot)
    await _accepted(bot)
    dm = bot.dm(MANAGER)
    await bot.driver.click(MANAGER, "Reject", channel=dm)
    await bot.until(lambda s: s.top_view(MANAGER) is not None)
    assert bot.modal(MANAGER).title == "Reject purchase"
    await bot.driver.fill(MANAGER, "Reason", "Too pricey <@UADMIN> & <!channel>")
    result = await bot.driver.submit(MANAGER)
    assert result.outcome == "closed"
    await bot.until(says(CHANNEL, "Rejected by @bob"))

    card = bot.card()
    # The reason is shown as typed, and cannot ping anyone: it is escaped mrkdwn.
    assert "Too pricey <@UADMIN> & <!channel>" in text_of(card)
    raw = str(card.blocks)
    assert "&lt;@UADMIN&gt; &amp; &lt;!channel&gt;" in raw
    await bot.until(says(dm, "Rejected by @bob"))
    await bot.until(says(bot.dm(MANAGER2), "Rejected by @bob"))
    assert "[ " not in text_of(bot.card(dm))
    assert await _request_state(bot) is RequestState.REJECTED
    assert await bot.numbers() == []


async def test_hold_expiry_updates_the_card(bot: Harness) -> None:
    await _quote(bot)
    bot.clock.advance(minutes=16)
    tick = await bot.worker.run_once()
    assert len(tick.expired) == 1
    shown = text_of(bot.card())
    assert "Expired at" in shown and "[ Accept ]" not in shown
    assert await _request_state(bot) is RequestState.EXPIRED
    # A click on an old copy of the card changes nothing and says why.
    await bot.worker.run_once()
    assert len(bot.cards()) == 1


async def test_double_clicked_approve_buys_once(bot: Harness) -> None:
    await _quote(bot)
    await _accepted(bot)
    dm = bot.dm(MANAGER)
    await asyncio.gather(
        bot.driver.click(MANAGER, "Approve", channel=dm),
        bot.driver.click(MANAGER, "Approve", channel=dm),
    )
    await bot.until(says(CHANNEL, "Bought 2 numbers"))
    await bot.until(
        lambda s: any("already approved by" in t for t in bot.ephemeral_texts(MANAGER, dm))
    )
    notes = bot.ephemeral_texts(MANAGER, dm)
    assert len(notes) == 1 and "already approved by <@UMANAGER>" in notes[0]
    assert len(await bot.numbers("main")) == 2
    assert len([t for t in bot.replies() if "your numbers are bought" in t]) == 1


async def test_two_approvers_at_once_exactly_one_wins(bot: Harness) -> None:
    await _quote(bot)
    await _accepted(bot)
    dms = {MANAGER: bot.dm(MANAGER), MANAGER2: bot.dm(MANAGER2)}
    await asyncio.gather(
        *(bot.driver.click(user, "Approve", channel=dm) for user, dm in dms.items())
    )
    await bot.until(says(CHANNEL, "Bought 2 numbers"))

    def notes() -> dict[str, list[str]]:
        return {user: bot.ephemeral_texts(user, dm) for user, dm in dms.items()}

    await bot.until(lambda s: sum(len(n) for n in notes().values()) == 1)
    (loser,) = [user for user, texts in notes().items() if texts]
    (winner,) = [user for user in dms if user != loser]
    assert f"already approved by <@{winner}>" in notes()[loser][0]
    assert f"Approved by @{ {MANAGER: 'bob', MANAGER2: 'carol'}[winner] }" in text_of(bot.card())
    assert len(await bot.numbers("main")) == 2


async def test_self_approval_is_refused(make_bot: BotFactory) -> None:
    bot = await make_bot(admins=[ADMIN, MANAGER], approvals_channel=APPROVALS)
    await _quote(bot, user=MANAGER)
    await _accepted(bot, user=MANAGER)
    assert "[ Approve ]" in text_of(bot.card(APPROVALS))
    await bot.driver.click(MANAGER, "Approve", channel=APPROVALS)
    await bot.until(lambda s: bool(bot.ephemeral_texts(MANAGER, APPROVALS)))
    assert "cannot decide on your own request" in bot.ephemeral_texts(MANAGER, APPROVALS)[0]
    assert await _request_state(bot) is RequestState.AWAITING_APPROVAL
    assert "[ Approve ]" in text_of(bot.card(APPROVALS))

    # Another approver can.
    await bot.driver.click(MANAGER2, "Approve", channel=APPROVALS)
    await bot.until(says(CHANNEL, "Bought 2 numbers"))
    assert "Approved by @carol" in text_of(bot.card(APPROVALS))


async def test_carrier_failure_mid_purchase_names_the_number(direct_bot: Harness) -> None:
    bot = direct_bot
    numbers = await _quote(bot, count=3)
    assert bot.runtime.carrier is not None
    bot.runtime.carrier.fail(numbers[1], "carrier says the number is out of stock")
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Bought 2 of 3"), channel=CHANNEL)
    card = bot.card()
    shown = text_of(card)
    assert "failed: carrier says the number is out of stock" in shown
    assert "(415)" in shown and "[ Retry ]" in shown
    # Progress showed on the card while buying.
    assert any("Purchasing…" in str(v.blocks) for v in card.history)
    await bot.until(lambda s: any("failed" in t for t in bot.replies()))
    assert await _request_state(bot) is RequestState.PARTIALLY_COMPLETED
    owned = {n.e164 for n in await bot.numbers("main")}
    assert owned == {numbers[0], numbers[2]}

    # Retry quotes the failed number again, on a new card.
    bot.runtime.carrier.heal(numbers[1])
    await bot.click_and_wait(ADMIN, "Retry", lambda s: len(bot.cards()) == 2, channel=CHANNEL)
    assert "Buy 1 number" in text_of(bot.card())
