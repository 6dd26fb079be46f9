"""e911 checks a person meets in Slack: a ZIP code of another state, what an address costs,
numbers with no emergency address, and how to make the simulator refuse or offer candidates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.assignment import Assignment
from bot.domain.billing import Rate
from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import ADDRESS, latest_list, own, slash_and_wait


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


async def test_the_modal_says_what_an_address_costs_before_it_is_saved(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    shown = await _open_by_command(bot, number)
    # The default plan: e911 at $2.00 a month, no activation charge.
    assert (
        ":moneybag: Saving an address adds $2.00 a month to the bill"
        " (the service plan's e911 price)." in shown
    )
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert (await bot.runtime.services.numbers.get(bot.actor(), number)).emergency_enabled

    # Correcting an enabled number's address adds nothing, and the modal says so.
    shown = await _open_by_command(bot, number)
    assert "already on the bill for this number: correcting its address costs nothing" in shown


async def test_the_carriers_quote_is_shown_when_it_gives_one(
    direct_bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    asked: list[str] = []

    async def quote_e911(e164: str, *, account_id: str) -> Rate | None:
        asked.append(e164)
        return Rate(Decimal("3.25"), Decimal("1.00"))

    monkeypatch.setattr(bot.runtime.carrier, "quote_e911", quote_e911, raising=False)
    shown = await _open_by_command(bot, number)
    assert asked == [number]
    assert "adds $3.25 a month, plus $1.00 once, to the bill (the carrier's price)." in shown


SERVICE_ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
}


async def test_assigned_numbers_without_e911_are_marked_and_counted(direct_bot: Harness) -> None:
    bot = direct_bot
    [main] = await own(bot, 1)
    [person] = await own(bot, 1, target=Assignment.user(ADMIN))
    [bridge] = await own(bot, 1, target=Assignment.parse("conference"))
    [spare] = await own(bot, 1)
    services, actor = bot.runtime.services, bot.actor()
    await services.numbers.unassign(actor, spare)
    await services.e911.set_address(actor, main, SERVICE_ADDRESS)

    await slash_and_wait(bot, "list")
    rows = {
        line.split(" · ")[0]: line
        for line in text_of(latest_list(bot)).splitlines()
        if line.startswith("(")
    }
    mark = "⚠️ no e911"
    assert mark not in rows[format_national(main)] and "🚑" in rows[format_national(main)]
    assert mark in rows[format_national(person)]
    assert mark in rows[format_national(bridge)]
    assert mark not in rows[format_national(spare)]  # a spare places no calls

    before = len(bot.state.calls_to("views.publish"))
    await bot.driver.app_home_opened(ADMIN)
    await bot.until(lambda s: len(s.calls_to("views.publish")) > before)
    home = bot.state.home(ADMIN)
    assert home is not None
    assert "Assigned, no e911: 2 ⚠️ (`/numbers list no-e911`)" in text_of(home)

    await services.e911.set_address(actor, person, SERVICE_ADDRESS)
    await services.e911.set_address(actor, bridge, SERVICE_ADDRESS)
    await bot.driver.app_home_opened(ADMIN)
    await bot.until(lambda s: "Assigned, no e911: 0" in text_of(s.home(ADMIN) or home))


async def test_the_modal_says_how_to_steer_the_simulated_geocoder(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    shown = await _open_by_command(bot, number)
    assert "simulated carrier" in shown and "`0 Main St`" in shown and "`140 Main`" in shown
    # What it says works: house number 0 is refused (the form comes back with why) ...
    for label, value in {**ADDRESS, "Street address": "0 Main St"}.items():
        await bot.driver.fill(ADMIN, label, value)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    refused = text_of(bot.modal())
    assert bot.modal().title == "e911" and "house number was not found" in refused
    assert "simulated carrier" in refused  # the hint stays on the form drawn again
    # ... and a street with no type offers candidates.
    await bot.driver.fill(ADMIN, "Street address", "140 Main")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert bot.modal().title == "Choose correct address"
