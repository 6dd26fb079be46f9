"""Issue 13, item 17: the console answers a mistyped command and shows confirm dialogs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import StringIO

import pytest
from rich.console import Console

from bot.config import Settings
from bot.console.repl import Output, Repl
from bot.console.session import ADMIN, GENERAL, ConsoleError, ConsoleSession
from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from bot.domain.states import NumberState
from bot.service.context import Actor


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(settings) as session:
        yield session


def _admin(console: ConsoleSession) -> Actor:
    return Actor(ADMIN, console.slack.workspace.team_id, True, True, GENERAL)


async def _own(console: ConsoleSession, count: int) -> list[str]:
    services, actor = console.runtime.services, _admin(console)
    found = await services.numbers.search(actor, "local", "415", quantity=count)
    numbers = [n.e164 for n in found.available]
    request = await services.purchases.request_purchase(actor, numbers, Assignment.main())
    await services.purchases.accept(actor, request.id)
    await services.purchases.approve(
        Actor("U0MANAGER", console.slack.workspace.team_id, False, True, GENERAL), request.id
    )
    await services.purchases.provision(request.id)
    return numbers


async def test_a_mistyped_slash_command_gets_a_helpful_answer(console: ConsoleSession) -> None:
    with pytest.raises(ConsoleError) as info:
        await console.command("/number list")
    said = str(info.value)
    assert "/number is not a valid command" in said and "“/numbers list”" in said
    out = StringIO()
    repl = Repl(console, Output(Console(file=out, width=200)))
    assert await repl.handle("/number list")
    assert "HTTP 404" not in out.getvalue() and "did you mean" in out.getvalue()


async def test_release_shows_slacks_confirm_dialog_before_anything_is_sent(
    console: ConsoleSession,
) -> None:
    number, _ = await _own(console, 2)
    await console.command(f"/numbers release {format_national(number)}")
    asked = await console.click("Release")
    assert any("Slack asks: Release this number?" in note for note in asked.notes), asked
    state = await console.runtime.services.numbers.get(_admin(console), number)
    assert state.state is NumberState.IN_SERVICE  # nothing was sent yet

    cancelled = await console.click("Keep it")
    assert any("cancelled" in note for note in cancelled.notes)
    state = await console.runtime.services.numbers.get(_admin(console), number)
    assert state.state is NumberState.IN_SERVICE

    await console.click("Release")
    with pytest.raises(ConsoleError, match="click Release to go on"):
        await console.click("Next")  # the dialog is in the way, as in Slack
    done = await console.click("Release")
    assert any("Released" in change.body for change in done.changes), done
    state = await console.runtime.services.numbers.get(_admin(console), number)
    assert state.state is NumberState.AGING
