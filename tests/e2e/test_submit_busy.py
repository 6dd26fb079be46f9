"""Modal submissions answer Slack before they write: `Move number`, `Assign` and `e911`
are checked, answered, then applied, so a busy database (another process holds SQLite's
write lock) never makes Slack show the person a failure for a change applied after.

Nothing here measures time: the submission is answered while the lock is still held,
which it could not be if the answer waited for the write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, PRIVATE, Harness, text_of
from tests.e2e.manage_helpers import ADDRESS, own, slash_and_wait
from tests.e2e.manage_steps import say, shown

BRANCH = "C2BRANCH"


@contextmanager
def database_busy(bot: Harness) -> Iterator[None]:
    """Another writer (a backup, another replica) holds the write lock meanwhile."""
    database = bot.runtime.settings.database_url.split("///", 1)[1]
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


async def _branch(bot: Harness) -> None:
    bot.slack.add_channel(BRANCH, "branch")
    assert "Created" in shown(await say(bot, "account create Branch Office"))


async def _open_move(bot: Harness, number: str, channel: str = CHANNEL) -> None:
    await bot.driver.slash(ADMIN, channel, text=f"move {format_national(number)}")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    assert bot.modal().title == "Move number"
    await bot.driver.select(ADMIN, "Branch Office", field="Account")


async def _account_of(bot: Harness, number: str) -> str | None:
    async with bot.runtime.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(number)
    assert record is not None
    return record.account_id


@pytest.mark.sqlite_only  # held busy through SQLite's own write lock
async def test_move_is_answered_while_the_database_is_busy_then_moved_and_confirmed(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await _branch(bot)
    main = await _account_of(bot, number)
    await _open_move(bot, number)

    with database_busy(bot):
        result = await bot.driver.submit(ADMIN)
        assert result.outcome == "closed", result.problem  # answered, not timed out
        assert await _account_of(bot, number) == main  # and nothing written yet
        assert not any("Moved" in t for t in bot.ephemeral_texts(ADMIN))

    await bot.until(lambda s: any("Moved" in t for t in bot.ephemeral_texts(ADMIN)))
    await bot.settle()
    assert await _account_of(bot, number) != main


async def test_a_refused_move_stays_on_the_modal_and_changes_nothing(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await bot.runtime.services.e911.set_address(
        bot.actor(),
        number,
        {
            "street_address": "140 Main St",
            "locality": "San Francisco",
            "region": "CA",
            "postal_code": "94103",
        },
    )
    await _branch(bot)
    main = await _account_of(bot, number)
    await _open_move(bot, number)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert "last emergency-enabled main number" in " ".join(result.errors.values())
    await bot.settle()
    assert await _account_of(bot, number) == main


@pytest.mark.sqlite_only  # held busy through SQLite's own write lock
async def test_assign_is_answered_while_the_database_is_busy_then_assigned(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await slash_and_wait(bot, "list")
    await bot.driver.menu(ADMIN, format_national(number), "Assign", channel=CHANNEL)
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    await bot.driver.fill(ADMIN, "Assign to", "A user")
    await bot.driver.fill(ADMIN, "User", "dave")

    with database_busy(bot):
        result = await bot.driver.submit(ADMIN)
        assert result.outcome == "closed", result.problem
        record = await bot.runtime.services.numbers.get(bot.actor(), number)
        assert record.assignment == Assignment.main()

    await bot.until(lambda s: any("now rings" in t for t in bot.ephemeral_texts(ADMIN)))
    await bot.settle()
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.assignment == Assignment.user(MEMBER)


@pytest.mark.sqlite_only  # held busy through SQLite's own write lock
async def test_e911_is_answered_with_a_working_view_then_shows_the_outcome(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)

    with database_busy(bot):
        result = await bot.driver.submit(ADMIN)
        assert result.outcome == "updated", result.problem
        assert "Checking the address" in text_of(bot.modal())
        assert (await bot.runtime.services.numbers.get(bot.actor(), number)).e911 is None

    await bot.until(lambda s: "is emergency enabled" in text_of(bot.modal()))
    await bot.settle()
    assert (await bot.runtime.services.numbers.get(bot.actor(), number)).emergency_enabled


async def test_move_from_a_channel_the_bot_is_not_in_confirms_there_and_redraws_homes(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await _branch(bot)
    await bot.driver.app_home_opened(ADMIN)
    await bot.until(lambda s: s.home(ADMIN) is not None)
    await bot.settle()
    homes = len(bot.state.calls_to("views.publish"))
    await _open_move(bot, number, channel=PRIVATE)

    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed", result.problem
    await bot.until(lambda s: any("Moved" in m.text for m in s.ephemerals_for(PRIVATE, ADMIN)))
    await bot.settle()
    said = " ".join(m.text for m in bot.state.ephemerals_for(PRIVATE, ADMIN))
    said += " ".join(m.text for m in bot.state.messages_in(bot.dm(ADMIN)))
    assert "went wrong" not in said
    assert len(bot.state.calls_to("views.publish")) > homes
