"""The carrier guard with storage's real unit of work on a SQLite file.

storage/uow.py does not mark its write units of work yet (others are
changing it); `MarkingUnitOfWork` below is exactly the change proposed for it
in docs/decisions/carrier-contract.md, applied by subclassing, so the guard
is proven against the real class. The last test is the tripwire: it passes
(as an expected failure) until storage/uow.py carries the change, then fails
until its `xfail` marker is removed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import (
    CarrierCall,
    CarrierCalledInsideWrite,
    GuardedCarrier,
    WriteMark,
    in_write_unit_of_work,
    write_unit_of_work_closed,
    write_unit_of_work_opened,
)
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings
from bot.domain.phone import Kind, SearchQuery
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork, UnitOfWorkFactory


class MarkingUnitOfWork(UnitOfWork):
    """storage's UnitOfWork with the proposed three lines."""

    _proposed_mark: WriteMark | None = None

    async def __aenter__(self) -> UnitOfWork:
        uow = await super().__aenter__()
        self._proposed_mark = write_unit_of_work_opened() if self._write else None
        return uow

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            if self._proposed_mark is not None:
                write_unit_of_work_closed(self._proposed_mark)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}")
    yield session_factory(engine)
    await engine.dispose()


def carrier() -> GuardedCarrier:
    stock = SimulatedCarrier(CarrierSettings(seed="guard", inventory_per_prefix=5))
    return GuardedCarrier(SimCarrier(stock, PlanSettings().to_plan()))


async def test_a_carrier_call_inside_a_real_write_transaction_fails(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    guarded = carrier()
    query = SearchQuery(Kind.LOCAL, "415")

    async with MarkingUnitOfWork(sessions, write=True) as uow:
        await uow.session.execute(text("SELECT 1"))
        with pytest.raises(CarrierCalledInsideWrite):
            await guarded.search(query, quantity=1)
    async with MarkingUnitOfWork(sessions, write=False):
        await guarded.search(query, quantity=1)
    await guarded.search(query, quantity=1)

    assert guarded.violations == [CarrierCall("search", inside_write=True)]
    assert len(guarded.calls) == 3


@pytest.mark.xfail(
    strict=True, reason="storage/uow.py does not mark write units of work yet (see the docstring)"
)
async def test_storage_marks_its_write_units_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with UnitOfWorkFactory(sessions)(write=True):
        assert in_write_unit_of_work()
    assert not in_write_unit_of_work()
