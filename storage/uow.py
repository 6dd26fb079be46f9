"""The unit of work: one session, one transaction, per service call.

Leaving the block without `commit()` rolls everything back, so a failure in
the middle of a use case leaves nothing half-done.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import IMMEDIATE
from storage.repositories import (
    AccountsRepo,
    AuditRepo,
    DeliveriesRepo,
    NumbersRepo,
    RequestsRepo,
)


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, write: bool) -> None:
        self._sessions = sessions
        self._write = write
        self._committed = False

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        if self._write and self.session.get_bind().dialect.name == "sqlite":
            await self.session.connection(execution_options={IMMEDIATE: True})
        self.accounts = AccountsRepo(self.session)
        self.numbers = NumbersRepo(self.session)
        self.requests = RequestsRepo(self.session)
        self.audit = AuditRepo(self.session)
        self.deliveries = DeliveriesRepo(self.session)
        return self

    async def commit(self) -> None:
        await self.session.commit()
        self._committed = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed (the pool resets the connection
        # on return); an explicit rollback first would cost a second round trip.
        await self.session.close()


class UnitOfWorkFactory:
    """Hands out units of work; `write=False` for reads that must not queue behind writers."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.sessions, write=write)
