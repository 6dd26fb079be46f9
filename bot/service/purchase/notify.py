"""Who is told of a request, and what happens when nobody can be reached.

A card nobody can see is worse than none: a billing card that reaches the
requester nowhere, or an approval that reaches no approver who may decide,
cancels its request and gives the numbers back (holding them for hours for
nobody helps no one). The Slack adapter only posts; these rules are here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.domain.purchase import PurchaseRequest
from bot.domain.records import SYSTEM, PurchaseRequestRecord, RequestStamp
from bot.domain.refusals import StaleRequest
from bot.domain.states import RequestMove
from bot.service.context import Actor
from bot.service.ports import CardPlace, Reply
from bot.service.purchase.moves import Mover
from bot.service.purchase.shared import Core
from bot.service.purchase.tell import Tell

log = logging.getLogger(__name__)
# Stored as the request's reason: what the requester's card then says.
NOT_SHOWN = "its billing card could not be shown to the requester"
NO_DECIDER = "no approver other than the requester or the person who accepted it can decide it"
NOT_DELIVERED = "no approver could be sent the approval card"


class Reach:
    def __init__(self, core: Core, mover: Mover, tell: Tell) -> None:
        self.core = core
        self.mover = mover
        self.tell = tell

    async def show_billing(self, request: PurchaseRequestRecord, reply: Reply) -> bool:
        """Show the requester their card; reaching them nowhere cancels the request and
        says so in a modal when the submission's trigger_id still allows one."""
        shown = await self.tell.notifier.show_billing(request, reply)
        if isinstance(shown, tuple):
            await self.record_cards(request.id, message=shown)
            return True
        if shown:
            return True
        cancelled = await self.cancel_unreachable(request.id, NOT_SHOWN)
        log.error("billing card of %s reached nobody: cancelled", request.id)
        await self.tell.notifier.not_shown(cancelled, reply)
        return False

    async def ask_approvers(self, request: PurchaseRequestRecord, reply: Reply | None) -> None:
        """After Accept: the approval cards to each approver who may decide, then the
        requester's card (with the places of both, redrawn from now on)."""
        await self.tell.announce(await self.post_approval_cards(request), reply)

    async def post_approval_cards(self, request: PurchaseRequestRecord) -> PurchaseRequestRecord:
        """Each approver on their own: one who cannot be reached does not keep the card
        from the others. When nobody who may decide can be told, the request is cancelled
        at once. Returns the request as it is afterwards."""
        allow = self.core.deps.settings.approvals.allow_self_approval
        rules = PurchaseRequest(request)
        approvers = await self.tell.notifier.approvers(request.workspace_id)
        deciders = [u for u in approvers if rules.may_decide(u, allow_self_approval=allow)]
        if not deciders:
            return await self.cancel_unreachable(request.id, NO_DECIDER)
        cards = await self.tell.notifier.show_approval(request, deciders)
        await self.record_cards(request.id, approval_cards=cards)
        if not cards:
            return await self.cancel_unreachable(request.id, NOT_DELIVERED)
        return await self.core.reload(request.id)

    async def cancel_unreachable(self, request_id: str, why: str) -> PurchaseRequestRecord:
        """Cancel an open request nobody can act on, and give its numbers back.
        A request that moved on meanwhile (a click won) is left as it is."""
        request = await self.core.reload(request_id)
        system = Actor(SYSTEM, request.workspace_id)
        stamp = RequestStamp(decided_at=self.core.deps.clock(), reason=why)
        try:
            return await self.mover.move(
                system, request_id, RequestMove.CANCEL, stamp=stamp, by_person=False
            )
        except StaleRequest as exc:
            return exc.request

    async def record_cards(
        self,
        request_id: str,
        *,
        message: CardPlace | None = None,
        approval_cards: Sequence[CardPlace] | None = None,
    ) -> None:
        """Remember where the request's cards are, to update them in place later."""
        if message is None and approval_cards is None:
            return
        async with self.core.deps.uow() as uow:
            await uow.requests.record_cards(
                request_id, self.core.deps.clock(), message=message, approval_cards=approval_cards
            )
            await uow.commit()
