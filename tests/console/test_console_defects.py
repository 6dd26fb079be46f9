"""Issue 6, items 18 and 19: mentions typed in the console, and which card a click hits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from rich.console import Console

from bot.config import Settings
from bot.console.repl import Output, Repl
from bot.console.session import MANAGER, ConsoleSession


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(settings) as session:
        yield session


def test_names_become_mentions_as_slack_escapes_them(console: ConsoleSession) -> None:
    escape = console.driver.escape_names
    assert escape("buy @morgan") == f"buy <@{MANAGER}|morgan>"
    assert escape("buy for @morgan.") == f"buy for <@{MANAGER}|morgan>."
    assert escape("buy <@U0X|morgan>") == "buy <@U0X|morgan>"  # already a mention
    assert escape("buy @nobody") == "buy @nobody"  # Slack leaves unknown names as typed
    assert escape("account use #general") == "account use <#C0GENERAL|general>"
    assert escape("mail me@morgan") == "mail me@morgan"


async def test_buy_for_a_person_by_name(console: ConsoleSession) -> None:
    step = await console.command("/numbers buy @morgan")
    assert "is not a target" not in console.screen()
    modal = console.top_modal()
    assert modal is not None, step
    shown = console.render(modal)
    assert "A user" in shown and "morgan" in shown


async def _three_cards(console: ConsoleSession) -> list[str]:
    bought = []
    for n in range(3):
        await console.command("/numbers buy")
        await console.fill("Area code", "415")
        await console.click("Search")
        label = console.labels().checks[n]
        await console.check([label])
        await console.submit()
        bought.append(label.split(" · ")[0])
    return bought


async def test_click_on_a_numbered_card(console: ConsoleSession) -> None:
    bought = await _three_cards(console)
    cards = [m for m in console.messages(limit=None) if "[ Cancel ]" in console.render(m)]
    assert len(cards) == 3
    second = console.number_of(cards[1])
    assert f"message {second}" in console.screen()  # the number is on the card

    step = await console.click("Cancel", message=second)
    assert step.clicked == f"clicked “Cancel” on message {second} in #general"
    states = [console.render(m) for m in cards]
    assert "[ Cancel ]" in states[0] and "[ Cancel ]" in states[2]
    assert "[ Cancel ]" not in states[1] and bought[1] in states[1]

    newest = await console.click("Accept")  # no number: the newest, and it says so
    third, first = console.number_of(cards[2]), console.number_of(cards[0])
    assert newest.clicked.startswith(f"clicked “Accept” on message {third} in #general")
    assert f"also on {first}" in newest.clicked
    assert "[ Accept ]" in console.render(cards[0])


async def test_the_repl_reads_click_on_n(console: ConsoleSession) -> None:
    await _three_cards(console)
    cards = [m for m in console.messages(limit=None) if "[ Cancel ]" in console.render(m)]
    first = console.number_of(cards[0])
    out = io.StringIO()
    repl = Repl(console, Output(Console(file=out, width=200)))
    assert await repl.handle(f"click Cancel on {first} in #general")
    assert repl.errors == 0, out.getvalue()
    assert f"clicked “Cancel” on message {first} in #general" in out.getvalue()
    assert "[ Cancel ]" not in console.render(cards[0])
    assert "[ Cancel ]" in console.render(cards[1])
    assert await repl.handle("click Cancel on 99")
    assert repl.errors == 1 and "no message 99 in #general" in out.getvalue()
