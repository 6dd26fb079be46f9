"""Reading requests: one, a list by filter, one's history."""

from __future__ import annotations

from bot.domain.purchase import RequestFilter
from bot.domain.records import AuditEntry, PurchaseRequestRecord
from bot.service.context import Actor
from bot.service.purchase.shared import Core


class Reading:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def get(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        return await self.core.visible(actor, request_id)

    async def list_requests(
        self, actor: Actor, which: RequestFilter | str = RequestFilter.MINE, *, limit: int = 20
    ) -> list[PurchaseRequestRecord]:
        """Non-admins see only their own, whatever the filter."""
        which = RequestFilter.parse(which)
        mine = which.only_own(privileged=actor.is_admin or actor.is_approver)
        requester = actor.user_id if mine else None
        async with self.core.deps.uow(write=False) as uow:
            return await uow.requests.find(
                actor.workspace_id, requester_id=requester, states=which.states(), limit=limit
            )

    async def history(self, actor: Actor, request_id: str) -> list[AuditEntry]:
        await self.get(actor, request_id)
        async with self.core.deps.uow(write=False) as uow:
            return await uow.audit.for_request(request_id)
