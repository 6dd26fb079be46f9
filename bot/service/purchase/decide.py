"""Deciding a request: the requester accepts or cancels it, an approver approves or rejects.

Each is one conditional move (`moves.py`). With a `Reply` (the move came through a
surface a person clicked) the service also does what follows: the listener's answer
first, then the cards, the approvers, the purchase, the App Home.
"""

from __future__ import annotations

from bot.domain.billing import needs_approval
from bot.domain.errors import InvalidInput
from bot.domain.purchase import PurchaseRequest
from bot.domain.records import PurchaseRequestRecord, RequestStamp
from bot.domain.states import RequestMove
from bot.service.context import Actor
from bot.service.ports import Reply
from bot.service.purchase.moves import Mover
from bot.service.purchase.notify import Reach
from bot.service.purchase.provision import Provision
from bot.service.purchase.shared import Accepted, Core, HoldExpired
from bot.service.purchase.tell import Tell

MAX_REASON = 500


class Decide:
    def __init__(
        self, core: Core, mover: Mover, reach: Reach, provision: Provision, tell: Tell
    ) -> None:
        self.core = core
        self.mover = mover
        self.reach = reach
        self.provision = provision
        self.tell = tell

    async def _move(
        self,
        actor: Actor,
        request_id: str,
        move: RequestMove,
        stamp: RequestStamp,
        reply: Reply | None,
    ) -> PurchaseRequestRecord:
        try:
            request = await self.mover.move(actor, request_id, move, stamp=stamp)
        except HoldExpired as exc:
            if reply is not None:  # this click expired it: its cards say so now
                await self.tell.announce(exc.request, reply)
            raise
        await self.tell.answer(reply, request)
        return request

    async def accept(self, actor: Actor, request_id: str, reply: Reply | None = None) -> Accepted:
        """The requester accepts the billing change: to approval, or straight to purchase."""
        deps = self.core.deps
        probe = await self.core.peek(actor, request_id)
        # Spare numbers alone cost nothing: there is no purchase for a manager to approve.
        approval = bool(probe.quote.items) and needs_approval(
            deps.settings.approvals.mode,
            deps.settings.approvals.threshold,
            probe.quote.difference,
            deps.has_approvers,
        )
        stamp = RequestStamp(accepted_at=deps.clock(), accepted_by=actor.user_id)
        move = PurchaseRequest(probe).accept_move(approval)
        request = await self._move(actor, request_id, move, stamp, reply)
        if reply is not None:
            if approval:
                await self.reach.ask_approvers(request, reply)
            else:
                await self.tell.redraw(request, reply)
                await self.provision.run(request.id, reply)
        return Accepted(request, approval)

    async def cancel(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        """Cancel changes nothing else and gives the held numbers back."""
        stamp = RequestStamp(decided_by=actor.user_id, decided_at=self.core.deps.clock())
        request = await self._move(actor, request_id, RequestMove.CANCEL, stamp, reply)
        if reply is not None:
            await self.tell.redraw(request, reply)
        return request

    async def approve(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        """An approved request is bought at once."""
        stamp = RequestStamp(decided_by=actor.user_id, decided_at=self.core.deps.clock())
        request = await self._move(actor, request_id, RequestMove.APPROVE, stamp, reply)
        if reply is not None:
            await self.tell.redraw(request)
            return await self.provision.run(request.id, Reply())
        return request

    async def reject(
        self,
        actor: Actor,
        request_id: str,
        reason: str | None = None,
        reply: Reply | None = None,
    ) -> PurchaseRequestRecord:
        """A rejected request gives its holds back; the requester is told why."""
        reason = " ".join((reason or "").split()) or None
        if reason and len(reason) > MAX_REASON:
            raise InvalidInput("reason", f"Keep the reason under {MAX_REASON} characters.")
        stamp = RequestStamp(
            decided_by=actor.user_id, decided_at=self.core.deps.clock(), reason=reason
        )
        request = await self._move(actor, request_id, RequestMove.REJECT, stamp, reply)
        if reply is not None:
            await self.tell.announce(request)
        return request
