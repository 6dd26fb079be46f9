"""The console shows the App Home (`home`), clicks and selects in it, and leaves it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rich.console import Console

from bot.config import Settings
from bot.console.repl import Output, Repl
from bot.console.session import GENERAL, ConsoleSession


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(settings) as session:
        yield session


async def test_home_renders_and_its_buttons_work(console: ConsoleSession) -> None:
    opened = await console.home()
    (home,) = [c for c in opened.changes if c.title == "App Home"]
    assert "*Account:* Main" in home.body and "Main Company Numbers" in home.body
    assert "[ Buy Numbers ]" in home.body and "No main number is emergency enabled" in home.body
    assert "App Home" in console.screen()

    bought = await console.click("Buy Numbers")
    assert [c.title for c in bought.changes] == ["modal: Buy Numbers"]
    await console.close()
    assert "[ Buy Numbers ]" in console.screen()  # back on the home

    console.go("#general")
    assert console.channel == GENERAL and "App Home" not in console.screen()


async def test_switching_account_on_the_home(console: ConsoleSession) -> None:
    created = await console.command("/numbers account create Branch Office")
    assert "Created the account *Branch Office*" in created.changes[0].body
    await console.home()
    switched = await console.select("Branch Office")
    (home,) = [c for c in switched.changes if c.title == "App Home"]
    assert home.status == "updated" and "*Account:* Branch Office" in home.body


async def test_home_is_a_console_command(console: ConsoleSession) -> None:
    out = Console(record=True, width=120)
    repl = Repl(console, Output(out))
    assert await repl.handle("home")
    assert await repl.handle("/numbers account list")
    printed = out.export_text()
    assert "Account: Main" in printed and "Accounts" in printed
    assert repl.errors == 0
