"""Reading requests: one, a list by filter, one's history."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from bot.domain.errors import InvalidInput
from bot.domain.records import AuditEntry, PurchaseRequestRecord
from bot.domain.states import RequestState
from bot.service.context import Actor
from bot.service.purchase.shared import Core


class RequestFilter(StrEnum):
    """`/numbers requests mine|pending|all`."""

    MINE = "mine"
    PENDING = "pending"
    ALL = "all"

    @classmethod
    def parse(cls, text: str) -> RequestFilter:
        try:
            return cls(text)
        except ValueError:
            raise InvalidInput("requests", "Use /numbers requests mine, pending or all.") from None


def states_of(which: RequestFilter) -> list[RequestState] | None:
    """The states a filter lists (None: every state)."""
    match which:
        case RequestFilter.PENDING:
            return [RequestState.AWAITING_APPROVAL]
        case RequestFilter.MINE | RequestFilter.ALL:
            return None
        case _:
            assert_never(which)


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
        privileged = actor.is_admin or actor.is_approver
        mine = which is RequestFilter.MINE or not privileged
        requester = actor.user_id if mine else None
        async with self.core.deps.uow(write=False) as uow:
            return await uow.requests.find(
                actor.workspace_id, requester_id=requester, states=states_of(which), limit=limit
            )

    async def history(self, actor: Actor, request_id: str) -> list[AuditEntry]:
        await self.get(actor, request_id)
        async with self.core.deps.uow(write=False) as uow:
            return await uow.audit.for_request(request_id)
