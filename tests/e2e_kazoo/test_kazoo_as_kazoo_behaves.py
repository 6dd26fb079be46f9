"""End-to-end on the kazoo backend, against a stand-in that answers as Kazoo 4.3's source
does: an e911 address changed to one without a suite, an ambiguous address, e911 not
allowed, a fax number's faxbox, a move to the sub-account and a release, each leaving
SmartPBX's callflows as SmartPBX would."""

from __future__ import annotations

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import ADDRESS, own
from tests.e2e.manage_steps import say, shown
from tests.e2e_kazoo.conftest import callflow_numbers
from tests.kazoo_standin import CHILD_B, ROOT, KazooStandIn


def kazoo_of(bot: Harness) -> KazooStandIn:
    standin: KazooStandIn = bot.kazoo  # type: ignore[attr-defined]
    return standin


async def _open_e911(bot: Harness, number: str) -> None:
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)


async def test_an_address_changed_to_one_without_a_suite_leaves_no_suite_at_kazoo(
    direct_bot: Harness,
) -> None:
    """H3: Kazoo merges a PATCH, so a suite left out would stay at the provider; the bot
    replaces the whole e911 object, as Monster UI does."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    [number] = await own(bot, 1)
    await _open_e911(bot, number)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)
    await bot.driver.fill(ADMIN, "Suite or unit", "Apt 5")
    result = await bot.driver.submit(ADMIN)
    # Answered with a working view within Slack's 3 s, then saved.
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert kazoo.model.numbers[number].public["e911"]["extended_address"] == "Apt 5"

    await _open_e911(bot, number)  # prefilled with the address and its suite
    await bot.driver.fill(ADMIN, "Street address", "200 Oak Ave")
    await bot.driver.fill(ADMIN, "Suite or unit", "")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()

    stored = kazoo.model.numbers[number].public["e911"]
    assert stored["street_address"] == "200 OAK AVE"
    assert "extended_address" not in stored and "suite" not in stored["legacy_data"]
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is not None and record.e911.extended_address is None
    assert record.emergency_enabled


async def test_an_ambiguous_address_offers_candidates_asking_the_provider_once(
    direct_bot: Harness,
) -> None:
    """H5 x M2: Kazoo's 500 `multiple_choice` is an answer: candidates, no retry."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    [number] = await own(bot, 1)
    await _open_e911(bot, number)
    for label, value in {**ADDRESS, "Street address": "140 Main"}.items():
        await bot.driver.fill(ADMIN, label, value)

    result = await bot.driver.submit(ADMIN)

    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert bot.modal().title == "Choose correct address"
    assert kazoo.model.e911_provider_calls == 1
    assert "e911" not in kazoo.model.numbers[number].public


async def test_e911_not_allowed_on_the_number_says_so_on_the_modal(direct_bot: Harness) -> None:
    """L2: Kazoo answers 403 `forbidden` when the reseller does not allow e911."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    [number] = await own(bot, 1)
    kazoo.model.e911_allowed = False
    await _open_e911(bot, number)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)

    result = await bot.driver.submit(ADMIN)

    # Kazoo's refusal comes after the answer to Slack: the form again, with the reason.
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert "e911 is not enabled for this number" in text_of(bot.modal())
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is None


async def test_a_fax_number_bought_by_the_bot_gets_a_faxbox_at_kazoo(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)

    [number] = await own(bot, 1, target=Assignment(AssignmentKind.FAXBOX))

    fax = kazoo.model.callflows[ROOT][f"{ROOT}-fax"]
    assert fax["numbers"] == [number]
    [box] = kazoo.model.faxboxes[ROOT].values()
    assert fax["flow"]["data"] == {"id": box["id"]} and box["caller_id"] == number
    assert kazoo.model.smartpbx_problems(ROOT) == []


async def test_move_to_the_sub_account_from_the_move_modal(direct_bot: Harness) -> None:
    """From the company's own account (`KAZOO_ACCOUNT_ID`, the default) to a sub-account."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    [number] = await own(bot, 1)
    assert callflow_numbers(kazoo, ROOT)["MainCallflow"] == ["0", number]

    await bot.driver.slash(ADMIN, CHANNEL, text=f"move {format_national(number)}")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    assert bot.modal().title == "Move number"
    await bot.driver.select(ADMIN, "Acme East", field="Account")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed", result.errors
    await bot.settle()

    assert "Moved" in bot.ephemeral_texts(ADMIN)[-1]
    assert kazoo.model.numbers[number].assigned_to == CHILD_B
    # Its old account's main callflow has no number left: "0" is no longer routed.
    assert callflow_numbers(kazoo, ROOT)["MainCallflow"] == ["undefinedMainNumber"]
    assert kazoo.model.smartpbx_problems(ROOT) == []


async def test_release_gives_the_number_back_as_kazoo_is_configured(
    direct_bot: Harness,
) -> None:
    """L1: Kazoo's default `released_state` is `available` (no aging at Kazoo); the bot
    ages the number itself, then gives it back with nothing of it left in a callflow."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    # The stand-in is configured as Kazoo is by default (knm_config.erl:27-37).
    assert (kazoo.model.released_state, kazoo.model.should_age) == ("available", False)
    first, second = await own(bot, 2)

    released = await say(bot, f"release {format_national(second)}")
    assert "Release" in shown(released)
    await bot.click_and_wait(
        ADMIN, "Release", lambda s: "Released" in s.ephemerals_for(CHANNEL, ADMIN)[-1].text
    )
    assert callflow_numbers(kazoo, ROOT)["MainCallflow"] == ["0", first]

    bot.clock.advance(days=bot.runtime.settings.aging_days + 1)
    await bot.worker.run_once()

    gone = kazoo.model.numbers[second]
    assert (gone.state, gone.assigned_to) == ("available", None)
    assert kazoo.model.smartpbx_problems(ROOT) == []
