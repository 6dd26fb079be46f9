"""Seed flow 3.1: buy the company main numbers (Local), with approval."""

from __future__ import annotations

from tests.conftest import ADMIN, MANAGER, MANAGER2
from tests.e2e.conftest import CHANNEL, Harness, e164_of, result_labels, says, text_of


async def test_buy_local_main_numbers_with_approval(bot: Harness) -> None:
    modal = await bot.open_buy()
    assert modal.title == "Buy Numbers"
    shown = text_of(modal)
    for label in ("Main Company Numbers", "Local", "Toll-free", "Area code", "Search"):
        assert label in shown

    modal = await bot.search("(415)")
    labels = result_labels(modal)
    assert len(labels) == 10
    assert all("California" in label or "CA" in label for label in labels), labels
    assert all(label.startswith("(415)") and label.endswith("$1.00/mo") for label in labels)
    picked = labels[:2]
    await bot.driver.check(ADMIN, picked)

    card = await bot.submit_and_wait_card()
    shown = text_of(card)
    assert "Buy 2 numbers" in shown and "Main Company Numbers" in shown
    assert "$0.00 → $2.00 (+$2.00)" in shown
    assert "Activation charges today: $1.00" in shown
    assert "[ Accept ]" in shown and "[ Cancel ]" in shown

    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    assert "[ Accept ]" not in text_of(bot.card())
    # Both approvers get a card by DM with Approve / Reject.
    for approver in (MANAGER, MANAGER2):
        approval = bot.card(bot.dm(approver))
        assert "[ Approve ]" in text_of(approval) and "[ Reject ]" in text_of(approval)

    dm = bot.dm(MANAGER)
    await bot.click_and_wait(MANAGER, "Approve", says(CHANNEL, "Bought 2 numbers"), channel=dm)
    shown = text_of(bot.card())
    assert "active within 5 minutes" in shown and "Approved by @bob" in shown
    # No buttons left but `e911`: no main number is emergency enabled yet.
    assert "[ " not in shown.replace("[ e911 ]", "")
    for approver in (MANAGER, MANAGER2):
        assert "Approved by @bob" in text_of(bot.card(bot.dm(approver)))
    await bot.until(lambda s: any("your numbers are bought" in t for t in bot.replies()))

    owned = await bot.numbers("main")
    assert sorted(n.e164 for n in owned) == sorted(e164_of(label) for label in picked)

    # The embedded carrier activates after a delay; the worker tells the requester.
    bot.clock.advance(minutes=2)
    tick = await bot.worker.run_once()
    assert len(tick.activated) == 1
    assert "all of them are active now" in text_of(bot.card())
    assert any("active now" in t for t in bot.replies())
