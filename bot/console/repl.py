"""The offline console: type what you would do in Slack, see what the app shows.

``main(settings)`` runs a :class:`ConsoleSession` (the real app against the Slack stand-in)
and reads commands from a prompt_toolkit prompt, or line by line from stdin when it is not
a terminal, so a session can be scripted::

    printf '/numbers buy\\nfill Area code = 415\\nclick Search\\n' | numbers-bot console

Output goes through rich. Mistakes get one line (with the labels on screen, or the usage),
never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, SettingsError
from bot.console.session import Change, ConsoleError, ConsoleSession, Step, resolve

HISTORY_FILE = Path.home() / ".numbers-bot-console-history"
SLASH_EXAMPLES = [
    "/numbers help",
    "/numbers buy",
    "/numbers buy local 415",
    "/numbers buy tollfree 800",
    "/numbers buy for conference",
    "/numbers search local 415",
    "/numbers spare",
    "/numbers list",
    "/numbers list main",
    "/numbers e911 ",
    "/numbers assign ",
    "/numbers unassign ",
    "/numbers requests",
    "/numbers requests pending",
    "/numbers account list",
    "/numbers account create ",
    "/numbers account use ",
    "/numbers move ",
    "/numbers release ",
    "/numbers restore ",
    "/numbers history ",
]
USAGE = {
    "/…": "/numbers buy            a slash command, typed as in Slack",
    "click": "click LABEL [on N] [in #channel]   a button (or an overflow/select option); "
    "N: which message, by the number on it; a button with a confirm dialog shows it first "
    "(click its confirm label again, or its cancel label)",
    "menu": "menu ROW ITEM               pick ITEM in a listed row's menu (menu 2 e911)",
    "select": "select OPTION [in FIELD]    pick in a select or radio group",
    "check": "check A, B                  tick exactly these checkboxes",
    "fill": "fill LABEL = VALUE          type into a modal's field",
    "submit": "submit                      press the modal's submit button",
    "close": "close                       close the modal",
    "home": "home                        open the App Home tab (go #channel leaves it)",
    "as": "as admin | as manager       switch person",
    "go": "go #channel | go dm         look at another channel",
    "show": "show                        show the screen again",
    "help": "help                        this list",
    "quit": "quit                        leave (Ctrl-D too)",
}
ALIASES = {"exit": "quit", "q": "quit", "?": "help", "ls": "show", "cancel": "close"}
_IN_CHANNEL = re.compile(r"^(?P<label>.+?)\s+in\s+(?P<channel>#\S+)$")
_ON_MESSAGE = re.compile(r"^(?P<label>.+?)\s+on\s+(?:message\s+)?(?P<number>[0-9]{1,4})$")
_CHOICE = re.compile(r"\[[ x]\] |\([ o]\) ")  # how the renderer draws [x] A  ( ) B
_CHOICE_GAP = re.compile(r"\s+(?=\[[ x]\] |\([ o]\) )")
_MRKDWN_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


@dataclass(frozen=True)
class Line:
    """A parsed console line: the command word and the rest."""

    name: str
    rest: str


def parse(line: str) -> Line:
    """``click Search`` -> Line("click", "Search"); a leading ``/`` is a slash command."""
    text = line.strip()
    if text.startswith("/"):
        return Line("/", text)
    word, _, rest = text.partition(" ")
    name = ALIASES.get(word.casefold(), word.casefold())
    if name not in USAGE:
        raise ConsoleError(f"unknown command {word!r}; type help for the list")
    return Line(name, rest.strip())


def _usage(name: str) -> ConsoleError:
    return ConsoleError(f"usage: {USAGE[name].split('  ')[0].strip()}")


def split_checks(text: str, labels: Iterable[str]) -> list[str]:
    """Split ``A, B`` into labels, keeping the commas that are part of one (``CA, US``)."""
    known = {" ".join(label.split()).casefold() for label in labels}
    parts = [p.strip() for p in text.split(",")]
    out: list[str] = []
    i = 0
    while i < len(parts):
        # The longest run of parts that is a whole label on screen wins; else one part.
        end = next(
            (j for j in range(len(parts), i + 1, -1) if ", ".join(parts[i:j]).casefold() in known),
            i + 1,
        )
        out.append(", ".join(parts[i:end]))
        i = end
    return [label for label in out if label]


# ---- output ------------------------------------------------------------------------------


def one_choice_per_line(body: str) -> str:
    """Long checkbox/radio rows (search results) one choice a line, as Slack stacks them."""
    lines: list[str] = []
    for line in body.splitlines():
        parts = _CHOICE_GAP.split(line)
        head = [] if _CHOICE.match(parts[0]) else [parts.pop(0)]
        if len(parts) < 3:  # two choices read well on one line
            lines.append(line)
        else:
            lines += head + [f"    {part.strip()}" for part in parts]
    return "\n".join(lines)


def mrkdwn_text(body: str) -> Text:
    """Slack's ``*bold*`` as bold and ``:emoji:`` codes as emoji; nothing else is markup."""
    body = one_choice_per_line(body)
    markup = _MRKDWN_BOLD.sub(lambda m: f"[bold]{m.group(1)}[/bold]", escape(body))
    return Text.from_markup(markup, emoji=True)


def change_panel(change: Change) -> Panel:
    style = "cyan" if change.kind == "modal" else "green" if change.status == "new" else "yellow"
    title = f"{change.title} · {change.ref}" if change.ref else change.title
    title = title if change.status == "shown" else f"{title} · {change.status}"
    return Panel(
        mrkdwn_text(change.body), title=escape(title), title_align="left", border_style=style
    )


class Output:
    """Everything the console prints, through one rich Console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step(self, step: Step, problems: list[str]) -> None:
        if step.clicked:
            self.console.print(f"[dim]{escape(step.clicked)}[/dim]")
        for change in step.changes:
            if change.status == "closed":
                self.console.print(f"[dim]{escape(change.title)} closed[/dim]")
            else:
                self.console.print(change_panel(change))
        for note in step.notes:
            self.console.print(f"[yellow]! {escape(note)}[/yellow]")
        self.problems(problems)
        if not step.changes and not step.notes and not problems:
            self.console.print("[dim](nothing changed)[/dim]")

    def problems(self, problems: list[str]) -> None:
        for problem in problems:
            self.console.print(f"[red]app: {escape(problem)}[/red]")

    def screen(self, session: ConsoleSession) -> None:
        surfaces = session.shown()
        self.console.print(f"[bold]{escape(session.user_name)}[/bold] in {session.channel_name}")
        if not surfaces:
            self.console.print(f"[dim](nothing in {escape(session.channel_name)} yet)[/dim]")
        for shown in surfaces:
            self.console.print(change_panel(shown))
        for where, buttons in session.elsewhere().items():
            listed = ", ".join(buttons)
            self.console.print(
                f"[dim]in {escape(where)}: {escape(listed)} (click finds them)[/dim]"
            )

    def error(self, message: str) -> None:
        self.console.print(f"[red]{escape(message)}[/red]")

    def help(self) -> None:
        table = Table(show_header=False, box=None, padding=(0, 2))
        for usage in USAGE.values():
            command, _, meaning = usage.partition("  ")
            table.add_row(escape(command), escape(meaning.strip()))
        self.console.print(table)
        self.console.print(
            "[dim]Labels may be shortened to any part that names one thing on screen, "
            "e.g. check 693-9183.[/dim]"
        )


# ---- commands ----------------------------------------------------------------------------


class Repl:
    """Runs console lines against a session; ``handle`` is False when it is time to quit."""

    def __init__(self, session: ConsoleSession, out: Output) -> None:
        self.session = session
        self.out = out
        self.errors = 0  # lines that could not be done: a script exits 1 when any
        self._actions: dict[str, Callable[[str], Awaitable[Step]]] = {
            "/": self.session.command,
            "click": self._click,
            "menu": self._menu,
            "select": self._select,
            "check": self._check,
            "fill": self._fill,
            "submit": self._no_args("submit", self.session.submit),
            "close": self._no_args("close", self.session.close),
            "home": self._no_args("home", self.session.home),
        }

    async def handle(self, line: str) -> bool:
        if not line.strip() or line.lstrip().startswith("#"):
            return True  # blank lines and comments in scripts
        try:
            return await self._dispatch(parse(line))
        except ConsoleError as exc:
            self.errors += 1
            self.out.error(str(exc))
            self.out.problems(self.session.problems())
            return True

    async def _dispatch(self, line: Line) -> bool:
        if line.name == "quit":
            return False
        if line.name in self._actions:
            step = await self._actions[line.name](line.rest)
            self.out.step(step, self.session.problems())
        elif line.name == "help":
            self.out.help()
        else:
            self._look(line)
        return True

    def _look(self, line: Line) -> None:
        """``as``, ``go`` and ``show``: change who or where you are, then show the screen."""
        if line.name == "as":
            if not line.rest:
                raise _usage("as")
            self.session.as_user(line.rest)
        elif line.name == "go":
            if not line.rest:
                raise _usage("go")
            self.session.go(line.rest)
        self.session.news()  # what is shown now counts as seen
        self.out.screen(self.session)

    @staticmethod
    def _no_args(
        name: str, action: Callable[[], Awaitable[Step]]
    ) -> Callable[[str], Awaitable[Step]]:
        async def run(rest: str) -> Step:
            if rest:
                raise _usage(name)
            return await action()

        return run

    async def _click(self, rest: str) -> Step:
        if not rest:
            raise _usage("click")
        label, channel, number = rest, None, None
        for _ in range(2):  # `on 2 in #approvals` or `in #approvals on 2`
            if match := _IN_CHANNEL.match(label):
                label, channel = match["label"], match["channel"]
            elif (match := _ON_MESSAGE.match(label)) and number is None:
                label, number = match["label"], int(match["number"])
        return await self.session.click(label, channel=channel, message=number)

    async def _menu(self, rest: str) -> Step:
        row, _, item = rest.strip().rpartition(" ")
        if not row.strip() or not item:
            raise _usage("menu")
        return await self.session.menu(row.strip(), item)

    async def _select(self, rest: str) -> Step:
        if not rest:
            raise _usage("select")
        option, found, field = rest.rpartition(" in ")
        if found and option.strip() and field.strip():
            with contextlib.suppress(ConsoleError):  # "in" may be part of the option's label
                resolve(option, self.session.labels().options)
                return await self.session.select(option.strip(), field=field.strip())
        return await self.session.select(rest)

    async def _check(self, rest: str) -> Step:
        if not rest:
            raise _usage("check")
        return await self.session.check(split_checks(rest, self.session.labels().checks))

    async def _fill(self, rest: str) -> Step:
        label, found, value = rest.partition("=")
        if not found or not label.strip():
            raise _usage("fill")
        return await self.session.fill(label.strip(), value.strip())


# ---- completion --------------------------------------------------------------------------


class LabelCompleter(Completer):
    """Completes command words, then the labels on screen that fit the command."""

    def __init__(self, session: ConsoleSession) -> None:
        self.session = session

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        if text.startswith("/"):
            yield from _matching(text, SLASH_EXAMPLES)
            return
        command, space, rest = text.partition(" ")
        if not space:
            yield from _matching(command, [*USAGE.keys() - {"/…"}, "/numbers"])
            return
        word = rest.rpartition(",")[2].lstrip() if command == "check" else rest
        yield from _matching(word, self._candidates(command.casefold()))

    def _candidates(self, command: str) -> list[str]:
        labels = self.session.labels()
        choices = {
            "click": labels.clickable,
            "select": labels.options,
            "check": labels.checks,
            "fill": [f"{name} = " for name in labels.fields],
            "as": ["admin", "manager"],
            "go": self.session.channel_names(),
        }
        return list(dict.fromkeys(choices.get(command, [])))


def _matching(typed: str, candidates: Iterable[str]) -> Iterable[Completion]:
    """Candidates starting with what was typed; else those containing it (a number's end)."""
    wanted = typed.casefold()
    listed = list(candidates)
    found = [c for c in listed if c.casefold().startswith(wanted)]
    found = found or [c for c in listed if wanted and wanted in c.casefold()]
    return [Completion(c, start_position=-len(typed)) for c in found]


# ---- the loop ----------------------------------------------------------------------------


def _history() -> History:
    try:
        HISTORY_FILE.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(HISTORY_FILE))


def _prompt(session: ConsoleSession) -> str:
    return f"{session.user_name} {session.channel_name}> "


async def _interactive(repl: Repl) -> int:
    session = repl.session
    prompt: PromptSession[str] = PromptSession(
        history=_history(), completer=LabelCompleter(session), complete_while_typing=False
    )
    with patch_stdout(raw=True):
        watcher = asyncio.create_task(_watch(repl))
        try:
            while True:
                try:
                    line = await prompt.prompt_async(_prompt(session))
                except KeyboardInterrupt:
                    continue  # Ctrl-C clears the line, as in a shell
                except EOFError:
                    return 0
                if not await repl.handle(line):
                    return 0
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def _watch(repl: Repl) -> None:
    """Show what the background does (holds expiring, numbers becoming active) as it happens."""
    updates: AsyncIterator[list[Change]] = repl.session.watch()
    async for changes in updates:
        repl.out.console.print("[dim]meanwhile:[/dim]")
        repl.out.step(Step(changes), repl.session.problems())


async def _stdin_line() -> str:
    """One line of stdin, read in a daemon thread.

    A pool thread (`asyncio.to_thread`) would keep SIGINT from ending the console
    until the input ends: `asyncio.run` waits for its pool on the way out.
    """
    loop = asyncio.get_running_loop()
    read: asyncio.Future[str] = loop.create_future()

    def give(line: str) -> None:
        if not read.done():
            read.set_result(line)

    def reader() -> None:
        line = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(give, line)

    threading.Thread(target=reader, name="console-stdin", daemon=True).start()
    return await read


async def _scripted(repl: Repl) -> int:
    """Lines from stdin, each echoed so the output reads as a transcript; ends at EOF."""
    while True:
        line = await _stdin_line()
        if not line:
            break
        line = line.rstrip("\n")
        repl.out.console.print(
            f"[bold blue]{escape(_prompt(repl.session))}[/bold blue]{escape(line)}"
        )
        if not await repl.handle(line):
            break
    return 1 if repl.errors else 0


async def run(settings: Settings, console: Console | None = None) -> int:
    """Start a session and read commands until quit or end of input."""
    interactive = sys.stdin.isatty()
    out = Output(console or Console(force_terminal=interactive or None, highlight=False))
    try:
        async with ConsoleSession(settings) as session:
            repl = Repl(session, out)
            out.console.print(
                f"[bold]numbers-bot console[/bold]: the real app against a stand-in for "
                f"Slack, database {escape(settings.database_url)}. Type help, or try /numbers buy."
            )
            out.screen(session)
            return await (_interactive(repl) if interactive else _scripted(repl))
    except (SettingsError, SQLAlchemyError, OSError) as exc:
        out.error(f"numbers-bot: cannot start the console: {exc}")
        return 1


def main(settings: Settings) -> int:
    """``numbers-bot console``: returns the exit status."""
    try:
        return asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 130
