"""The carrier guard with storage's real unit of work on a SQLite file.

storage/uow.py marks its write units of work (docs/decisions/carrier-contract.md);
the last test proves it does, for writes and not for reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import (
    CarrierCall,
    CarrierCalledInsideWrite,
    CarrierGuard,
    in_write_unit_of_work,
)
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings
from bot.domain.phone import Kind, SearchQuery
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork, UnitOfWorkFactory


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}")
    yield session_factory(engine)
    await engine.dispose()


class GuardedSim:
    """The simulated carrier behind a guard, with the guard's record."""

    def __init__(self) -> None:
        stock = SimulatedCarrier(CarrierSettings(seed="guard", inventory_per_prefix=5))
        guard = CarrierGuard()
        self.search = guard.wrap(SimCarrier(stock, PlanSettings().to_plan())).search
        self.calls = guard.calls
        self.violations = guard.violations


def carrier() -> GuardedSim:
    return GuardedSim()


async def test_a_carrier_call_inside_a_real_write_transaction_fails(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    guarded = carrier()
    query = SearchQuery(Kind.LOCAL, "415")

    async with UnitOfWork(sessions, write=True) as uow:
        await uow.session.execute(text("SELECT 1"))
        with pytest.raises(CarrierCalledInsideWrite):
            await guarded.search(query, quantity=1)
    async with UnitOfWork(sessions, write=False):
        await guarded.search(query, quantity=1)
    await guarded.search(query, quantity=1)

    assert guarded.violations == [CarrierCall("search", inside_write=True)]
    assert len(guarded.calls) == 3


async def test_storage_marks_its_write_units_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWorkFactory(sessions)(write=True):
        assert in_write_unit_of_work()
    assert not in_write_unit_of_work()
    async with UnitOfWorkFactory(sessions)(write=False):
        assert not in_write_unit_of_work()
