"""e911 checks a person meets in Slack: a ZIP code of another state, what an address costs,
numbers with no emergency address, and how to make the simulator refuse or offer candidates."""

from __future__ import annotations

from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import ADDRESS, own


async def _open_by_command(bot: Harness, number: str) -> str:
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    return text_of(bot.modal())


async def test_a_zip_code_of_another_state_is_refused_on_its_field(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await _open_by_command(bot, number)
    for label, value in {**ADDRESS, "ZIP code": "10001"}.items():
        await bot.driver.fill(ADMIN, label, value)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert result.errors == {
        "e911.zip": "ZIP code 10001 is in NY, not CA: check the ZIP code and the state."
    }
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is None
