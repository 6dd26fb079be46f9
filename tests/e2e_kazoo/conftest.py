"""The end-to-end harness on NUMBERS_BOT_BACKEND=kazoo: the same `Harness` as
tests/e2e, with the bot started against the stand-in Kazoo on loopback.

Every Slack user but one has a Kazoo user with their email. `KAZOO_ACCOUNT_ID`
is the company's own account, with two sub-accounts; the start-up sync makes it
the workspace's default. It is named "Main" here, so the flows of tests/e2e read
the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import build_app, close_app, worker_for
from bot.backends.kazoo_client import Backoff
from bot.bootstrap import start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack
from bot.health import health_check
from bot.server import start_http
from tests.conftest import ADMIN, MANAGER, MANAGER2, MEMBER, FakeClock, make_settings
from tests.e2e.conftest import (
    APPROVALS,
    CHANNEL,
    PRIVATE,
    SECRET,
    TOKEN,
    BotFactory,
    Harness,
)
from tests.kazoo_standin import API_KEY, CHILD_A, CHILD_B, ROOT, KazooStandIn, running

EMAILS = {
    ADMIN: "alice@example.com",
    MANAGER: "bob@example.com",
    MANAGER2: "carol@example.com",
    MEMBER: "dave@example.com",
}


class KazooHarness(Harness):
    kazoo: KazooStandIn


@pytest.fixture
async def kazoo() -> AsyncIterator[KazooStandIn]:
    async with running() as standin:
        standin.model.accounts[ROOT].name = "Main"
        # The reused flows read the bot's own plan on the card: a plan pricing only numbers.
        standin.model.user_rate = Decimal("0")
        for account in (ROOT, CHILD_A, CHILD_B):
            for extension, name in enumerate(("bob", "carol", "dave"), start=1002):
                user_id = f"{account}-user-{name}"
                standin.model.users[account].setdefault(
                    user_id,
                    {
                        "id": user_id,
                        "first_name": name.title(),
                        "last_name": "Example",
                        "email": f"{name}@example.com",
                    },
                )
                # SmartPBX gives every user a callflow of their own (an extension).
                standin.model.callflows[account][f"{account}-{name}"] = {
                    "id": f"{account}-{name}",
                    "name": f"{name.title()} SmartPBX's Callflow",
                    "type": "mainUserCallflow",
                    "owner_id": user_id,
                    "numbers": [str(extension)],
                    "flow": {"module": "user", "data": {"id": user_id}, "children": {}},
                }
        yield standin
    # Every body the bot sent Kazoo matched Kazoo's schemas.
    assert standin.schema_errors == []


def quick_kazoo(harness: Harness, *, timeout: float = 1.0) -> None:
    """A short timeout and backoff sleeps recorded, not slept (faults stay fast)."""
    client = harness.runtime.backend._client  # type: ignore[attr-defined]
    client._timeout = aiohttp.ClientTimeout(total=timeout)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client._backoff = Backoff(attempts=4, base=0.2, cap=2.0, sleep=sleep)


def callflow_numbers(kazoo: KazooStandIn, account: str) -> dict[str, list[str]]:
    """Callflow name -> its numbers, as SmartPBX would show them."""
    return {
        str(doc.get("name", cf_id)): list(doc.get("numbers", []))
        for cf_id, doc in kazoo.model.callflows[account].items()
    }


@pytest.fixture
async def make_bot(
    tmp_path: Path, clock: FakeClock, kazoo: KazooStandIn
) -> AsyncIterator[BotFactory]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def factory(**overrides: Any) -> Harness:
        slack = await FakeSlack(bot_token=TOKEN).start()
        cleanups.append(slack.stop)
        for user, name in ((ADMIN, "alice"), (MANAGER, "bob"), (MANAGER2, "carol")):
            slack.add_user(user, name, email=EMAILS[user])
        slack.add_user(MEMBER, "dave", email=EMAILS[MEMBER])
        slack.add_channel(CHANNEL, "numbers")
        slack.add_channel(PRIVATE, "secret", is_private=True, bot_is_member=False)
        slack.add_channel(APPROVALS, "approvals")
        base: dict[str, Any] = {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
            "slack_api_url": slack.api_url,
            "admins": [ADMIN],
            "backend": "kazoo",
            "kazoo_url": kazoo.url,
            "kazoo_api_key": API_KEY,
            "kazoo_account_id": ROOT,
        }
        base.update(overrides)
        settings = make_settings(tmp_path, **base)
        runtime = await start(settings, clock=clock)
        cleanups.append(runtime.close)
        app = build_app(runtime)
        cleanups.append(lambda: close_app(app))
        server = await start_http(app, health=health_check(runtime.backend))
        cleanups.append(server.stop)
        driver = SlackDriver(slack, server.events_url, SECRET)
        cleanups.append(driver.aclose)
        worker = worker_for(app)
        # The start-up sync links the default account to `KAZOO_ACCOUNT_ID`'s.
        assert await worker.sync_mirror()
        harness = KazooHarness(slack, driver, runtime, server, worker, clock, app)
        harness.kazoo = kazoo
        quick_kazoo(harness, timeout=5.0)
        return harness

    yield factory
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def bot(make_bot: BotFactory) -> Harness:
    return await make_bot()


@pytest.fixture
async def direct_bot(make_bot: BotFactory) -> Harness:
    return await make_bot(approvals={"mode": "never"})
