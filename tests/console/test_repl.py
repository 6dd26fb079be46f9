"""The offline console: a whole purchase through ConsoleSession, and a scripted `main()`."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from rich.console import Console

from bot.config import Settings
from bot.console.repl import LabelCompleter, Output, Repl, parse, split_checks
from bot.console.session import (
    ADMIN,
    APPROVALS,
    GENERAL,
    MANAGER,
    Change,
    ConsoleError,
    ConsoleSession,
)
from bot.worker import Worker
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(settings) as session:
        yield session


async def search_415(console: ConsoleSession) -> list[str]:
    """As admin: open `Buy Numbers`, search area code 415; the result labels."""
    opened = await console.command("/numbers buy")
    assert [c.title for c in opened.changes] == ["modal: Buy Numbers"]
    await console.fill("Area code", "415")
    searched = await console.click("Search")
    assert "numbers for sale for area code 415" in searched.changes[0].body
    return console.labels().checks


async def test_a_whole_purchase_with_approval(console: ConsoleSession) -> None:
    results = await search_415(console)
    number = results[0].split(" · ")[0]  # "(415) 693-9183"
    await console.check([number])  # a part of the label is enough
    top = console.top_modal()
    assert top is not None and f"[x] {results[0]}" in console.render(top)

    submitted = await console.submit()
    assert console.top_modal() is None
    card = next(c for c in submitted.changes if c.kind == "message")
    assert (card.title, card.status) == ("#general", "new")
    assert "Monthly bill" in card.body and "[ Accept ]" in card.body

    accepted = await console.click("Accept")
    approval = next(c for c in accepted.changes if c.title == "#approvals")
    assert "[ Approve ]" in approval.body
    assert "awaiting approval" in console.screen()

    console.as_user("manager")
    approved = await console.click("Approve")  # found in #approvals, where the card is
    assert console.channel == APPROVALS and approved.notes == []

    console.as_user("admin")
    assert console.channel == GENERAL
    requester_card = console.messages()[0]
    shown = console.render(requester_card)
    assert "Bought 1 number" in shown and number in shown
    assert "Approved by @morgan (manager)" in shown
    assert "[ Approve ]" not in console.screen()
    assert console.problems() == []


async def test_watch_reports_what_the_worker_changes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, carrier={"activation_delay_seconds": 0})
    async with ConsoleSession(settings) as console:
        await search_415(console)
        await console.check(["693-9183"])
        await console.submit()
        await console.click("Accept")
        console.as_user("manager")
        await console.click("Approve")
        console.as_user("admin")

        async def first_update() -> list[Change]:
            return await anext(console.watch())

        updates = asyncio.create_task(first_update())
        assert isinstance(console.worker, Worker)
        await console.worker.run_once()  # the sweep that notices the numbers are active
        changes = await updates
    assert any("active now" in c.body for c in changes)


async def test_the_console_people_and_settings(console: ConsoleSession) -> None:
    settings = console.runtime.settings
    assert MANAGER in settings.approvers and settings.approvals_channel == APPROVALS
    assert settings.slack_api_url == console.slack.api_url
    assert settings.slack_signing_secret == console.signing_secret
    console.as_user("manager")
    assert (console.user, console.user_name) == (MANAGER, "morgan (manager)")
    console.as_user("@alex")
    assert console.user == ADMIN
    with pytest.raises(ConsoleError, match="as admin, as manager"):
        console.as_user("nobody")
    console.go("#approvals")
    assert console.channel_name == "#approvals"
    with pytest.raises(ConsoleError, match="#general"):
        console.go("#random")


async def test_unknown_labels_list_what_is_on_screen(console: ConsoleSession) -> None:
    with pytest.raises(ConsoleError, match="nothing to click"):
        await console.click("Approve")
    await console.command("/numbers buy")
    with pytest.raises(ConsoleError, match="“Search”, “Add from Spare Numbers”"):
        await console.click("Serch")
    with pytest.raises(ConsoleError, match=r"no field 'Zip'.*“Area code”"):
        await console.fill("Zip", "94103")
    with pytest.raises(ConsoleError, match="matches several"):
        await console.select("Main")  # Main Company / Conference / Faxbox
    closed = await console.close()
    assert [(c.status, c.title) for c in closed.changes] == [("closed", "modal: Buy Numbers")]
    with pytest.raises(ConsoleError, match="no modal open"):
        await console.submit()


async def test_switching_kind_redraws_the_modal(console: ConsoleSession) -> None:
    await console.command("/numbers buy")
    switched = await console.select("Toll-free")
    assert "Prefix" in switched.changes[0].body
    assert "800" in console.labels().options


async def test_a_non_admin_is_refused_in_an_ephemeral(console: ConsoleSession) -> None:
    console.as_user("manager")
    refused = await console.command("/numbers buy")
    assert console.top_modal() is None
    assert [c.title for c in refused.changes] == ["#general · only visible to you"]


# ---- the REPL layer ----------------------------------------------------------------------


def test_parse_lines() -> None:
    assert parse("/numbers buy").rest == "/numbers buy"
    assert (parse("click  Search ").name, parse("click  Search ").rest) == ("click", "Search")
    assert parse("EXIT").name == "quit"
    with pytest.raises(ConsoleError, match="unknown command 'frob'"):
        parse("frob x")


def test_split_checks_keeps_commas_inside_labels() -> None:
    labels = ["(415) 555-0101 · San Francisco, CA", "(415) 555-0102 · California"]
    assert split_checks("(415) 555-0101 · San Francisco, CA, 0102", labels) == [
        labels[0],
        "0102",
    ]
    assert split_checks("0101, 0102", labels) == ["0101", "0102"]


async def test_repl_lines_and_mistakes(console: ConsoleSession) -> None:
    out = Console(file=io.StringIO(), width=100, record=True)
    repl = Repl(console, Output(out))
    for line in ("/numbers buy", "fill Area code", "click Nope", "as", "select", "help"):
        assert await repl.handle(line)
    assert not await repl.handle("quit")
    text = out.export_text()
    assert "usage: fill LABEL = VALUE" in text and "usage: as admin | as manager" in text
    assert "no label 'Nope'" in text and "Traceback" not in text
    assert repl.errors == 4


async def test_completion_offers_labels_on_screen(console: ConsoleSession) -> None:
    completer = LabelCompleter(console)

    def complete(text: str) -> list[str]:
        found = completer.get_completions(Document(text), CompleteEvent())
        return [c.text for c in found]

    assert "click" in complete("cl")
    await console.command("/numbers buy")
    assert complete("click Se") == ["Search"]
    assert complete("fill Ar") == ["Area code = "]
    assert complete("as m") == ["manager"]


def test_scripted_main_buys_and_approves(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/numbers buy",
            "fill Area code = 415",
            "click Search",
            "check 693-9183",
            "submit",
            "click Accept",
            "as manager",
            "click Approve",
            "as admin",
        ]
    )
    env = {
        **os.environ,
        "NUMBERS_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "HOME": str(tmp_path),
        "COLUMNS": "200",  # no wrapping inside the phrases looked for
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bot.config import load_settings; "
            "from bot.console.repl import main; sys.exit(main(load_settings()))",
        ],
        input=script + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Bought 1 number" in done.stdout
    assert "morgan (manager) #general> click Approve" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
