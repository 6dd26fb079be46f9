"""Another process holding the database: the write fails with words, and the next one works.

A plain `sqlite3` connection holds `BEGIN IMMEDIATE` (as a second replica, a
backup or an admin's shell would) past the busy timeout, made short here.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, start
from bot.config import Settings
from bot.domain.assignment import Assignment
from bot.domain.errors import BackendUnavailable
from bot.domain.states import RequestState
from bot.service.context import Actor
from storage import db
from storage.uow import DatabaseBusy
from tests.conftest import FakeClock

pytestmark = pytest.mark.sqlite_only

# A guard so a regression fails the test instead of hanging the run; not a timing assertion.
GUARD_SECONDS = 20


@contextmanager
def held_by_another_process(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _db_path(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


@pytest.fixture
async def short_busy(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Runtime]:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    rt = await start(settings, clock=clock)
    yield rt
    await rt.close()


async def _quoted(rt: Runtime, admin: Actor) -> str:
    found = await rt.services.numbers.search(admin, "local", "415", quantity=1)
    request = await rt.services.purchases.request_purchase(
        admin, [found.available[0].e164], Assignment.main()
    )
    return request.id


async def test_a_busy_database_fails_one_write_with_words_and_the_next_one_works(
    short_busy: Runtime, settings: Settings, admin: Actor
) -> None:
    purchases = short_busy.services.purchases
    request_id = await _quoted(short_busy, admin)
    with held_by_another_process(_db_path(settings)), pytest.raises(DatabaseBusy) as busy:
        await asyncio.wait_for(purchases.accept(admin, request_id), GUARD_SECONDS)
    # A retryable error the handlers show as its message: no traceback, says to retry.
    assert isinstance(busy.value, BackendUnavailable)
    assert "busy" in busy.value.message and "Try again" in busy.value.message
    assert (await purchases.get(admin, request_id)).state is RequestState.QUOTED
    # Released: the very next write goes through (before the fix it waited forever).
    accepted = await asyncio.wait_for(purchases.accept(admin, request_id), GUARD_SECONDS)
    assert accepted.request.state is RequestState.AWAITING_APPROVAL


async def test_a_write_cancelled_while_waiting_for_the_database_releases_it(
    runtime: Runtime, settings: Settings, admin: Actor
) -> None:
    purchases = runtime.services.purchases
    request_id = await _quoted(runtime, admin)
    write_lock = runtime.services.deps.uow._write_lock
    assert write_lock is not None
    with held_by_another_process(_db_path(settings)):
        task = asyncio.create_task(purchases.cancel(admin, request_id))
        # Let it run until it holds the process's write lock and waits in BEGIN IMMEDIATE.
        for _ in range(10_000):
            if write_lock.locked():
                break
            await asyncio.sleep(0)
        assert write_lock.locked()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    cancelled = await asyncio.wait_for(purchases.cancel(admin, request_id), GUARD_SECONDS)
    assert cancelled.state is RequestState.CANCELLED
    assert not write_lock.locked()
