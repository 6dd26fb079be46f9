"""The `e911` modal: form errors, geocoder refusal, `Choose correct address`, success,
the prefilled form and `Remove e911`."""

from __future__ import annotations

from bot.domain.phone import format_national
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import (
    ADDRESS,
    latest_list,
    own,
    row_text,
    slash_and_wait,
)


async def _open_from_menu(bot: Harness, number: str) -> str:
    await slash_and_wait(bot, "list")
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.menu(ADMIN, format_national(number), "e911", channel=CHANNEL)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    return text_of(bot.modal())


async def _fill(bot: Harness, **fields: str) -> None:
    for label, value in {**ADDRESS, **fields}.items():
        await bot.driver.fill(ADMIN, label.replace("_", " "), value)


async def _set_by_service(bot: Harness, number: str) -> None:
    fields = {
        "street_address": "140 Main St",
        "locality": "San Francisco",
        "region": "CA",
        "postal_code": "94103",
    }
    result = await bot.runtime.services.e911.set_address(bot.actor(), number, fields)
    assert result.saved


async def test_e911_from_the_row_menu_errors_candidates_and_success(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    shown = await _open_from_menu(bot, number)
    assert shown.startswith("=== e911 ===")
    for label in ("Street address", "Suite or unit (optional)", "City", "State", "ZIP code"):
        assert label in shown
    assert "Caller name (optional)" in shown
    assert "Remove e911" not in shown  # nothing to remove yet

    # A field that breaks the form rules: the error is on that field, the modal stays.
    await _fill(bot, **{"ZIP code": "9410"})
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert list(result.errors) == ["e911.zip"]
    assert "5 digits" in result.errors["e911.zip"]
    assert bot.modal().title == "e911"

    # The geocoder refuses the address (after the answer to Slack: it is a remote call):
    # the form is drawn again with what was typed and the provider's reason.
    await bot.driver.fill(ADMIN, "ZIP code", "00012")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    refused = text_of(bot.modal())
    assert bot.modal().title == "e911" and ":warning:" in refused
    assert "ZIP code: 00012" in refused and "Street address: 140 Main St" in refused
    assert (await bot.runtime.services.numbers.get(bot.actor(), number)).e911 is None

    # Several candidates: the modal becomes `Choose correct address`.
    await bot.driver.fill(ADMIN, "ZIP code", "94103")
    await bot.driver.fill(ADMIN, "Street address", "140 Main")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    modal = bot.modal()
    assert modal.title == "Choose correct address"
    choices = [line for line in text_of(modal).splitlines() if "140 Main" in line]
    assert choices
    await bot.driver.select(ADMIN, "140 Main St, San Francisco, CA 94103")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert "is emergency enabled" in text_of(bot.modal())  # the outcome, in the modal too

    # Saved: a confirmation names the number and the address; the list shows 🚑.
    await bot.until(lambda s: any("emergency enabled" in t for t in bot.ephemeral_texts(ADMIN)))
    confirmation = next(t for t in bot.ephemeral_texts(ADMIN) if "emergency enabled" in t)
    assert format_national(number) in confirmation
    assert "140 Main St, San Francisco, CA 94103" in confirmation
    message = await slash_and_wait(bot, "list")
    assert message is not None
    assert "🚑" in row_text(message, number)
    assert ":warning:" not in text_of(message)
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.emergency_enabled


async def test_e911_by_command_saves_a_valid_address_at_once(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    await _fill(bot, **{"Suite or unit": "Floor 3", "Caller name": "Acme HQ"})
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.until(lambda s: any("emergency enabled" in t for t in bot.ephemeral_texts(ADMIN)))
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is not None
    assert record.e911.extended_address == "Floor 3"
    assert record.e911.caller_name == "Acme HQ"


async def test_prefilled_modal_and_remove_e911_keeps_the_last_main_number(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    first, second = await own(bot, 2)
    await _set_by_service(bot, first)
    await _set_by_service(bot, second)

    # The modal is prefilled from the saved address and offers `Remove e911`.
    shown = await _open_from_menu(bot, first)
    assert "Street address: 140 Main St" in shown
    assert "City: San Francisco" in shown
    assert "<State: " in shown and "= CA · California" in shown
    assert "ZIP code: 94103" in shown
    assert "[ Remove e911 ]" in shown

    # Another main number keeps an address: removing this one is allowed.
    await bot.redraw(bot.driver.click(ADMIN, "Remove e911"))
    assert "is removed" in text_of(bot.modal())
    record = await bot.runtime.services.numbers.get(bot.actor(), first)
    assert record.e911 is None
    await bot.driver.close(ADMIN)

    # The last emergency-enabled main number: refused, with the reason on the modal.
    await _open_from_menu(bot, second)
    modal = await bot.redraw(bot.driver.click(ADMIN, "Remove e911"))
    assert "last emergency-enabled main number" in text_of(modal)
    assert modal.title == "e911"
    record = await bot.runtime.services.numbers.get(bot.actor(), second)
    assert record.emergency_enabled
    assert ":warning:" not in text_of(latest_list(bot))


async def test_a_member_cannot_open_e911(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await slash_and_wait(bot, f"e911 {number}", user=MEMBER)
    assert any("Only numbers admins" in t for t in bot.ephemeral_texts(MEMBER))
    assert bot.state.calls_to("views.open") == []
