"""After buying main numbers while no main number is emergency enabled, the card offers
`e911` for the new numbers; once one is, it does not."""

from __future__ import annotations

from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, e164_of, result_labels, says, text_of
from tests.e2e.manage_helpers import ADDRESS, own


async def _buy_main(bot: Harness, area: str) -> list[str]:
    await bot.open_buy()
    modal = await bot.search(area)
    labels = result_labels(modal)[:2]
    await bot.driver.check(ADMIN, labels)
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Bought 2 numbers"), channel=CHANNEL)
    return [e164_of(label) for label in labels]


async def test_the_card_offers_e911_for_the_new_main_numbers(direct_bot: Harness) -> None:
    bot = direct_bot
    bought = await _buy_main(bot, "415")
    card = bot.card()
    assert "[ e911 ]" in text_of(card)

    before = len(bot.state.calls_to("views.open"))
    await bot.driver.click(ADMIN, "e911", channel=CHANNEL, message_ts=card.ts)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    modal = bot.modal()
    assert modal.title == "e911"
    assert format_national(bought[0]) in text_of(modal)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    record = await bot.runtime.services.numbers.get(bot.actor(), bought[0])
    assert record.emergency_enabled


async def test_no_e911_button_once_a_main_number_has_an_address(direct_bot: Harness) -> None:
    bot = direct_bot
    [first] = await own(bot, 1)
    fields = {
        "street_address": "140 Main St",
        "locality": "San Francisco",
        "region": "CA",
        "postal_code": "94103",
    }
    assert (await bot.runtime.services.e911.set_address(bot.actor(), first, fields)).saved
    await _buy_main(bot, "212")
    assert "[ e911 ]" not in text_of(bot.card())
