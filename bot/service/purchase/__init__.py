"""Buying numbers: one module per use case, behind one facade (`PurchaseService`).

    request.py    quote the selection, hold its numbers, show the requester the card
                  (`room.py`: whether the target has room)
    decide.py     accept, cancel, approve, reject (each one conditional move, `moves.py`)
    provision.py  buy and assign each number (`steps.py`: the carrier's part)
    expire.py     a lapsed hold gives its numbers back
    notify.py     who is told, and what happens when nobody can be reached (`tell.py`
                  speaks to the notifier port, bot/service/ports.py)
    reading.py    one request, a filtered list, a request's history

The rules of a request itself (its moves, four eyes, the target's room, its hold)
are the domain's: bot/domain/purchase.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.assignment import Assignment
from bot.domain.purchase import RequestFilter
from bot.domain.records import AuditEntry, PurchaseRequestRecord
from bot.domain.refusals import TargetFull
from bot.service.accounts import AccountService
from bot.service.context import Actor, Deps
from bot.service.numbers import NumberService
from bot.service.ports import PurchaseNotifier, Reply
from bot.service.purchase.decide import Decide
from bot.service.purchase.expire import Expire
from bot.service.purchase.moves import Mover
from bot.service.purchase.notify import Reach
from bot.service.purchase.provision import Provision
from bot.service.purchase.reading import Reading
from bot.service.purchase.request import RequestPurchase
from bot.service.purchase.shared import Accepted, Core, HoldExpired
from bot.service.purchase.tell import Tell

__all__ = [
    "Accepted",
    "HoldExpired",
    "PurchaseService",
    "Reply",
    "RequestFilter",
]


class PurchaseService:
    """The purchase use cases, as the Slack layer, the worker and scripts call them."""

    def __init__(self, deps: Deps, accounts: AccountService, numbers: NumberService) -> None:
        self.deps = deps
        core = Core(deps, accounts, numbers)
        self.tell = Tell()
        mover = Mover(core)
        self.expiry = Expire(core, self.tell)
        self.reach = Reach(core, mover, self.tell)
        self.provisioning = Provision(core, self.tell)
        self.decisions = Decide(core, mover, self.reach, self.provisioning, self.tell)
        self.requesting = RequestPurchase(core, self.expiry, self.reach)
        self.reading = Reading(core)
        self._core = core

    def connect(self, notifier: PurchaseNotifier) -> None:
        """The Slack layer's card publisher, once the app is built."""
        self.tell.connect(notifier)

    # --- reading ----------------------------------------------------------------------

    async def get(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        return await self.reading.get(actor, request_id)

    async def list_requests(
        self, actor: Actor, which: RequestFilter | str = RequestFilter.MINE, *, limit: int = 20
    ) -> list[PurchaseRequestRecord]:
        return await self.reading.list_requests(actor, which, limit=limit)

    async def history(self, actor: Actor, request_id: str) -> list[AuditEntry]:
        return await self.reading.history(actor, request_id)

    async def reload(self, request_id: str) -> PurchaseRequestRecord:
        return await self._core.reload(request_id)

    async def target_room(
        self, actor: Actor, target: Assignment, *, channel_id: str | None = None
    ) -> TargetFull | None:
        return await self.requesting.room.for_actor(actor, target, channel_id=channel_id)

    # --- use cases ----------------------------------------------------------------------

    async def request_purchase(
        self,
        actor: Actor,
        numbers: Sequence[str],
        target: Assignment,
        *,
        channel_id: str | None = None,
        reply: Reply | None = None,
    ) -> PurchaseRequestRecord:
        return await self.requesting.request_purchase(
            actor, numbers, target, channel_id=channel_id, reply=reply
        )

    async def submit(
        self,
        actor: Actor,
        numbers: Sequence[str],
        target: Assignment,
        *,
        key: str,
        reply: Reply,
    ) -> PurchaseRequestRecord | None:
        """A `Buy Numbers` submission: `request_purchase` claimed once under `key`
        (None for a repeated delivery), the claim given back if it fails unanswered."""
        return await self.requesting.once(
            key,
            reply,
            lambda r: self.request_purchase(
                actor, numbers, target, channel_id=reply.channel_id, reply=r
            ),
        )

    async def retry(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        return await self.requesting.retry(actor, request_id, reply)

    async def accept(self, actor: Actor, request_id: str, reply: Reply | None = None) -> Accepted:
        return await self.decisions.accept(actor, request_id, reply)

    async def cancel(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        return await self.decisions.cancel(actor, request_id, reply)

    async def approve(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        return await self.decisions.approve(actor, request_id, reply)

    async def reject(
        self,
        actor: Actor,
        request_id: str,
        reason: str | None = None,
        reply: Reply | None = None,
    ) -> PurchaseRequestRecord:
        return await self.decisions.reject(actor, request_id, reason, reply)

    async def provision(self, request_id: str, reply: Reply | None = None) -> PurchaseRequestRecord:
        return await self.provisioning.run(request_id, reply)

    async def expire_holds(self) -> list[PurchaseRequestRecord]:
        return await self.expiry.sweep()
