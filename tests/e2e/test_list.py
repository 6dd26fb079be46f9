"""`/numbers list`: rows, menus, the e911 warning, keyset paging while others buy."""

from __future__ import annotations

from bot.console.fake_slack import Message, plain
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.phone import format_national
from tests.conftest import ADMIN, MANAGER, MEMBER
from tests.e2e.conftest import CHANNEL, BotFactory, Harness, text_of
from tests.e2e.manage_helpers import latest_list, own, row_text, rows, slash_and_wait


async def _turn(bot: Harness, label: str, user: str = ADMIN) -> list[str]:
    """Click `Next`/`Previous` and wait until the same message shows another page."""
    before = latest_list(bot, user)
    shown = rows(before)
    count = len(bot.state.ephemerals_for(CHANNEL, user))
    await bot.driver.click(user, label, channel=CHANNEL, message_ts=before.ts)
    await bot.until(lambda s: rows(latest_list(bot, user)) != shown)
    await bot.settle()
    assert len(bot.state.ephemerals_for(CHANNEL, user)) == count  # redrawn in place
    assert latest_list(bot, user).ts == before.ts
    return rows(latest_list(bot, user))


async def test_list_rows_show_place_assignment_and_menus(direct_bot: Harness) -> None:
    bot = direct_bot
    main = await own(bot, 1, "415")
    person = await own(bot, 1, "212", Assignment.user(MEMBER))
    spare = await own(bot, 1, "312")
    await bot.runtime.services.numbers.unassign(bot.actor(), spare[0])

    message = await slash_and_wait(bot, "list")
    assert message is not None
    shown = text_of(message)
    # No main number is emergency enabled yet: the list starts with the warning.
    assert plain_first_line(message).startswith(":warning:")
    assert "/numbers e911" in shown
    assert f"{format_national(main[0])} · San Francisco, CA" in row_text(message, main[0])
    assert "Main Company Numbers" in row_text(message, main[0])
    assert f"<@{MEMBER}>" in row_text(message, person[0])  # the person as a mention
    assert "@dave" in shown
    assert "spare" in row_text(message, spare[0])
    assert "Page 1 · 1-3 of 3 numbers match" in shown
    assert "<...: Assign | Unassign | e911 | Move | Release>" in shown
    assert sorted(rows(message)) == rows(message) == sorted(main + person + spare)


def plain_first_line(message: Message) -> str:
    return plain(message.blocks[0].get("text"))


async def test_list_filters(direct_bot: Harness) -> None:
    bot = direct_bot
    main = await own(bot, 2, "415")
    person = await own(bot, 1, "212", Assignment.user(MEMBER))
    conference = await own(bot, 1, "646", Assignment(AssignmentKind.CONFERENCE))

    async def listed(words: str) -> list[str]:
        message = await slash_and_wait(bot, f"list {words}")
        assert message is not None
        return rows(message)

    assert await listed("main") == sorted(main)
    assert await listed(f"<@{MEMBER}|dave>") == person
    assert await listed("users") == person
    assert await listed("conference") == conference
    assert await listed("local 212") == person
    assert await listed("(415)") == sorted(main)
    assert await listed("spare") == []
    assert await listed("no-e911") == sorted(main + person + conference)
    assert await listed("e911") == []
    assert "No numbers match." in text_of(latest_list(bot))


async def test_list_with_a_word_it_does_not_know_says_what_is_accepted(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    message = await slash_and_wait(bot, "list <b>everything</b>")
    assert message is not None
    shown = message.text + " ".join(str(b) for b in message.blocks)
    assert "&lt;b&gt;everything&lt;/b&gt;" in shown  # escaped, so no markup gets through
    assert "[main|conference|faxbox|users|@user|spare|e911|no-e911]" in text_of(message)


async def test_a_member_lists_read_only(direct_bot: Harness) -> None:
    bot = direct_bot
    await own(bot, 2)
    message = await slash_and_wait(bot, "list", user=MEMBER)
    assert message is not None
    shown = text_of(message)
    assert "Page 1 · 1-2 of 2 numbers match" in shown
    assert "Assign" not in shown and "Buy Numbers" not in shown  # no menus, no buttons
    assert all(b.get("accessory") is None for b in message.blocks)


async def test_paging_120_numbers_while_another_admin_buys(make_bot: BotFactory) -> None:
    bot = await make_bot(approvals={"mode": "never"}, admins=[ADMIN, MANAGER])
    numbers = await own(bot, 120, "415")
    message = await slash_and_wait(bot, "list")
    assert message is not None
    assert "Page 1 · 1-10 of 120 numbers match" in text_of(message)
    pages = [rows(message)]
    bought_later: list[str] = []
    while "Next" in text_of(latest_list(bot)):
        if len(pages) in (3, 7):
            # Another admin buys numbers before (212) and after (917) the cursor.
            bought_later += await own(bot, 3, "212", user=MANAGER)
            bought_later += await own(bot, 3, "917", user=MANAGER)
        pages.append(await _turn(bot, "Next"))
    seen = [n for page in pages for n in page]
    assert len(seen) == len(set(seen)), "a number was shown twice"
    assert seen == sorted(seen)
    assert set(numbers) <= set(seen), "a number was skipped"
    late_917 = {n for n in bought_later if n.startswith("+1917")}
    assert late_917 <= set(seen)  # bought ahead of the cursor: listed when reached
    assert not {n for n in bought_later if n.startswith("+1212")} & set(seen)
    last = text_of(latest_list(bot))
    assert f"of {126 + 6} numbers match" in last
    assert "Next" not in last

    # Previous walks back through the same rows, page by page.
    back = await _turn(bot, "Previous")
    assert back == pages[-2]
    back = await _turn(bot, "Previous")
    assert back == pages[-3]
    assert f"Page {len(pages) - 2} ·" in text_of(latest_list(bot))


async def test_buy_numbers_under_the_list_opens_the_modal(direct_bot: Harness) -> None:
    bot = direct_bot
    await own(bot, 1)
    message = await slash_and_wait(bot, "list")
    assert message is not None
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.click(ADMIN, "Buy Numbers", channel=CHANNEL, message_ts=message.ts)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    assert bot.modal().title == "Buy Numbers"


async def test_move_and_release_from_the_row_menu(direct_bot: Harness) -> None:
    bot = direct_bot
    moved, released = await own(bot, 2)
    branch = await bot.runtime.services.accounts.create(bot.actor(), "Branch")

    await slash_and_wait(bot, "list")
    opened = len(bot.state.calls_to("views.open"))
    await bot.driver.menu(ADMIN, format_national(moved), "Move", channel=CHANNEL)
    await bot.until(lambda s: len(s.calls_to("views.open")) > opened)
    assert bot.modal().title == "Move number"
    await bot.driver.select(ADMIN, "Branch")
    await bot.driver.submit(ADMIN)
    await bot.settle()
    async with bot.runtime.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(moved)
    assert record is not None and record.account_id == branch.id

    await slash_and_wait(bot, "list")
    await bot.driver.menu(ADMIN, format_national(released), "Release", channel=CHANNEL)
    prompt = f"Release {format_national(released)}"
    await bot.until(lambda s: any(t.startswith(prompt) for t in bot.ephemeral_texts(ADMIN)))
    await bot.driver.click(ADMIN, "Release", channel=CHANNEL)
    await bot.settle()
    record = await bot.runtime.services.numbers.get(bot.actor(), released)
    assert record.state.value == "aging"
    listed = await slash_and_wait(bot, "list")
    assert listed is not None and "aging" in row_text(listed, released)
