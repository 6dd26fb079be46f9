"""End-to-end on the kazoo backend where Kazoo differs: the list after a sync, e911
answers from Kazoo, moves between sub-accounts, release out of every callflow."""

from __future__ import annotations

from bot.domain.phone import format_national
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, result_labels, text_of
from tests.e2e.manage_helpers import ADDRESS, latest_list, own, rows, slash_and_wait
from tests.e2e_kazoo.conftest import callflow_numbers
from tests.kazoo_standin import CHILD_B, ROOT, KazooStandIn, Number


def kazoo_of(bot: Harness) -> KazooStandIn:
    standin: KazooStandIn = bot.kazoo  # type: ignore[attr-defined]
    return standin


def in_callflows(kazoo: KazooStandIn, account: str, e164: str) -> list[str]:
    return [name for name, numbers in callflow_numbers(kazoo, account).items() if e164 in numbers]


async def test_the_list_shows_what_kazoo_has_after_a_sync(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    bought = await own(bot, 2)
    # SmartPBX adds a number to the account behind the bot's back.
    added = "+14155552671"
    kazoo.model.numbers[added] = Number(added, "in_service", assigned_to=ROOT)
    message = await slash_and_wait(bot, "list")
    assert message is not None and added not in rows(latest_list(bot))

    assert await bot.worker.sync_mirror()
    await slash_and_wait(bot, "list")
    assert sorted(rows(latest_list(bot))) == sorted([*bought, added])
    # The bought numbers ring the main callflow at Kazoo.
    for number in bought:
        assert in_callflows(kazoo, ROOT, number) == ["MainCallflow"]


async def _open_e911(bot: Harness, number: str) -> None:
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)


async def test_e911_invalid_multiple_choice_and_valid_at_kazoo(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    [number] = await own(bot, 1)
    await _open_e911(bot, number)

    # Kazoo's 400 `invalid` (after the answer to Slack): the form again, with the reason.
    await bot.driver.fill(ADMIN, "ZIP code", "00012")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    assert ":warning:" in text_of(bot.modal()) and "ZIP code: 00012" in text_of(bot.modal())

    # A street with no street type: Kazoo offers candidates, the modal asks which.
    await bot.driver.fill(ADMIN, "ZIP code", "94103")
    await bot.driver.fill(ADMIN, "Street address", "140 Main")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    modal = bot.modal()
    assert modal.title == "Choose correct address"
    shown = text_of(modal)
    assert "140 MAIN ST, San Francisco, CA 94103" in shown
    assert "140 MAIN AVE, San Francisco, CA 94103" in shown
    await bot.driver.select(ADMIN, "140 MAIN ST, San Francisco, CA 94103")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.until(lambda s: any("emergency enabled" in t for t in bot.ephemeral_texts(ADMIN)))

    stored = kazoo.model.numbers[number].public["e911"]
    assert stored["street_address"] == "140 MAIN ST"
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.emergency_enabled


async def test_move_to_another_kazoo_account_leaves_the_old_callflows(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    first, second = await own(bot, 2)
    await bot.runtime.services.numbers.move(bot.actor(), second, "Acme East")

    assert kazoo.model.numbers[second].assigned_to == CHILD_B
    assert in_callflows(kazoo, ROOT, second) == []
    # The main callflow keeps its other number (never emptied).
    assert in_callflows(kazoo, ROOT, first) == ["MainCallflow"]
    await slash_and_wait(bot, "list")
    assert rows(latest_list(bot)) == [first]


async def test_release_takes_the_number_out_of_every_callflow(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    first, second = await own(bot, 2)
    await bot.runtime.services.numbers.release(bot.actor(), second)
    assert in_callflows(kazoo, ROOT, second) == []
    assert in_callflows(kazoo, ROOT, first) == ["MainCallflow"]

    # When aging ends the worker gives it back to Kazoo; no callflow points at it.
    bot.clock.advance(days=bot.runtime.settings.aging_days + 1)
    await bot.worker.run_once()
    assert kazoo.model.numbers[second].assigned_to is None
    for account in (ROOT, CHILD_B):
        assert in_callflows(kazoo, account, second) == []


async def test_a_slack_user_with_no_kazoo_user_is_told_so(direct_bot: Harness) -> None:
    bot = direct_bot
    bot.slack.add_user("UERIN", "erin", email="erin@example.com")  # no Kazoo user has it
    [number] = await own(bot, 1)

    said = await slash_and_wait(bot, f"assign {number} <@UERIN|erin>")
    assert said is not None
    assert "has no Kazoo user on this account" in said.text
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.assignment is not None and record.assignment.user_id is None


async def test_buying_for_a_slack_user_with_no_kazoo_user_is_refused_before_buying(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    bot.slack.add_user("UERIN", "erin", email="erin@example.com")  # no Kazoo user has it
    await bot.open_buy(text="buy <@UERIN|erin>")
    modal = await bot.search("212")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    result = await bot.driver.submit(ADMIN)
    shown = " ".join(result.errors.values()) + " ".join(bot.ephemeral_texts(ADMIN))
    assert "has no Kazoo user on this account" in shown, (result.outcome, result.errors)
    assert kazoo.model.charges == []
    assert not [n for n in kazoo.model.numbers.values() if n.state == "reserved"]


async def test_a_kazoo_user_with_no_slack_user_is_restored_to_their_number(
    direct_bot: Harness,
) -> None:
    """SmartPBX gave a number to Frank, who has no Slack account: the sync records him by
    his Kazoo id; release, then restore, and the number rings Frank again."""
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    frank, number = f"{ROOT}-user-frank", "+14155552671"
    kazoo.model.users[ROOT][frank] = {
        "id": frank,
        "first_name": "Frank",
        "last_name": "Field",
        "email": "frank@example.com",
    }
    kazoo.model.callflows[ROOT][f"{ROOT}-frank"] = {
        "id": f"{ROOT}-frank",
        "name": "Frank Field SmartPBX's Callflow",
        "type": "mainUserCallflow",
        "owner_id": frank,
        "numbers": ["1006", number],
        "flow": {"module": "user", "data": {"id": frank}, "children": {}},
    }
    kazoo.model.numbers[number] = Number(number, "in_service", assigned_to=ROOT)
    kazoo.model.refresh_used_by(ROOT)
    assert await bot.worker.sync_mirror()
    await slash_and_wait(bot, "list")
    assert f"Kazoo user `{frank}`" in text_of(latest_list(bot))

    await bot.runtime.services.numbers.release(bot.actor(), number)
    assert in_callflows(kazoo, ROOT, number) == []
    restored = await slash_and_wait(bot, f"restore {number}")
    assert restored is not None and "Restored" in restored.text
    assert f"Kazoo user `{frank}`" in text_of(restored) and "<@" not in text_of(restored)
    assert in_callflows(kazoo, ROOT, number) == ["Frank Field SmartPBX's Callflow"]
