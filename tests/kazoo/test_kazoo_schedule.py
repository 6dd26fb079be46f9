"""The kazoo backend's mirror on schedule, refused changes, people and /health, through
the wired runtime (`start` with NUMBERS_BOT_BACKEND=kazoo) and the Slack stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from sqlalchemy import func, select

from bot.app import build_app, close_app, mirror_for, worker_for
from bot.backends.carrier import NumberConflict
from bot.bootstrap import Runtime, start
from bot.console.fake_slack import FakeSlack
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.mirror import SyncReport
from bot.domain.states import NumberState
from bot.health import health_check
from bot.server import start_http
from bot.service.context import Actor
from storage import models as m
from tests.conftest import ADMIN, MEMBER, FakeClock, make_settings
from tests.kazoo_standin import API_KEY, CHILD_A, CHILD_B, ROOT, KazooStandIn, Number

TOKEN = "xoxb-kazoo"
WEST = "+14155552671"
EAST = "+12125552672"


@dataclass
class World:
    kazoo: KazooStandIn
    slack: FakeSlack
    runtime: Runtime
    app: AsyncApp

    def actor(self, user: str = ADMIN, channel: str | None = None) -> Actor:
        return Actor(user, self.slack.workspace.team_id, True, True, channel)

    async def synced(self) -> int:
        async with self.runtime.engine.connect() as conn:
            found = await conn.scalar(
                select(func.count()).where(m.AuditEvent.action == "number.synced")
            )
        return int(found or 0)


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    from tests.kazoo_standin import running

    async with running() as kazoo:
        kazoo.model.numbers[WEST] = Number(WEST, "in_service", assigned_to=CHILD_A)
        kazoo.model.numbers[EAST] = Number(EAST, "in_service", assigned_to=CHILD_B)
        slack = await FakeSlack(bot_token=TOKEN).start()
        slack.add_user(ADMIN, "alice", email="alice@example.com")
        slack.add_user(MEMBER, "dave")  # no email: Slack shows none
        settings = make_settings(
            tmp_path,
            backend="kazoo",
            kazoo_url=kazoo.url,
            kazoo_api_key=API_KEY,
            kazoo_account_id=ROOT,
            slack_bot_token=TOKEN,
            slack_signing_secret="s",
            slack_api_url=slack.api_url,
            admins=[ADMIN],
        )
        runtime = await start(settings, clock=clock)
        app = build_app(runtime)
        try:
            yield World(kazoo, slack, runtime, app)
        finally:
            await close_app(app)
            await runtime.close()
            await slack.stop()
        assert kazoo.schema_errors == []


async def test_start_up_sync_mirrors_kazoos_accounts_and_numbers(world: World) -> None:
    worker = worker_for(world.app)
    assert worker.sync_every == 15 * 60
    assert await worker.sync_mirror()

    actor = world.actor()
    names = sorted(a.name for a in await world.runtime.services.accounts.list_accounts(actor))
    assert names == ["Acme East", "Acme West", "Reseller"]
    await world.runtime.services.accounts.use(actor, "C1", "Acme West")
    west = await world.runtime.services.numbers.get(actor, WEST, channel_id="C1")
    assert west.state is NumberState.IN_SERVICE
    with pytest.raises(NotFound):
        await world.runtime.services.numbers.get(actor, EAST, channel_id="C1")


async def test_two_replicas_syncing_at_once_record_each_number_once(world: World) -> None:
    job = mirror_for(world.app)
    assert job is not None
    first, second = await asyncio.gather(job(), job())
    assert isinstance(first, SyncReport) and isinstance(second, SyncReport)
    assert first.added + second.added == 2
    assert await world.synced() == 2
    again = await job()
    assert again.changes == 0 and await world.synced() == 2


async def test_the_schedule_syncs_at_start_up_and_again_when_a_number_is_due(
    world: World,
) -> None:
    worker = worker_for(world.app)
    runs: list[int] = []
    ran = asyncio.Event()

    async def counting() -> None:
        runs.append(len(runs))
        ran.set()

    async def no_wait(_: float) -> None:
        return None

    worker.mirror, worker._sleep = counting, no_wait
    worker.sync_every = 3600.0  # the schedule alone would not run again in this test
    task = asyncio.create_task(worker.mirror_forever())
    try:
        await asyncio.wait_for(ran.wait(), 5)
        assert runs == [0]
        ran.clear()
        world.runtime.services.deps.due.mark(WEST)
        await asyncio.wait_for(ran.wait(), 5)
        assert runs == [0, 1]
        assert world.runtime.services.deps.due.numbers == set()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_change_kazoo_refuses_shows_kazoos_words_and_makes_the_number_due(
    world: World,
) -> None:
    world.kazoo.model.numbers[WEST].features.append("e911")
    world.kazoo.model.numbers[WEST].public["e911"] = {
        "street_address": "116 Natoma St",
        "locality": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
    }
    worker = worker_for(world.app)
    assert await worker.sync_mirror()
    actor = world.actor(channel="C1")
    await world.runtime.services.accounts.use(actor, "C1", "Acme West")
    # SmartPBX moves the number to the other account behind the bot's back.
    world.kazoo.change_number(WEST, assigned_to=CHILD_B)

    with pytest.raises(NumberConflict) as refused:
        await world.runtime.services.e911.remove_address(actor, WEST, channel_id="C1")
    assert "on another account now" in refused.value.message
    assert world.runtime.services.deps.due.numbers == {WEST}

    # The next sync brings the mirror in step: the number is Acme East's now.
    assert await worker.sync_mirror()
    with pytest.raises(NotFound):
        await world.runtime.services.numbers.get(actor, WEST, channel_id="C1")


async def test_a_released_number_stays_released_through_a_sync(world: World) -> None:
    worker = worker_for(world.app)
    assert await worker.sync_mirror()
    actor = world.actor(channel="C1")
    await world.runtime.services.accounts.use(actor, "C1", "Acme West")
    await world.runtime.services.numbers.release(actor, WEST, channel_id="C1")

    # Kazoo keeps it on the account until the bot's aging ends: the sync leaves it aging.
    assert await worker.sync_mirror()
    west = await world.runtime.services.numbers.get(actor, WEST, channel_id="C1")
    assert west.state is NumberState.AGING


async def test_assigning_to_a_slack_user_rings_their_kazoo_user(world: World) -> None:
    world.kazoo.model.users[CHILD_A][f"{CHILD_A}-user-alice"]["email"] = "alice@example.com"
    assert await worker_for(world.app).sync_mirror()
    actor = world.actor(channel="C1")
    await world.runtime.services.accounts.use(actor, "C1", "Acme West")

    await world.runtime.services.numbers.assign(actor, WEST, f"<@{ADMIN}>", channel_id="C1")

    callflow = world.kazoo.model.callflows[CHILD_A]
    holders = [cf_id for cf_id, doc in callflow.items() if WEST in doc.get("numbers", [])]
    assert len(holders) == 1
    assert callflow[holders[0]].get("owner_id") == f"{CHILD_A}-user-alice"


async def test_a_slack_user_with_no_kazoo_user_gets_a_clear_answer(world: World) -> None:
    assert await worker_for(world.app).sync_mirror()
    actor = world.actor(channel="C1")
    await world.runtime.services.accounts.use(actor, "C1", "Acme West")

    with pytest.raises(InvalidInput) as no_email:
        await world.runtime.services.numbers.assign(actor, WEST, f"<@{MEMBER}>", channel_id="C1")
    assert no_email.value.field == "target"
    assert "no email address" in no_email.value.message

    # Alice has an email, but no Kazoo user on Acme West has it.
    world.slack.state.users[ADMIN].email = "alice@elsewhere.example"
    with pytest.raises(InvalidInput, match="has no Kazoo user on this account"):
        await world.runtime.services.numbers.assign(actor, WEST, f"<@{ADMIN}>", channel_id="C1")
    west = await world.runtime.services.numbers.get(actor, WEST, channel_id="C1")
    assert west.assignment is None


async def test_health_asks_kazoo(world: World) -> None:
    # Uncached, so the second request asks Kazoo again (the cache: tests/e2e/test_health.py).
    server = await start_http(
        world.app, health=health_check(world.runtime.backend), health_cache_seconds=0
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/health") as answer:
                assert answer.status == 200
                assert await answer.json() == {"ok": True, "backend": "kazoo", "detail": "answers"}
            world.kazoo.fail_next(500, 10)
            async with http.get(server.url + "/health") as answer:
                assert answer.status == 503
                body = await answer.json()
                assert body["ok"] is False and API_KEY not in str(body)
    finally:
        await server.stop()
