"""Expire: a request whose hold ran out gives its numbers back (the worker's sweep, or a
click or a new request that found it lapsed). Safe on several replicas at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.audit import AuditAction
from bot.domain.purchase import PurchaseRequest
from bot.domain.records import SYSTEM, PurchaseRequestRecord
from bot.domain.states import REQUEST_MOVES, RequestMove
from bot.service.context import Deps
from bot.service.ports import UnitOfWork
from bot.service.purchase.shared import Core, moved
from bot.service.purchase.tell import Tell

EXPIRE = REQUEST_MOVES[RequestMove.EXPIRE]


async def expire_in(
    uow: UnitOfWork, request: PurchaseRequestRecord, now: datetime
) -> list[str] | None:
    """Expire an open request in `uow`: the numbers given back, or None if it moved on."""
    if not await uow.requests.transition(request.id, list(EXPIRE.sources), EXPIRE.target, now):
        return None
    released = await uow.numbers.release_holds(request.id, now)
    await uow.audit.add(moved(SYSTEM, request, AuditAction.REQUEST_EXPIRED, EXPIRE.target), now)
    return released


def count_expired(deps: Deps, released: Sequence[str]) -> None:
    deps.telemetry.purchase(EXPIRE.target.value)
    deps.telemetry.holds("expired", len(released))


class Expire:
    def __init__(self, core: Core, tell: Tell) -> None:
        self.core = core
        self.tell = tell

    async def one(self, request_id: str, now: datetime) -> PurchaseRequestRecord | None:
        """Expire the request if its hold ran out; the request as it was, or None."""
        async with self.core.deps.uow() as uow:
            request = await uow.requests.get(request_id)
            if request is None or not PurchaseRequest(request).hold_lapsed(now):
                return None
            released = await expire_in(uow, request, now)
            if released is None:
                return None
            await uow.commit()
        count_expired(self.core.deps, released)
        await self.core.let_go(request.account_id, released)
        return request

    async def sweep(self) -> list[PurchaseRequestRecord]:
        """Expire open requests whose hold ran out, and tell their requesters."""
        now = self.core.deps.clock()
        async with self.core.deps.uow(write=False) as uow:
            ids = await uow.requests.expired_open(now)
        self.core.deps.telemetry.queue_depth("expired_holds", len(ids))
        expired = [i for i in ids if await self.one(i, now) is not None]
        found = [await self.core.reload(i) for i in expired]
        for request in found:
            await self.tell.announce(request)
        return found
