"""One console session: the real app, served over HTTP, driven through the Slack stand-in.

:class:`ConsoleSession` starts everything the offline console needs (the Runtime, the
stand-in, the bolt app behind its own HTTP server, the background worker), seeds a small
workspace, and offers the actions a person takes in Slack as awaitable methods. Each action
waits for the app's work to settle and returns what changed on the person's screen, so the
REPL and the tests see the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Self

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import build_app, worker_for
from bot.bootstrap import Runtime, start
from bot.config import Settings
from bot.console.driver import DriverError, HttpResult, SlackDriver, SubmitResult
from bot.console.fake_slack import (
    FakeSlack,
    Json,
    Message,
    View,
    element_options,
    interactive_elements,
    plain,
)
from bot.console.render import render_surface
from bot.handlers.commands import COMMAND
from bot.server import start_http

ADMIN = "U0ADMIN"
MANAGER = "U0MANAGER"
GENERAL = "C0GENERAL"
APPROVALS = "C0APPROVALS"
PEOPLE = {"admin": ADMIN, "manager": MANAGER}
BOT_TOKEN = "xoxb-console"
SETTLE_TIMEOUT = 15.0  # a step still busy after this is reported, not waited for
RECENT = 3  # messages shown from the current channel
QUIET = 0.3  # background changes this close together are reported as one
WORKER_INTERVAL = 5.0  # sweeps often, so activation shows soon after it happens
# The slash commands the app has (manifest.yml): Slack refuses any other itself.
SLASH_COMMANDS = (COMMAND,)

Serve = Callable[[AsyncApp, str], AbstractAsyncContextManager[str]]
Worker = Callable[[AsyncApp, Runtime, AsyncWebClient], AbstractAsyncContextManager[object]]


class ConsoleError(Exception):
    """Something the person asked for cannot be done; one line they can act on."""


@dataclass(frozen=True)
class AppParts:
    """How to build, serve and run the app: the real one by default, a stand-in in tests.

    ``serve(app, host)`` is entered for the session's life and yields the events URL;
    ``worker`` runs the background sweeps for the session's life.
    """

    build: Callable[[Runtime, AsyncWebClient], AsyncApp]
    serve: Serve
    worker: Worker | None = None


@dataclass(frozen=True)
class Change:
    """One surface that appeared, changed or went away on the person's screen."""

    kind: Literal["modal", "message"]
    status: Literal["new", "updated", "closed", "shown"]  # shown: on screen, unchanged
    title: str
    body: str
    ref: str = ""  # `message 2`: how `click LABEL on 2` names this message


@dataclass(frozen=True)
class Step:
    """What one action did: the changes seen, and notes (an HTTP error, a field error...)."""

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clicked: str = ""  # which message a click went to, when it went to a message


@dataclass(frozen=True)
class _Shown:
    kind: Literal["modal", "message"]
    title: str
    body: str
    ref: str = ""


class _ProblemLog(logging.Handler):
    """Keeps warnings and errors as one line each: the console shows no tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage().splitlines()[0] if record.getMessage() else record.name
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" ({type(exc).__name__}: {exc})"
        self.lines.append(f"{record.name}: {line}")

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def console_settings(settings: Settings, api_url: str, signing_secret: str) -> Settings:
    """The settings with the console's people and the stand-in's URL and credentials."""
    update: dict[str, Any] = {
        "slack_api_url": api_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": signing_secret,
        "slack_app_token": None,  # never Socket Mode: the stand-in speaks HTTP
    }
    if MANAGER not in settings.approvers:
        update["approvers"] = [*settings.approvers, MANAGER]
    if settings.admins and ADMIN not in settings.admins:
        update["admins"] = [*settings.admins, ADMIN]
    if not settings.approvals_channel:
        update["approvals_channel"] = APPROVALS
    return settings.model_copy(update=update)


def _norm(label: str) -> str:
    # As the driver compares labels: emoji codes and mrkdwn marks do not count.
    label = re.sub(r":[a-z0-9_+\-]+:", "", label)
    label = re.sub(r"[*_~`]", "", label)
    return " ".join(label.split()).casefold()


def resolve(typed: str, labels: Sequence[str], what: str = "label") -> str:
    """The label meant by ``typed``: an exact match, else the one label containing it, else
    the one label it begins as a whole word."""
    wanted = _norm(typed)
    exact = [label for label in labels if _norm(label) == wanted]
    if exact:
        return exact[0]
    partial = list(dict.fromkeys(label for label in labels if wanted and wanted in _norm(label)))
    if len(partial) == 1:
        return partial[0]
    # `CA` means “CA · California”, not every label with “ca” inside.
    leading = [label for label in partial if _norm(label).startswith(wanted + " ")]
    if len(leading) == 1:
        return leading[0]
    if partial:
        raise ConsoleError(f"{typed!r} matches several: {_listing(partial)}")
    shown = _listing(list(dict.fromkeys(labels))) if labels else "nothing to pick here"
    raise ConsoleError(f"no {what} {typed!r}; on screen: {shown}")


def _heading(title: str, ref: str) -> str:
    return f"{title} · {ref}" if ref else title


def _shows(message: Message, label: str) -> bool:
    return any(_norm(shown) == _norm(label) for shown in labels_of([message]).clickable)


def _listing(labels: Sequence[str]) -> str:
    return ", ".join(f"“{label}”" for label in labels)


def _field_label(block: Json, element: Json) -> str:
    label = plain(block.get("label")) if block.get("type") == "input" else ""
    return label or plain(element.get("placeholder"))


@dataclass(frozen=True)
class Labels:
    """What a person can act on in the surfaces on screen, by how they act on it."""

    buttons: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)  # selects and radio buttons
    checks: list[str] = field(default_factory=list)  # checkboxes and multi-selects
    fields: list[str] = field(default_factory=list)  # input blocks
    check_fields: dict[str, str] = field(default_factory=dict)  # check option -> its field

    @property
    def clickable(self) -> list[str]:
        return self.buttons + self.options

    @property
    def everything(self) -> list[str]:
        return list(dict.fromkeys(self.buttons + self.options + self.checks + self.fields))


def labels_of(surfaces: Iterable[View | Message]) -> Labels:
    found = Labels()
    for surface in surfaces:
        elements = list(interactive_elements(surface.blocks))
        # A menu on every row (a list): its items are picked with `menu ROW ITEM`.
        row_menus = sum(1 for _, element in elements if element.get("type") == "overflow") > 1
        for block, element in elements:
            kind = str(element.get("type"))
            if kind == "overflow" and row_menus:
                continue
            options = [plain(o.get("text")) for o in element_options(element)]
            if block.get("type") == "input":
                found.fields.append(plain(block.get("label")))
            if kind == "button":
                found.buttons.append(plain(element.get("text")))
            elif kind in ("checkboxes", "multi_static_select"):
                found.checks.extend(options)
                name = _field_label(block, element)
                found.check_fields.update(dict.fromkeys(options, name))
            else:
                found.options.extend(options)
    return found


def _idle(task: asyncio.Task[Any]) -> bool:
    """A kept-alive server connection waiting for its next request: not work in progress."""
    coro = task.get_coro()
    return getattr(coro, "__qualname__", "") == "RequestHandler.start"


class ConsoleSession:
    """The app under the console, and the person at it (``user``, in ``channel``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        parts: AppParts | None = None,
        settle_timeout: float = SETTLE_TIMEOUT,
    ) -> None:
        self.base_settings = settings
        self.parts = parts
        self.settle_timeout = settle_timeout
        self.signing_secret = secrets.token_hex(16)
        self.slack = FakeSlack(bot_token=BOT_TOKEN)
        self.user = ADMIN
        self._channels: dict[str, str] = {}  # user -> the channel they look at
        self._at_home: set[str] = set()  # users looking at the App Home tab
        # A button's confirm dialog Slack shows a user, until they confirm or cancel it.
        self._dialogs: dict[str, _Dialog] = {}
        self._log = _ProblemLog()
        self._stack = AsyncExitStack()
        self._runtime: Runtime | None = None
        self._driver: SlackDriver | None = None
        self._app: AsyncApp | None = None
        self.worker: object | None = None  # what AppParts.worker yields (bot.worker.Worker)
        self._seen: dict[str, _Shown] = {}  # the screen as last reported to the person
        self._busy = asyncio.Lock()  # one action at a time; the watcher waits for it

    # ---- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        logging.getLogger().addHandler(self._log)
        self._stack.callback(logging.getLogger().removeHandler, self._log)
        await self._stack.enter_async_context(self.slack)
        settings = console_settings(self.base_settings, self.slack.api_url, self.signing_secret)
        self._seed(settings.approvals_channel or APPROVALS)
        self._runtime = await start(settings)
        self._stack.push_async_callback(self._runtime.close)
        parts = self.parts or default_parts()
        client = AsyncWebClient(base_url=self.slack.api_url, token=BOT_TOKEN)
        self._app = parts.build(self._runtime, client)
        url = await self._stack.enter_async_context(parts.serve(self._app, "127.0.0.1"))
        if parts.worker is not None:
            worker = parts.worker(self._app, self._runtime, client)
            self.worker = await self._stack.enter_async_context(worker)
        self._driver = await self._stack.enter_async_context(
            SlackDriver(self.slack, url, self.signing_secret)
        )
        self._seen = self._snapshot()

    def _seed(self, approvals_channel: str) -> None:
        self.slack.add_user(ADMIN, "alex", real_name="alex (admin)", is_admin=True)
        self.slack.add_user(MANAGER, "morgan", real_name="morgan (manager)")
        self.slack.add_channel(GENERAL, "general")
        self.slack.add_channel(approvals_channel, "approvals", is_private=True)

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the console session is not started")
        return self._runtime

    @property
    def driver(self) -> SlackDriver:
        if self._driver is None:
            raise RuntimeError("the console session is not started")
        return self._driver

    # ---- who and where ------------------------------------------------------------------

    @property
    def channel(self) -> str:
        return self._channels.get(self.user, GENERAL)

    @property
    def user_name(self) -> str:
        person = self.slack.state.users[self.user]
        return person.real_name or person.name

    @property
    def channel_name(self) -> str:
        return self._channel_label(self.channel)

    def as_user(self, who: str) -> None:
        """Become ``admin`` or ``manager`` (or a user id or name)."""
        wanted = who.strip().removeprefix("@").casefold()
        for person in self.slack.state.users.values():
            names = (person.id.casefold(), person.name.casefold())
            if PEOPLE.get(wanted) == person.id or (wanted in names and not person.is_bot):
                self.user = person.id
                self._seen = self._snapshot()  # what changed is told from their side now
                return
        raise ConsoleError(f"no one called {who!r}; try: as admin, as manager")

    def go(self, channel: str) -> None:
        """Look at ``#name`` (or a channel id, or ``dm``: the bot's DM with you)."""
        ref = channel.strip()
        if ref.casefold() in ("home", "app home"):
            self._at_home.add(self.user)
            return
        self._at_home.discard(self.user)
        if ref.casefold() in ("dm", "@numbers-bot", "messages"):
            self._channels[self.user] = self.slack.dm_channel(self.user).id
            return
        state = self.slack.state
        found = state.channels.get(ref) or state.channel_by_name(ref)
        if found is None or found.is_im:
            raise ConsoleError(f"no channel {ref!r}; channels: {', '.join(self.channel_names())}")
        self._channels[self.user] = found.id

    def channel_names(self) -> list[str]:
        shown = [f"#{c.name}" for c in self.slack.state.channels.values() if not c.is_im]
        return [*shown, "dm"]

    # ---- what the person sees -------------------------------------------------------------

    def names(self) -> dict[str, str]:
        users = {u.id: u.real_name or u.name for u in self.slack.state.users.values()}
        channels = {c.id: c.name for c in self.slack.state.channels.values()}
        return {**channels, **users}

    def top_modal(self) -> View | None:
        return self.slack.state.top_view(self.user)

    def messages(self, channel: str | None = None, limit: int | None = RECENT) -> list[Message]:
        """The newest messages the user sees in ``channel`` (default: the current one)."""
        found = self.slack.state.visible(self.user, channel or self.channel)
        return found[-limit:] if limit else found

    def home_view(self) -> View | None:
        """The person's App Home as last published, while they look at it."""
        if self.user not in self._at_home:
            return None
        return self.slack.state.home(self.user)

    def on_screen(self) -> list[View | Message]:
        top = self.top_modal()
        if top is not None:
            return [top]
        home = self.home_view()
        return [home] if home is not None else list(self.messages())

    def shown(self) -> list[Change]:
        """The surfaces on screen now (see :meth:`on_screen`), rendered."""
        return [Change(s.kind, "shown", s.title, s.body, s.ref) for s in self._shown_now()]

    def screen(self) -> str:
        """What the user sees now, as text: their open modal, else the channel's newest."""
        shown = self._shown_now()
        if not shown:
            return f"(nothing in {self.channel_name} yet)"
        return "\n\n".join(f"[{_heading(s.title, s.ref)}]\n{s.body}" for s in shown)

    def number_of(self, message: Message) -> int:
        """The message's place in its channel as the user sees it: 1 is the oldest."""
        seen = self.slack.state.visible(self.user, message.channel)
        return next(n for n, m in enumerate(seen, 1) if m is message)

    def message_numbered(self, number: int, channel: str) -> Message:
        seen = self.slack.state.visible(self.user, channel)
        if not 1 <= number <= len(seen):
            where = self._channel_label(channel)
            raise ConsoleError(
                f"no message {number} in {where}; its messages are 1 to {len(seen)}"
                if seen
                else f"no messages in {where} yet"
            )
        return seen[number - 1]

    def labels(self) -> Labels:
        return labels_of(self.on_screen())

    def render(self, surface: View | Message) -> str:
        return render_surface(surface, self.names())

    def _shown_now(self) -> list[_Shown]:
        return [self._shown(s) for s in self.on_screen()]

    def _shown(self, surface: View | Message) -> _Shown:
        if isinstance(surface, View) and surface.type == "home":
            return _Shown("message", "App Home", self.render(surface))
        if isinstance(surface, View):
            return _Shown("modal", f"modal: {surface.title}", self.render(surface))
        ref = f"message {self.number_of(surface)}"
        return _Shown("message", self._message_title(surface), self.render(surface), ref)

    def _message_title(self, message: Message) -> str:
        where = self._channel_label(message.channel)
        return f"{where} · only visible to you" if message.ephemeral_to else where

    def _snapshot(self) -> dict[str, _Shown]:
        """Every surface the user can see anywhere, keyed by identity, rendered."""
        shown: dict[str, _Shown] = {}
        top = self.top_modal()
        if top is not None:
            shown[f"view:{top.id}"] = self._shown(top)
        home = self.slack.state.home(self.user)
        if home is not None:
            shown[f"home:{self.user}"] = self._shown(home)
        for message in self.slack.state.visible(self.user):
            channel = self.slack.state.channels[message.channel]
            if channel.im_user not in (None, self.user):
                continue  # someone else's DM with the bot
            shown[f"msg:{message.channel}:{message.ts}"] = self._shown(message)
        return shown

    @staticmethod
    def _diff(before: dict[str, _Shown], after: dict[str, _Shown]) -> list[Change]:
        changes: list[Change] = []
        for key, now in after.items():
            then = before.get(key)
            if then is None:
                changes.append(Change(now.kind, "new", now.title, now.body, now.ref))
            elif then.body != now.body:
                changes.append(Change(now.kind, "updated", now.title, now.body, now.ref))
        for key, then in before.items():
            if key not in after and then.kind == "modal":
                changes.append(Change("modal", "closed", then.title, ""))
        changes.sort(key=lambda c: c.kind == "modal")  # the modal last: it covers the rest
        return changes

    def problems(self) -> list[str]:
        """Warnings and errors the app logged since the last call, one line each."""
        return self._log.take()

    # ---- doing things ------------------------------------------------------------------

    async def command(self, text: str) -> Step:
        """Type a slash command, e.g. ``/numbers buy``, in the current channel."""
        command, _, args = text.strip().partition(" ")
        if not command.startswith("/") or len(command) < 2:
            raise ConsoleError("a slash command starts with /, e.g. /numbers buy")
        if command.lower() not in SLASH_COMMANDS:
            # Slack never sends a command no app has; it answers the person itself.
            meant = " ".join([SLASH_COMMANDS[0], args.strip()]).strip()
            raise ConsoleError(
                f"{command} is not a valid command (Slack says so, the app never hears of "
                f"it); this app's command is {SLASH_COMMANDS[0]}: did you mean “{meant}”?"
            )
        return await self._act(
            lambda: self.driver.slash(self.user, self.channel, command, args.strip())
        )

    async def home(self) -> Step:
        """Open the App Home tab (Slack sends `app_home_opened`); `go #channel` leaves it."""
        self._at_home.add(self.user)
        return await self._act(lambda: self.driver.app_home_opened(self.user))

    async def click(
        self, label: str, channel: str | None = None, message: int | None = None
    ) -> Step:
        """Click a button (or pick an overflow/select option) by its label.

        With a modal open, in the modal; else in ``channel`` (default: the current one),
        then in the other channels, newest first, moving there when found. ``message``
        names which message of the channel (its number on screen); without it the newest
        showing the label is clicked. The step says which message was clicked.
        """
        dialog = self._dialogs.pop(self.user, None)
        if dialog is not None:
            return await self._answer(dialog, label)
        top = self.top_modal()
        if top is not None and channel is None and message is None:
            chosen = resolve(label, self.labels().clickable)
            return await self._maybe_confirm(
                [top], chosen, lambda: self.driver.click(self.user, chosen)
            )
        home = self.home_view()
        if home is not None and channel is None and message is None:
            found = labels_of([home]).clickable
            if any(_norm(label) in _norm(shown) for shown in found):
                chosen = resolve(label, found)
                return await self._maybe_confirm(
                    [home], chosen, lambda: self.driver.click(self.user, chosen, view="home")
                )
        if message is not None:
            where = self._channels_to_search(channel)[0]
            target = self.message_numbered(message, where)
            chosen = resolve(label, labels_of([target]).clickable)
            others: list[Message] = []
        else:
            where, chosen = self._find_clickable(label, channel)
            showing = [m for m in self.messages(where, limit=None) if _shows(m, chosen)]
            target, others = showing[-1], showing[:-1]
        self._channels[self.user] = where
        said = self._clicked(chosen, target, others)
        return await self._maybe_confirm(
            [target],
            chosen,
            lambda: self.driver.click(self.user, chosen, channel=where, message_ts=target.ts),
            said,
        )

    async def _maybe_confirm(
        self,
        surfaces: Sequence[View | Message],
        label: str,
        go: Callable[[], Awaitable[HttpResult | SubmitResult | None]],
        said: str = "",
    ) -> Step:
        """Click, unless the button has a confirm dialog: then show it, as Slack does, and
        send nothing until the person confirms (`click Release`) or cancels."""
        confirm = _confirm_of(surfaces, label)
        if confirm is None:
            return replace(await self._act(go), clicked=said)
        dialog = _Dialog(
            title=plain(confirm.get("title")),
            text=plain(confirm.get("text")),
            yes=plain(confirm.get("confirm")) or "Yes",
            no=plain(confirm.get("deny")) or "Cancel",
            go=go,
            said=said,
        )
        self._dialogs[self.user] = dialog
        return Step(notes=[dialog.shown()], clicked=said)

    async def _answer(self, dialog: _Dialog, label: str) -> Step:
        if _norm(label) == _norm(dialog.yes):
            return replace(await self._act(dialog.go), clicked=dialog.said)
        if _norm(label) in (_norm(dialog.no), "cancel", "close"):
            return Step(notes=[f"“{dialog.title}” cancelled: nothing was sent to the app"])
        self._dialogs[self.user] = dialog  # still open
        raise ConsoleError(
            f"Slack shows “{dialog.title}”: click {dialog.yes} to go on, or {dialog.no}"
        )

    def _clicked(self, label: str, target: Message, others: Sequence[Message]) -> str:
        """`clicked “Approve” on message 3 in #approvals`, and how to pick another one."""
        said = (
            f"clicked “{label}” on message {self.number_of(target)} "
            f"in {self._channel_label(target.channel)}"
        )
        if others:
            numbers = ", ".join(str(self.number_of(m)) for m in others)
            said += f" (also on {numbers}: say “click {label} on {self.number_of(others[-1])}”)"
        return said

    def _find_clickable(self, label: str, channel: str | None) -> tuple[str, str]:
        """The channel whose messages show ``label``, and the label as shown there."""
        for where in self._channels_to_search(channel):
            found = labels_of(self.messages(where, limit=None)).clickable
            if any(_norm(label) in _norm(shown) for shown in found):
                return where, resolve(label, found)
        raise ConsoleError(self._nothing_called(label, self.labels().clickable))

    def _channels_to_search(self, channel: str | None) -> list[str]:
        if channel is not None:
            self.go(channel)
            return [self.channel]
        others = sorted(
            {m.channel for m in self.slack.state.visible(self.user)} - {self.channel},
            key=lambda c: -self.slack.state.visible(self.user, c)[-1].seq,
        )
        mine = [c for c in others if self.slack.state.channels[c].im_user in (None, self.user)]
        return [self.channel, *mine]

    def elsewhere(self) -> dict[str, list[str]]:
        """Buttons in the newest messages of the user's other channels: where to look next."""
        found: dict[str, list[str]] = {}
        for where in self._channels_to_search(None)[1:]:
            buttons = labels_of(self.messages(where)).buttons
            if buttons:
                found[self._channel_label(where)] = list(dict.fromkeys(buttons))
        return found

    def _channel_label(self, channel_id: str) -> str:
        channel = self.slack.state.channels[channel_id]
        return "DM with numbers-bot" if channel.is_im else f"#{channel.name}"

    def _nothing_called(self, label: str, there: Sequence[str]) -> str:
        if not there:
            return f"no {label!r}: nothing to click in {self.channel_name}"
        return f"no {label!r}; clickable here: {_listing(list(dict.fromkeys(there)))}"

    async def menu(self, row: str, item: str) -> Step:
        """Pick ``item`` in the overflow menu of a listed row: its number on the newest list
        (``menu 2 e911``) or text it shows (``menu (415) 555-2671 e911``)."""
        where = self._where()
        target: str | int = int(row) if row.isdigit() else row
        return await self._act(lambda: self.driver.menu(self.user, target, item, channel=where))

    async def select(self, label: str, field: str | None = None) -> Step:
        """Pick ``label`` in a select or radio group (``field``: which one, by its label)."""
        chosen = resolve(label, self.labels().options, "option")
        if self.top_modal() is None and self.home_view() is not None:
            return await self._act(
                lambda: self.driver.select(self.user, chosen, field=field, view="home")
            )
        return await self._act(
            lambda: self.driver.select(self.user, chosen, field=field, channel=self._where())
        )

    async def check(self, labels: Sequence[str]) -> Step:
        """Tick exactly these checkboxes (across groups of at most 10, as Slack splits them)."""
        if not labels:
            raise ConsoleError("check what? e.g. check (415) 555-0123, (415) 555-0145")
        shown = self.labels()
        chosen = [resolve(label, shown.checks, "checkbox") for label in labels]
        groups: dict[str, list[str]] = {}
        for label in chosen:
            groups.setdefault(shown.check_fields.get(label, ""), []).append(label)

        async def tick() -> HttpResult | None:
            result = None
            for name, picked in groups.items():
                result = await self.driver.check(
                    self.user, picked, field=name or None, channel=self._where()
                )
            return result

        return await self._act(tick)

    async def fill(self, label: str, value: str) -> Step:
        """Type ``value`` into the modal's input labelled ``label``."""
        if self.top_modal() is None:
            raise ConsoleError("there is no modal open to fill in")
        chosen = resolve(label, self.labels().fields, "field")
        return await self._act(lambda: self.driver.fill(self.user, chosen, value))

    async def submit(self) -> Step:
        """Press the open modal's submit button."""
        top = self.top_modal()
        if top is None:
            raise ConsoleError("there is no modal open to submit")
        if not top.definition.get("submit"):
            raise ConsoleError(f"“{top.title}” has no submit button; close it instead")
        return await self._act(lambda: self.driver.submit(self.user))

    async def close(self) -> Step:
        """Press the open modal's close button (or cancel a confirm dialog)."""
        if self.user in self._dialogs:
            return await self._answer(self._dialogs.pop(self.user), "close")
        if self.top_modal() is None:
            raise ConsoleError("there is no modal open to close")
        return await self._act(lambda: self.driver.close(self.user))

    def _where(self) -> str | None:
        # An open modal covers the channel; the driver looks in it when no channel is given.
        return None if self.top_modal() is not None else self.channel

    async def _act(self, action: Callable[[], Awaitable[HttpResult | SubmitResult | None]]) -> Step:
        async with self._busy:
            baseline = asyncio.all_tasks()
            try:
                result = await action()
            except DriverError as exc:
                raise ConsoleError(str(exc)) from None
            notes = _notes(result)
            if not await self.settle(baseline):
                notes.append(f"the app is still working after {self.settle_timeout:g}s")
            return Step(self.news(), notes)

    def news(self) -> list[Change]:
        """What changed on the person's screen since it was last reported."""
        now = self._snapshot()
        changes, self._seen = self._diff(self._seen, now), now
        return changes

    async def settle(self, baseline: set[asyncio.Task[Any]] | None = None) -> bool:
        """Wait until the work started since ``baseline`` is done (the listeners the app
        ran after acknowledging, and whatever they started). False: still busy at timeout."""
        known = baseline if baseline is not None else set()
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        while True:
            busy = [
                t
                for t in asyncio.all_tasks()
                if t not in known and t is not me and not t.done() and not _idle(t)
            ]
            remaining = deadline - loop.time()
            if not busy:
                return True
            if remaining <= 0:
                return False
            await asyncio.wait(busy, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)

    async def watch(self) -> AsyncIterator[list[Change]]:
        """Changes made in the background (the worker: expiry, activation), as they come."""
        while True:
            with contextlib.suppress(TimeoutError):
                await self.slack.wait_for(lambda _: self._snapshot() != self._seen, timeout=3600)
            await self._quiet()
            async with self._busy:  # an action reports its own changes
                changes = self.news()
            if changes:
                yield changes

    async def _quiet(self, gap: float = QUIET) -> None:
        """Wait until the stand-in has not changed for ``gap`` seconds: one sweep of the
        worker edits several cards, and they read better reported together."""
        while True:
            try:
                await self.slack.wait_for(self._changed_from(self._snapshot()), timeout=gap)
            except TimeoutError:
                return

    def _changed_from(self, then: dict[str, _Shown]) -> Callable[[object], bool]:
        return lambda _: self._snapshot() != then


@dataclass(frozen=True)
class _Dialog:
    """A button's `confirm` object, as Slack shows it before sending the click."""

    title: str
    text: str
    yes: str
    no: str
    go: Callable[[], Awaitable[HttpResult | SubmitResult | None]]
    said: str = ""

    def shown(self) -> str:
        return (
            f"Slack asks: {self.title} — {self.text} "
            f"[ {self.yes} ]  [ {self.no} ]: click {self.yes} to go on, or {self.no}"
        )


def _confirm_of(surfaces: Sequence[View | Message], label: str) -> Json | None:
    """The confirm dialog of the button labelled `label`, if it has one."""
    for surface in surfaces:
        for _, element in interactive_elements(surface.blocks):
            if element.get("type") == "button" and _norm(plain(element.get("text"))) == _norm(
                label
            ):
                confirm = element.get("confirm")
                return dict(confirm) if isinstance(confirm, dict) else None
    return None


def _notes(result: HttpResult | SubmitResult | None) -> list[str]:
    """What the person would notice beyond the screen: Slack's error for a bad answer."""
    if isinstance(result, SubmitResult):
        if result.outcome == "failed":
            return [f"Slack: “We had some trouble connecting” ({result.problem})"]
        if result.outcome == "errors":
            return ["the modal shows errors: " + "; ".join(result.errors.values())]
        return []
    if result is None:
        return []
    if result.timed_out:
        return ["the app did not answer within 3 seconds; Slack would show an error"]
    if result.status != 200:
        return [f"the app answered HTTP {result.status}: {result.text[:120]}"]
    return []


def default_parts(worker_interval: float = WORKER_INTERVAL) -> AppParts:
    """The real app (``bot.app``), served by ``bot.server``, with its background worker."""

    @contextlib.asynccontextmanager
    async def serve(app: AsyncApp, host: str) -> AsyncIterator[str]:
        server = await start_http(app, host, 0)  # port 0: a free one
        try:
            yield server.events_url
        finally:
            await server.stop()

    @contextlib.asynccontextmanager
    async def worker(app: AsyncApp, runtime: Runtime, client: AsyncWebClient) -> AsyncIterator[Any]:
        sweeper = worker_for(app, interval=worker_interval)
        sweeper.start()
        try:
            yield sweeper
        finally:
            await sweeper.stop()

    return AppParts(lambda runtime, client: build_app(runtime, client=client), serve, worker)
