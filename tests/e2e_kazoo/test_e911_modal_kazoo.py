"""The e911 modal with the kazoo backend: no simulator hint, and the charges are Kazoo's."""

from __future__ import annotations

from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import own


async def test_the_modal_leaves_the_price_to_kazoo_and_has_no_simulator_hint(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    shown = text_of(bot.modal())
    assert "may add the carrier's e911 charge" in shown
    assert "service plan's e911 price" not in shown  # the bot's plan is not Kazoo's
    assert "simulated carrier" not in shown
