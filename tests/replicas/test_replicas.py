"""Three app processes on one PostgreSQL behind a round-robin load balancer.

Each replica is a real `numbers-bot serve` process with its own engine, carrier
and worker. People click through the Slack stand-in; every request they send is
dealt to the next replica, as a load balancer would. The database alone decides
who gets a number, and a replica killed while it buys is finished by another.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack, SlackState, View, plain
from bot.console.render import render_surface
from tests import postgres
from tests.kazoo_standin import API_KEY, CHILD_A, ROOT, Number
from tests.kazoo_standin.server import running

pytestmark = pytest.mark.skipif(
    not postgres.wanted(), reason="replicas share a PostgreSQL (NUMBERS_BOT_TEST_DATABASE)"
)

SECRET = "replica-signing-secret"
TOKEN = "xoxb-replicas"
CHANNEL = "C1"
ADMINS = ("UADM1", "UADM2", "UADM3")
# Bounds so a regression fails instead of hanging the run; nothing asserts a duration.
START_GUARD_SECONDS = 60.0
WAIT_GUARD_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Replica:
    process: asyncio.subprocess.Process
    url: str
    log: Path


@dataclass
class RoundRobin:
    """The load balancer: each request to the next live replica (a dead one is skipped)."""

    replicas: list[Replica]
    served_by: list[int] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower().startswith(("x-", "content-type"))
        }
        for _ in range(len(self.replicas)):
            index = next(self._turn) % len(self.replicas)
            replica = self.replicas[index]
            if replica.process.returncode is not None:
                continue
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(replica.url + request.path, data=body, headers=headers) as answer,
                ):
                    self.served_by.append(index)
                    return web.Response(
                        status=answer.status,
                        body=await answer.read(),
                        content_type=answer.content_type,
                    )
            except aiohttp.ClientConnectionError:
                continue  # a replica that just died: the balancer tries the next
        return web.Response(status=502, text="no replica answered")


@dataclass
class Cluster:
    slack: FakeSlack
    driver: SlackDriver
    balancer: RoundRobin
    db: AsyncEngine

    @property
    def state(self) -> SlackState:
        return self.slack.state

    async def until(self, predicate: Callable[[SlackState], bool]) -> SlackState:
        return await self.slack.wait_for(predicate)

    async def scalar(self, sql: str, **params: object) -> object:
        async with self.db.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def until_db(self, sql: str, wanted: object, **params: object) -> None:
        for _ in range(int(WAIT_GUARD_SECONDS / 0.1)):
            if await self.scalar(sql, **params) == wanted:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{sql} never became {wanted!r}")

    def modal(self, user: str) -> View:
        view = self.state.top_view(user)
        assert view is not None, f"{user} has no modal open"
        return view

    async def open_buy_and_search(self, user: str) -> View:
        assert (await self.driver.slash(user, CHANNEL, text="buy")).status == 200
        try:
            # Per person: the three open their modals at once.
            await self.until(lambda s: s.top_view(user) is not None)
        except TimeoutError:
            said = [m.text for m in self.state.ephemerals_for(CHANNEL, user)]
            raise AssertionError(f"no Buy Numbers modal for {user}; the app said {said}") from None
        old = self.modal(user).hash
        await self.driver.fill(user, "Area code", "415")
        await self.driver.click(user, "Search")
        await self.until(lambda s: (v := s.top_view(user)) is not None and v.hash != old)
        return self.modal(user)

    def cards(self) -> list[str]:
        """What people read on the channel's cards, as the console renders them."""
        return [
            render_surface(m, {}).replace("*", "")
            for m in self.state.messages_in(CHANNEL)
            if m.blocks and not m.thread_ts
        ]


def _labels(view: View) -> list[str]:
    labels: list[str] = []
    for block in view.blocks:
        element = block.get("element", {})
        wanted = plain(block.get("label")).startswith("Numbers")
        if block.get("type") == "input" and element.get("type") == "checkboxes" and wanted:
            labels += [plain(o["text"]) for o in element["options"]]
    return labels


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _start_replica(env: dict[str, str], log: Path) -> Replica:
    port = _free_port()
    out = log.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve",
        env={**env, "NUMBERS_BOT_PORT": str(port)}, stdout=out, stderr=out,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(int(START_GUARD_SECONDS / 0.1)):
            if process.returncode is not None:
                raise AssertionError(f"a replica exited: {_tail(log)}")
            try:
                async with session.get(url + "/health") as answer:
                    if answer.status == 200:
                        return Replica(process, url, log)
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"a replica did not start: {_tail(log)}")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    slack = await FakeSlack(bot_token=TOKEN).start()
    for i, admin in enumerate(ADMINS):
        slack.add_user(admin, f"admin{i + 1}")
    slack.add_channel(CHANNEL, "numbers")
    database_url = postgres.fresh_database_url()
    config = tmp_path / "numbers-bot.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "admins": list(ADMINS),
                "approvals": {"mode": "never"},
                # Orders slow enough that a replica can be killed in the middle of a purchase.
                "carrier": {"latency_ms": 600, "activation_delay_seconds": 0},
                "worker": {"interval_seconds": 0.5, "resume_after_seconds": 3},
            }
        )
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NUMBERS_BOT_", "SLACK_"))},
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "NUMBERS_BOT_SLACK_API_URL": slack.api_url,
        "NUMBERS_BOT_DATABASE_URL": database_url,
        "NUMBERS_BOT_HOST": "127.0.0.1",
        "NUMBERS_BOT_CONFIG": str(config),
    }
    replicas = list(
        await asyncio.gather(
            *(_start_replica(env, tmp_path / f"replica-{i}.log") for i in range(3))
        )
    )
    balancer = RoundRobin(replicas)
    lb = web.Application()
    lb.router.add_route("*", "/{tail:.*}", balancer.handle)
    runner = web.AppRunner(lb)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    lb_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    driver = SlackDriver(slack, lb_url + "/slack/events", SECRET)
    db = create_async_engine(database_url)
    try:
        yield Cluster(slack, driver, balancer, db)
    finally:
        await db.dispose()
        await driver.aclose()
        await runner.cleanup()
        for replica in replicas:
            if replica.process.returncode is None:
                replica.process.terminate()
        for replica in replicas:
            await replica.process.wait()
        await slack.stop()


async def test_the_same_numbers_asked_through_three_replicas_are_sold_once(
    cluster: Cluster,
) -> None:
    views = await asyncio.gather(*(cluster.open_buy_and_search(a) for a in ADMINS))
    # Everyone searched before anyone submitted: they all see the same first number.
    common = set(_labels(views[0])[:2])
    for view in views[1:]:
        common &= set(_labels(view))
    picked = sorted(common)[:2]
    assert len(picked) == 2
    for admin in ADMINS:
        await cluster.driver.check(admin, picked)
    results = await asyncio.gather(*(cluster.driver.submit(a) for a in ADMINS))
    # The three submissions went to three different replicas.
    assert len(set(cluster.balancer.served_by[-3:])) == 3
    assert [r.outcome for r in results].count("closed") == 1, [r.errors for r in results]
    winner = ADMINS[[r.outcome for r in results].index("closed")]
    await cluster.until(lambda s: len(cluster.cards()) == 1)
    await cluster.driver.click(winner, "Accept", channel=CHANNEL)
    await cluster.until_db("SELECT count(*) FROM purchase_requests WHERE state = 'completed'", 1)
    await cluster.until_db("SELECT count(*) FROM numbers WHERE state = 'in_service'", 2)
    assert (
        await cluster.scalar("SELECT count(*) FROM audit_events WHERE action = 'number.purchased'")
        == 2
    )
    assert await cluster.scalar("SELECT count(*) FROM purchase_requests") == 1


async def test_a_replica_killed_while_buying_is_finished_by_another(cluster: Cluster) -> None:
    admin = ADMINS[0]
    view = await cluster.open_buy_and_search(admin)
    picked = _labels(view)[:4]
    await cluster.driver.check(admin, picked)
    assert (await cluster.driver.submit(admin)).outcome == "closed"
    await cluster.until(lambda s: len(cluster.cards()) == 1)
    await cluster.driver.click(admin, "Accept", channel=CHANNEL)
    buyer = cluster.balancer.served_by[-1]
    # Kill the replica that is buying once it has bought one number of the four.
    await cluster.until_db(
        "SELECT count(*) >= 1 FROM purchase_items WHERE outcome = 'bought'", True
    )
    process = cluster.balancer.replicas[buyer].process
    process.send_signal(signal.SIGKILL)
    await process.wait()
    assert await cluster.scalar("SELECT count(*) FROM purchase_items WHERE outcome = 'pending'"), (
        "the purchase had finished before the replica was killed; slow the carrier down"
    )

    # Another replica's worker finds the purchase quiet and finishes it.
    await cluster.until_db("SELECT state FROM purchase_requests", "completed")
    assert await cluster.scalar("SELECT count(*) FROM numbers WHERE state = 'in_service'") == 4
    per_number = await cluster.scalar(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM audit_events"
        " WHERE action = 'number.purchased' GROUP BY number) AS c"
    )
    assert per_number == 1
    assert (
        await cluster.scalar("SELECT count(*) FROM audit_events WHERE action = 'number.purchased'")
        == 4
    )
    # The card the person watches says so, redrawn by the replica that finished.
    try:
        await cluster.slack.wait_for(lambda s: any("Bought 4" in t for t in cluster.cards()), 10)
    except TimeoutError:
        raise AssertionError(cluster.cards()) from None


# --- the inventory sync on two replicas at once ---------------------------------------------


async def _sync_runs(session: aiohttp.ClientSession, replica: Replica) -> float:
    async with session.get(replica.url + "/metrics") as answer:
        text_ = await answer.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text_.splitlines()
        if line.startswith("numbers_bot_sync_runs_total{") and 'outcome="ok"' in line
    )


async def test_two_replicas_syncing_the_same_kazoo_at_once_record_each_number_once(
    tmp_path: Path,
) -> None:
    """Both replicas sync at start-up, at the same moment, over pages of Kazoo's listing."""
    numbers = [f"+1415555{i:04d}" for i in range(120)]  # more than two pages of 50
    slack = await FakeSlack(bot_token=TOKEN).start()
    async with running() as kazoo:
        for i, e164 in enumerate(numbers):
            owner = CHILD_A if i % 2 else ROOT
            kazoo.model.numbers[e164] = Number(e164, "in_service", assigned_to=owner)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("NUMBERS_BOT_", "SLACK_"))},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "NUMBERS_BOT_SLACK_API_URL": slack.api_url,
            "NUMBERS_BOT_DATABASE_URL": postgres.fresh_database_url(),
            "NUMBERS_BOT_HOST": "127.0.0.1",
            "NUMBERS_BOT_BACKEND": "kazoo",
            "KAZOO_URL": kazoo.url,
            "KAZOO_API_KEY": API_KEY,
            "KAZOO_ACCOUNT_ID": ROOT,
        }
        replicas = list(
            await asyncio.gather(
                *(_start_replica(env, tmp_path / f"sync-{i}.log") for i in range(2))
            )
        )
        db = create_async_engine(env["NUMBERS_BOT_DATABASE_URL"])
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(int(WAIT_GUARD_SECONDS / 0.2)):
                    runs = [await _sync_runs(session, r) for r in replicas]
                    if all(n >= 1 for n in runs):
                        break
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError(f"the start-up syncs did not finish: {runs}")
            async with db.connect() as conn:
                owned = (
                    await conn.execute(
                        text("SELECT count(*) FROM numbers WHERE state = 'in_service'")
                    )
                ).scalar()
                audited = (
                    await conn.execute(
                        text(
                            "SELECT count(*), count(DISTINCT number) FROM audit_events"
                            " WHERE action = 'number.synced'"
                        )
                    )
                ).one()
                accounts = (
                    await conn.execute(
                        text("SELECT count(*) FROM accounts WHERE external_id = :r"), {"r": ROOT}
                    )
                ).scalar()
            assert owned == len(numbers)
            assert tuple(audited) == (len(numbers), len(numbers))  # each number audited once
            assert accounts == 1  # the company account linked once, not once per replica
        finally:
            await db.dispose()
            for replica in replicas:
                replica.process.terminate()
            for replica in replicas:
                await replica.process.wait()
            await slack.stop()
