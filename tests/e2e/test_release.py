"""Release behind Slack's confirm dialog, aging, restore with the assignment, history."""

from __future__ import annotations

import asyncio

from bot.domain.assignment import Assignment
from bot.domain.records import NumberFilter
from bot.domain.states import NumberState
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness
from tests.e2e.manage_steps import ADDRESS, national, own, say, shown


def _release_button(message_blocks: list[dict[str, object]]) -> dict[str, object]:
    for block in message_blocks:
        for element in block.get("elements", []) or []:  # type: ignore[attr-defined]
            if element.get("text", {}).get("text") == "Release":
                return dict(element)
    raise AssertionError("no Release button")


async def _aging(bot: Harness) -> list[str]:
    page = await bot.runtime.services.numbers.list_numbers(
        bot.actor(), NumberFilter(states=(NumberState.AGING,))
    )
    return [r.e164 for r in page.rows]


async def test_release_with_confirm_then_restore_with_its_assignment(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    prompt = await say(bot, f"release {national(a)}")
    text = shown(prompt)
    assert national(a) in text and "rings Main Company Numbers" in text
    assert "ages for 30 days" in text and "Account: Main" in text
    confirm = _release_button(prompt.blocks)["confirm"]
    assert isinstance(confirm, dict)
    assert confirm["title"]["text"] == "Release this number?"
    assert confirm["confirm"]["text"] == "Release" and confirm["style"] == "danger"
    assert await _aging(bot) == []  # nothing happens before the click

    await bot.click_and_wait(
        ADMIN, "Release", lambda s: "Released" in s.ephemerals_for(CHANNEL, ADMIN)[-1].text
    )
    released = bot.state.ephemerals_for(CHANNEL, ADMIN)[-1]
    assert "aging until" in shown(released) and "[ Release ]" not in shown(released)
    assert await _aging(bot) == [a]
    record = await bot.runtime.services.numbers.get(bot.actor(), a)
    assert record.state is NumberState.AGING and record.aging_until is not None

    restored = await say(bot, f"restore {a}")
    assert "Restored" in shown(restored) and "rings Main Company Numbers" in shown(restored)
    record = await bot.runtime.services.numbers.get(bot.actor(), a)
    assert record.state is NumberState.IN_SERVICE and record.assignment == Assignment.main()

    history = shown(await say(bot, f"history {a}"))
    lines = [line for line in history.splitlines() if "@alice ·" in line]
    # Newest first: the restore's re-assignment, the restore, the release.
    assert "assigned" in lines[0] and "restored" in lines[1] and "released" in lines[2]
    assert "state: in service → aging" in history
    assert "assignment: Main Company Numbers → none" in history


async def test_double_clicked_release_releases_once(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    await say(bot, f"release {a}")
    await asyncio.gather(
        bot.driver.click(ADMIN, "Release", channel=CHANNEL),
        bot.driver.click(ADMIN, "Release", channel=CHANNEL),
    )
    await bot.settle()
    async with bot.runtime.services.deps.uow(write=False) as uow:
        events = await uow.audit.for_number(bot.slack.workspace.team_id, a)
    assert [e.action for e in events].count("number.released") == 1


async def test_release_refused_for_the_last_emergency_main_number(direct_bot: Harness) -> None:
    bot = direct_bot
    (a,) = await own(bot)
    await bot.runtime.services.e911.set_address(bot.actor(), a, ADDRESS)
    refused = await say(bot, f"release {a}")
    assert "last emergency-enabled main number" in shown(refused)
    assert "[ Release ]" not in shown(refused)


async def test_aging_ends_and_the_worker_returns_it_to_the_carrier(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    await bot.runtime.services.numbers.release(bot.actor(), a)
    bot.clock.advance(days=31)
    await bot.worker.run_once()
    late = await say(bot, f"restore {a}")
    assert "is not a number of the account Main" in shown(late)
    assert await _aging(bot) == []


async def test_members_cannot_release_restore_or_read_history(direct_bot: Harness) -> None:
    bot = direct_bot
    (a,) = await own(bot)
    for text in (f"release {a}", f"restore {a}", f"history {a}"):
        assert "Only numbers admins" in shown(await say(bot, text, user=MEMBER)), text


async def test_history_is_newest_first_and_paged(direct_bot: Harness) -> None:
    bot = direct_bot
    a, b = await own(bot, count=2)
    numbers = bot.runtime.services.numbers
    for _ in range(6):  # 12 events, plus the purchase's own
        await numbers.assign(bot.actor(), a, "conference")
        await numbers.assign(bot.actor(), a, "main")
    first = shown(await say(bot, f"history {a}"))
    assert "Page 1" in first and "[ Next ]" in first and "[ Previous ]" not in first
    await bot.click_and_wait(
        ADMIN, "Next", lambda s: "Page 2" in shown(s.ephemerals_for(CHANNEL, ADMIN)[-1])
    )
    second = shown(bot.state.ephemerals_for(CHANNEL, ADMIN)[-1])
    assert "[ Previous ]" in second and "bought" in second  # the oldest events
    assert b not in second


async def test_release_of_a_released_number_says_so_and_of_a_spare_says_no_ringing(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    a, b = await own(bot, count=2)
    await bot.runtime.services.numbers.unassign(bot.actor(), b)
    spare = shown(await say(bot, f"release {b}"))
    assert "stops ringing" not in spare and "with its assignment" not in spare
    await bot.runtime.services.numbers.release(bot.actor(), a)
    again = shown(await say(bot, f"release {a}"))
    assert "released already" in again and "[ Release ]" not in again


async def test_an_old_release_prompt_does_nothing_once_the_number_was_restored(
    direct_bot: Harness,
) -> None:
    """Two prompts for one number; one releases it, it is restored, the other is clicked."""
    bot = direct_bot
    a, _ = await own(bot, count=2)
    old = await say(bot, f"release {a}")
    fresh = await say(bot, f"release {a}")
    await bot.driver.click(ADMIN, "Release", channel=CHANNEL, message_ts=fresh.ts)
    await bot.until(lambda s: "Released" in s.ephemerals_for(CHANNEL, ADMIN)[-1].text)
    assert "Restored" in shown(await say(bot, f"restore {a}"))

    before = len(bot.state.ephemerals_for(CHANNEL, ADMIN))
    await bot.driver.click(ADMIN, "Release", channel=CHANNEL, message_ts=old.ts)
    await bot.until(lambda s: len(s.ephemerals_for(CHANNEL, ADMIN)) > before)
    await bot.settle()
    answer = shown(bot.state.ephemerals_for(CHANNEL, ADMIN)[-1])
    assert "Nothing was released" in answer and "changed after this prompt was drawn" in answer
    assert "released by @alice, then restored by @alice" in answer
    assert "Now it rings Main Company Numbers" in answer
    record = await bot.runtime.services.numbers.get(bot.actor(), a)
    assert record.state is NumberState.IN_SERVICE and record.assignment == Assignment.main()
    async with bot.runtime.services.deps.uow(write=False) as uow:
        events = await uow.audit.for_number(bot.slack.workspace.team_id, a)
    assert [e.action for e in events].count("number.released") == 1


async def test_restore_after_aging_ended_says_so_before_the_sweep_ran(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    await bot.runtime.services.numbers.release(bot.actor(), a)
    bot.clock.advance(days=30, seconds=1)  # aging over; the worker has not run yet
    late = shown(await say(bot, f"restore {a}"))
    assert "Restored" not in late
    assert "ended" in late and "going back to the carrier" in late
    assert "can no longer be restored" in late
    assert await _aging(bot) == [a]  # the sweep gives it back; the restore changed nothing
