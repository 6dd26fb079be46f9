"""Accept while another process holds the database: the clicker reads why, and may retry."""

from __future__ import annotations

import sqlite3

import pytest

from bot.domain.states import RequestState
from storage import db
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, BotFactory, result_labels, says

pytestmark = pytest.mark.sqlite_only


async def test_accept_on_a_busy_database_says_try_again_and_the_retry_works(
    make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)  # give up quickly on the held database
    bot = await make_bot()
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()

    database = bot.runtime.settings.database_url.split("///", 1)[1]
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a backup or another replica, writing
    try:
        await bot.click_and_wait(
            ADMIN,
            "Accept",
            lambda s: any("busy" in m.text for m in s.ephemerals_for(CHANNEL, ADMIN)),
            channel=CHANNEL,
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    (said,) = [m.text for m in bot.state.ephemerals_for(CHANNEL, ADMIN) if "busy" in m.text]
    assert "Try again" in said and "Traceback" not in said
    (request,) = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    assert request.state is RequestState.QUOTED

    # The database is free again: the same click now goes through.
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    (request,) = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    assert request.state is RequestState.AWAITING_APPROVAL
