"""The console lists numbers, shows their menus and page buttons, and picks a row's item."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import StringIO

import pytest
from rich.console import Console

from bot.config import Settings
from bot.console.repl import Output, Repl
from bot.console.session import ADMIN, GENERAL, ConsoleError, ConsoleSession
from bot.domain.assignment import Assignment
from bot.service.context import Actor


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(settings) as session:
        yield session


async def _own(console: ConsoleSession, count: int) -> list[str]:
    services = console.runtime.services
    actor = Actor(ADMIN, console.slack.workspace.team_id, True, True, GENERAL)
    found = await services.numbers.search(actor, "local", "415", quantity=count)
    numbers = [n.e164 for n in found.available]
    request = await services.purchases.request_purchase(actor, numbers, Assignment.main())
    await services.purchases.accept(actor, request.id)
    await services.purchases.approve(
        Actor("U0MANAGER", console.slack.workspace.team_id, False, True, GENERAL), request.id
    )
    await services.purchases.provision(request.id)
    return numbers


async def test_list_menus_pages_and_a_rows_item(console: ConsoleSession) -> None:
    numbers = await _own(console, 12)
    listed = await console.command("/numbers list")
    body = listed.changes[-1].body
    assert body.startswith(":warning:")
    assert "<...: Assign | Unassign | e911 | Move | Release>" in body
    assert "[ Next ]" in body and "Page 1 · 1-10 of 12 numbers match" in body

    turned = await console.click("Next")
    assert "Page 2 · 11-12 of 12" in turned.changes[-1].body
    assert "[ Previous ]" in turned.changes[-1].body

    opened = await console.menu("1", "e911")
    assert [c.title for c in opened.changes] == ["modal: e911"]
    await console.fill("Street address", "140 Main St")
    await console.fill("City", "San Francisco")
    await console.select("CA · California")
    await console.fill("ZIP code", "94103")
    saved = await console.submit()
    shown = console.top_modal()  # the modal shows the outcome once the address is saved
    assert shown is not None and "is emergency enabled" in str(shown.definition)
    assert any("emergency enabled" in c.body for c in saved.changes)
    second_page = sorted(numbers)[10]
    record = await console.runtime.services.numbers.get(
        Actor(ADMIN, console.slack.workspace.team_id, True, True, GENERAL), second_page
    )
    assert record.emergency_enabled

    with pytest.raises(ConsoleError, match="no row 7"):
        await console.menu("7", "e911")


async def test_the_repl_understands_menu(console: ConsoleSession) -> None:
    await _own(console, 2)
    out = StringIO()
    repl = Repl(console, Output(Console(file=out, width=200)))
    assert await repl.handle("/numbers list")
    assert await repl.handle("menu 2 Unassign")
    assert repl.errors == 0
    assert "spare number now" in out.getvalue()
    assert await repl.handle("menu e911")  # no row: the usage
    assert repl.errors == 1
    assert "usage: menu ROW ITEM" in out.getvalue()


async def test_a_bare_item_label_never_picks_a_row(console: ConsoleSession) -> None:
    numbers = await _own(console, 2)
    await console.command("/numbers list")
    # Every row has `Release`: the console must not guess which number is meant.
    with pytest.raises(ConsoleError):
        await console.click("Release")
    record = await console.runtime.services.numbers.get(
        Actor(ADMIN, console.slack.workspace.team_id, True, True, GENERAL), numbers[0]
    )
    assert record.state.value == "in_service"
    assert not any("Release (" in m.text for m in console.slack.state.messages_in(GENERAL))


async def test_a_state_is_picked_by_its_two_letters(console: ConsoleSession) -> None:
    await _own(console, 1)
    await console.command("/numbers list")
    await console.menu("1", "e911")
    await console.select("CA")
    body = console.render(console.top_modal())  # type: ignore[arg-type]
    assert "= CA · California" in body
