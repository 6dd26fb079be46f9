"""On PostgreSQL (READ COMMITTED) the state condition of each move decides a race.

SQLite lets one writer in at a time, so there two transactions never hold the
same stale read at once. PostgreSQL lets both in: each reads the row, then both
write. The second UPDATE waits for the first transaction's row lock and, once
it commits, re-checks its WHERE against the committed row, which no longer has
the expected state, so it changes nothing and its row count says it lost.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import pg
from bot.bootstrap import Runtime, start
from bot.config import Settings, load_settings
from bot.domain.assignment import Assignment
from bot.domain.states import RequestState
from bot.service.context import Actor
from storage import db
from storage.db import session_factory
from storage.uow import DatabaseBusy, UnitOfWork, UnitOfWorkFactory
from tests import postgres
from tests.conftest import FakeClock

pytestmark = pytest.mark.skipif(
    not postgres.wanted(), reason="two open write transactions at once need PostgreSQL"
)


async def test_two_transactions_read_the_same_state_and_exactly_one_moves_it(
    runtime: Runtime, admin: Actor, clock: FakeClock
) -> None:
    found = await runtime.services.numbers.search(admin, "local", "415", quantity=1)
    request = await runtime.services.purchases.request_purchase(
        admin, [n.e164 for n in found.available], Assignment.main()
    )
    units = UnitOfWorkFactory(session_factory(runtime.engine))
    both_read = asyncio.Barrier(2)
    first_wrote = asyncio.Event()

    async def decide(new: RequestState, *, first: bool) -> bool:
        async with units() as uow:
            seen = await uow.requests.get(request.id)
            assert seen is not None and seen.state is RequestState.QUOTED
            await both_read.wait()  # both transactions are open and have read QUOTED
            if not first:
                await first_wrote.wait()
            moved = await _move(uow, request.id, seen.state, new, clock)
            if first:
                first_wrote.set()
                await asyncio.sleep(0.05)  # the other UPDATE now waits on this row's lock
            await uow.commit()
            return moved

    accept, cancel = await asyncio.gather(
        decide(RequestState.AWAITING_APPROVAL, first=True),
        decide(RequestState.CANCELLED, first=False),
    )
    assert (accept, cancel) == (True, False)
    async with units(write=False) as uow:
        after = await uow.requests.get(request.id)
    assert after is not None and after.state is RequestState.AWAITING_APPROVAL


async def _move(
    uow: UnitOfWork, request_id: str, seen: RequestState, new: RequestState, clock: FakeClock
) -> bool:
    return await uow.requests.transition(request_id, seen, new, clock())


async def test_two_transactions_holding_the_same_number_exactly_one_gets_it(
    runtime: Runtime, clock: FakeClock
) -> None:
    one = Actor("UADM1", "T1", is_admin=True, channel_id="C1")
    two = Actor("UADM2", "T1", is_admin=True, channel_id="C1")
    found = await runtime.services.numbers.search(one, "local", "415", quantity=1)
    wanted = [n.e164 for n in found.available]
    results = await asyncio.gather(
        runtime.services.purchases.request_purchase(one, wanted, Assignment.main()),
        runtime.services.purchases.request_purchase(two, wanted, Assignment.main()),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1, results


async def test_a_row_held_by_another_replica_fails_one_write_with_words_and_the_next_works(
    settings: Settings, clock: FakeClock, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)  # this engine's lock_timeout
    rt = await start(settings, clock=clock)
    try:
        found = await rt.services.numbers.search(admin, "local", "415", quantity=1)
        request = await rt.services.purchases.request_purchase(
            admin, [n.e164 for n in found.available], Assignment.main()
        )
        other = create_async_engine(settings.database_url)  # a replica without a lock_timeout
        try:
            async with other.connect() as conn, conn.begin():
                await conn.execute(
                    text("SELECT id FROM purchase_requests WHERE id = :id FOR UPDATE"),
                    {"id": request.id},
                )
                with pytest.raises(DatabaseBusy):
                    await rt.services.purchases.accept(admin, request.id)
        finally:
            await other.dispose()
        accepted = await rt.services.purchases.accept(admin, request.id)
        assert accepted.request.state is not RequestState.QUOTED
    finally:
        await rt.close()


async def test_replicas_starting_together_on_an_empty_database_each_start(tmp_path: Path) -> None:
    url = pg.create_database(f"empty_{os.getpid()}")
    settings = load_settings(database_url=url)
    runtimes = await asyncio.gather(*(start(settings) for _ in range(3)))
    try:
        admin = Actor("UADMIN", "T1", is_admin=True, channel_id="C1")
        accounts = await runtimes[2].services.accounts.list_accounts(admin)
        assert [a.name for a in accounts] == ["Main"]
    finally:
        for rt in runtimes:
            await rt.close()
