"""The unit of work: one session, one transaction, per service call (bot/service/ports.py).

Leaving the block without `commit()` rolls everything back, so a failure in
the middle of a use case leaves nothing half-done.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

__all__ = ["ConstraintViolation", "DatabaseBusy", "UnitOfWork", "UnitOfWorkFactory", "is_busy"]

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.backends.guard import WriteMark, write_unit_of_work_closed, write_unit_of_work_opened
from bot.service import ports
from bot.service.ports import ConstraintViolation, StorageBusy
from storage.db import IMMEDIATE
from storage.listing import ListingRepo
from storage.overview import OverviewRepo
from storage.repositories import (
    AccountsRepo,
    AuditRepo,
    DeliveriesRepo,
    NumbersRepo,
    RequestsRepo,
)


class DatabaseBusy(StorageBusy):
    """Another process held the database past the busy timeout; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(
            "The database is busy right now, so nothing was changed. Try again in a moment."
        )


# PostgreSQL's words for "not now": lock_not_available, query_canceled (a statement or lock
# timeout), too_many_connections, cannot_connect_now, deadlock_detected, serialization_failure.
POSTGRES_BUSY = frozenset({"55P03", "57014", "53300", "57P03", "40P01", "40001"})


def is_busy(error: BaseException) -> bool:
    """The database could not take this transaction now, however the driver words it.

    SQLite: "database is locked" (SQLITE_BUSY / SQLITE_LOCKED). PostgreSQL: the SQLSTATEs
    above, or no connection at all (the server restarting, the pool's timeout).
    """
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    orig = error.orig if isinstance(error, DBAPIError) else error
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate in POSTGRES_BUSY
    if isinstance(orig, ConnectionError | OSError) and not isinstance(orig, sqlite3.Error):
        return True
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        # The primary code is the low byte; extended codes (SQLITE_BUSY_SNAPSHOT…) share it.
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(orig) or "busy" in str(orig)


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        write: bool,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self._sessions = sessions
        self._write = write
        self._lock = write_lock if write else None
        self._committed = False
        # Marks the stretch a write transaction is open, so a carrier call inside it fails.
        self._mark: WriteMark | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
        session: AsyncSession | None = None
        try:
            session = self.session = self._sessions()
            if self._write:
                # Take the connection now, so "the database cannot take a writer" is known
                # before the use case starts (SQLite: BEGIN IMMEDIATE takes its write lock).
                sqlite = session.get_bind().dialect.name == "sqlite"
                await session.connection(execution_options={IMMEDIATE: True} if sqlite else None)
        except BaseException as exc:
            # `__aexit__` does not run when `__aenter__` fails (a busy timeout, a cancelled
            # task): give back the connection and the process-wide write lock here, or
            # every later write in this process would wait for them forever.
            await self._give_back(session)
            if is_busy(exc):
                raise DatabaseBusy() from exc
            raise
        # Typed as the ports: the services see only what bot/service/ports.py promises.
        self.accounts: ports.AccountsRepository = AccountsRepo(self.session)
        self.numbers: ports.NumbersRepository = NumbersRepo(self.session)
        self.listing: ports.ListingRepository = ListingRepo(self.session)
        self.requests: ports.RequestsRepository = RequestsRepo(self.session)
        self.audit: ports.AuditRepository = AuditRepo(self.session)
        self.deliveries: ports.DeliveriesRepository = DeliveriesRepo(self.session)
        self.overview: ports.OverviewRepository = OverviewRepo(self.session)
        self._mark = write_unit_of_work_opened() if self._write else None
        return self

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Undo only this block if it fails; a broken constraint is a `ConstraintViolation`."""
        try:
            async with self.session.begin_nested():
                yield
        except IntegrityError as exc:
            raise ConstraintViolation(str(exc.orig)) from exc

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._give_back(self.session)
        finally:
            if self._mark is not None:
                write_unit_of_work_closed(self._mark)
                self._mark = None
        if exc is not None and not isinstance(exc, StorageBusy) and is_busy(exc):
            # Rolled back above: nothing was changed, and the person is told to try again.
            raise DatabaseBusy() from exc

    async def _give_back(self, session: AsyncSession | None) -> None:
        # close() rolls back whatever was not committed (the pool resets the connection
        # on return); an explicit rollback first would cost a second round trip.
        try:
            if session is not None:
                await session.close()
        finally:
            if self._lock is not None:
                self._lock.release()


class UnitOfWorkFactory:
    """Hands out units of work; `write=False` for reads that must not queue behind writers.

    SQLite takes one writer at a time. Writers of this process queue on an
    asyncio lock, which hands over the moment the previous one commits, rather
    than in SQLite's busy handler, which sleeps and polls. BEGIN IMMEDIATE and
    the busy timeout still order writers of other processes. A task must not
    open a writing unit of work while it holds one.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if sqlite else None

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.sessions, write=write, write_lock=self._write_lock)
