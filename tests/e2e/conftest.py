"""End-to-end harness: the real app behind its real HTTP endpoint, the Slack stand-in,
and a driver that acts like people in Slack. Nothing sleeps: tests wait on the
stand-in's state (`Harness.until`) or await the worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, close_app, kit_for, worker_for
from bot.bootstrap import Runtime, start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack, Message, SlackState, View, plain
from bot.console.render import render_surface
from bot.domain.records import AssignmentFilter, NumberFilter, NumberRecord
from bot.server import HttpServer, start_http
from bot.service.context import Actor
from bot.worker import Worker
from tests.conftest import ADMIN, MANAGER, MANAGER2, MEMBER, FakeClock, make_settings

SECRET = "e2e-signing-secret"
TOKEN = "xoxb-e2e"
CHANNEL = "C1"
PRIVATE = "CPRIVATE"
APPROVALS = "CAPPROVALS"


@dataclass
class Harness:
    slack: FakeSlack
    driver: SlackDriver
    runtime: Runtime
    server: HttpServer
    worker: Worker
    clock: FakeClock
    app: AsyncApp

    async def settle(self) -> None:
        """Wait until every listener has finished the work it does after its ack."""
        await kit_for(self.app).inflight.idle()

    @property
    def state(self) -> SlackState:
        return self.slack.state

    async def until(self, predicate: Callable[[SlackState], bool]) -> SlackState:
        return await self.slack.wait_for(predicate)

    def actor(self, user: str = ADMIN) -> Actor:
        return Actor(user, self.slack.workspace.team_id, True, True, CHANNEL)

    async def numbers(self, assignment: str | None = None) -> list[NumberRecord]:
        page = await self.runtime.services.numbers.list_numbers(
            self.actor(),
            NumberFilter(assignment=AssignmentFilter.parse(assignment) if assignment else None),
            limit=50,
        )
        return list(page.rows)

    # --- what people see -------------------------------------------------------------

    def modal(self, user: str = ADMIN) -> View:
        view = self.state.top_view(user)
        assert view is not None, f"{user} has no modal open"
        return view

    def cards(self, channel: str = CHANNEL) -> list[Message]:
        """Bot messages with blocks (cards) in a channel, oldest first."""
        return [m for m in self.state.messages_in(channel) if m.blocks and not m.thread_ts]

    def card(self, channel: str = CHANNEL) -> Message:
        cards = self.cards(channel)
        assert cards, f"no card in {channel}"
        return cards[-1]

    def replies(self, channel: str = CHANNEL) -> list[str]:
        return [m.text for m in self.state.messages_in(channel) if m.thread_ts]

    def ephemeral_texts(self, user: str, channel: str = CHANNEL) -> list[str]:
        return [m.text for m in self.state.ephemerals_for(channel, user)]

    def dm(self, user: str) -> str:
        return self.slack.dm_channel(user).id

    # --- common steps -------------------------------------------------------------------

    async def open_buy(self, user: str = ADMIN, text: str = "buy", channel: str = CHANNEL) -> View:
        before = len(self.state.calls_to("views.open"))
        result = await self.driver.slash(user, channel, text=text)
        assert result.status == 200
        await self.until(lambda s: len(s.calls_to("views.open")) > before)
        return self.modal(user)

    async def redraw(self, action: Awaitable[Any], user: str = ADMIN) -> View:
        """Do something in the modal and wait until the app has redrawn it."""
        old_hash = self.modal(user).hash
        await action
        await self.until(lambda s: (v := s.top_view(user)) is not None and v.hash != old_hash)
        return self.modal(user)

    async def search(self, area_code: str, user: str = ADMIN) -> View:
        await self.driver.fill(user, "Area code", area_code)
        return await self.redraw(self.driver.click(user, "Search"), user)

    async def submit_and_wait_card(self, user: str = ADMIN, channel: str = CHANNEL) -> Message:
        before = len(self.cards(channel))
        result = await self.driver.submit(user)
        assert result.outcome == "closed", (result.errors, result.problem)
        await self.until(lambda s: len(self.cards(channel)) > before)
        await self.settle()
        return self.card(channel)

    async def click_and_wait(
        self, user: str, label: str, done: Callable[[SlackState], bool], **where: Any
    ) -> None:
        await self.driver.click(user, label, **where)
        await self.until(done)
        await self.settle()


def result_labels(view: View, group: str = "Numbers") -> list[str]:
    """The option labels of the modal's checkbox groups whose label starts with `group`."""
    labels: list[str] = []
    for block in view.blocks:
        if block.get("type") != "input" or not plain(block.get("label")).startswith(group):
            continue
        element = block["element"]
        if element.get("type") == "checkboxes":
            labels += [plain(o["text"]) for o in element["options"]]
    return labels


def e164_of(label: str) -> str:
    """`(415) 555-0123 · …` → `+14155550123`."""
    digits = "".join(ch for ch in label.split("·")[0] if ch.isdigit())
    return "+1" + digits


_NAMES: dict[str, str] = {ADMIN: "alice", MANAGER: "bob", MANAGER2: "carol", MEMBER: "dave"}


def text_of(surface: Message | View) -> str:
    """What a person reads: rendered like the console does, without mrkdwn bold."""
    return render_surface(surface, _NAMES).replace("*", "")


def says(channel: str, *needles: str, card_index: int = -1) -> Callable[[SlackState], bool]:
    """A wait predicate: the channel's latest card shows every needle."""

    def check(state: SlackState) -> bool:
        cards = [m for m in state.messages_in(channel) if m.blocks and not m.thread_ts]
        if not cards:
            return False
        shown = text_of(cards[card_index])
        return all(n in shown for n in needles)

    return check


BotFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def make_bot(tmp_path: Path, clock: FakeClock) -> AsyncIterator[BotFactory]:
    """Build a bot with settings overrides; everything is torn down after the test."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def factory(slack_options: dict[str, Any] | None = None, **overrides: Any) -> Harness:
        slack = await FakeSlack(bot_token=TOKEN, **(slack_options or {})).start()
        cleanups.append(slack.stop)
        slack.add_user(ADMIN, "alice")
        slack.add_user(MANAGER, "bob")
        slack.add_user(MANAGER2, "carol")
        slack.add_user(MEMBER, "dave")
        slack.add_channel(CHANNEL, "numbers")
        slack.add_channel(PRIVATE, "secret", is_private=True, bot_is_member=False)
        slack.add_channel(APPROVALS, "approvals")
        base: dict[str, Any] = {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": slack.api_url,
            "admins": [ADMIN],
        }
        base.update(overrides)
        settings = make_settings(tmp_path, **base)
        runtime = await start(settings, clock=clock)
        cleanups.append(runtime.close)
        app = build_app(runtime)
        cleanups.append(lambda: close_app(app))
        server = await start_http(app)
        cleanups.append(server.stop)
        driver = SlackDriver(slack, server.events_url, SECRET)
        cleanups.append(driver.aclose)
        return Harness(slack, driver, runtime, server, worker_for(app), clock, app)

    yield factory
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def bot(make_bot: BotFactory) -> Harness:
    """Approvals on (the default policy), two approvers, DMs for approval cards."""
    return await make_bot()


@pytest.fixture
async def direct_bot(make_bot: BotFactory) -> Harness:
    """No approval needed: Accept buys at once."""
    return await make_bot(approvals={"mode": "never"})
