"""`/numbers requests`: numbers, target, state in words, who accepted and decided and why,
and the time; Cancel for the requester, Approve and Reject for approvers."""

from __future__ import annotations

from bot.domain.phone import format_national
from bot.domain.states import RequestState
from tests.conftest import ADMIN, MANAGER, MEMBER
from tests.e2e.conftest import CHANNEL, BotFactory, Harness
from tests.e2e.manage_steps import quoted, say, shown

RAW_STATES = ("quoted", "awaiting_approval", "partially_completed")


async def _awaiting(bot: Harness, count: int = 2) -> list[str]:
    request = await quoted(bot, count)
    await bot.runtime.services.purchases.accept(bot.actor(), request.id)
    return list(request.numbers)


async def test_a_rejection_shows_who_why_and_the_numbers(bot: Harness) -> None:
    numbers = await _awaiting(bot)
    pending = await say(bot, "requests pending", user=MANAGER)
    text = shown(pending)
    assert "Awaiting approval" in text and "2 numbers for Main Company Numbers" in text
    assert all(format_national(n) in text for n in numbers)
    assert "accepted by @alice" in text.lower() and "Requested by @alice at" in text
    assert "[ Approve ]" in text and "[ Reject ]" in text

    await bot.driver.click(MANAGER, "Reject", channel=CHANNEL)
    await bot.until(lambda s: s.top_view(MANAGER) is not None)
    await bot.driver.fill(MANAGER, "Reason", "Over budget <@UADMIN>")
    assert (await bot.driver.submit(MANAGER)).outcome == "closed"
    await bot.settle()

    mine = await say(bot, "requests")
    text = shown(mine)
    assert "Rejected" in text and "rejected by @bob at" in text
    assert "“Over budget <@UADMIN>”" in text  # as typed, and it pings nobody:
    assert "&lt;@UADMIN&gt;" in str(mine.blocks)
    assert not any(raw in text for raw in RAW_STATES) and "1 numbers" not in text
    assert "[ Cancel ]" not in text  # decided: nothing to cancel


async def test_one_number_is_not_numbers_and_cancel_is_for_the_requester(bot: Harness) -> None:
    request = await quoted(bot, 1)
    mine = shown(await say(bot, "requests"))
    assert "Waiting for Accept · 1 number for Main Company Numbers" in mine
    assert "[ Cancel ]" in mine
    # Another admin sees it in `all`, without a Cancel of their own.
    other = shown(await say(bot, "requests all", user=MANAGER))
    assert "Waiting for Accept" in other and "[ Cancel ]" not in other

    await bot.click_and_wait(
        ADMIN, "Cancel", lambda s: "Cancelled" in shown(s.ephemerals_for(CHANNEL, ADMIN)[-1])
    )
    redrawn = shown(bot.state.ephemerals_for(CHANNEL, ADMIN)[-1])
    assert "cancelled by @alice" in redrawn.lower() and "[ Cancel ]" not in redrawn
    reloaded = await bot.runtime.services.purchases.reload(request.id)
    assert reloaded.state is RequestState.CANCELLED


async def test_approve_from_the_pending_view_buys(bot: Harness) -> None:
    numbers = await _awaiting(bot, 1)
    await say(bot, "requests pending", user=MANAGER)
    await bot.driver.click(MANAGER, "Approve", channel=CHANNEL)
    await bot.settle()
    after = shown(bot.state.ephemerals_for(CHANNEL, MANAGER)[-1])
    assert "No purchase request is awaiting approval" in after
    done = shown(await say(bot, "requests all", user=MANAGER))
    assert "Bought" in done and "approved by @bob at" in done
    assert format_national(numbers[0]) in done
    assert len(await bot.numbers("main")) == 1


async def test_own_request_gets_no_approve_button_without_self_approval(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(admins=["UADMIN", MANAGER])
    request = await quoted(bot, 1, user=MANAGER)
    await bot.runtime.services.purchases.accept(bot.actor(MANAGER), request.id)
    text = shown(await say(bot, "requests pending", user=MANAGER))
    assert "Awaiting approval" in text and "[ Approve ]" not in text


async def test_members_see_only_their_own(bot: Harness) -> None:
    await quoted(bot, 1)
    for which in ("", "all", "pending"):
        text = shown(await say(bot, f"requests {which}".strip(), user=MEMBER))
        assert "@alice" not in text and "Waiting for Accept" not in text, which
