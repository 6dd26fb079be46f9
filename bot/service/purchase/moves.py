"""One request move: checked by the domain, written conditionally, audited, its holds
changed; the carrier hears of given-back numbers once the write is over."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.audit import AuditAction
from bot.domain.errors import NotAllowed
from bot.domain.purchase import Decider, PurchaseRequest, Refusal
from bot.domain.records import PurchaseRequestRecord, RequestStamp
from bot.domain.refusals import NotRequester, StaleRequest
from bot.domain.states import RequestMove, RequestState
from bot.service.context import Actor
from bot.service.purchase.expire import count_expired, expire_in
from bot.service.purchase.shared import Core, HoldExpired, moved

ACTIONS: dict[RequestMove, AuditAction] = {
    RequestMove.ACCEPT_FOR_APPROVAL: AuditAction.REQUEST_ACCEPTED,
    RequestMove.ACCEPT_AND_BUY: AuditAction.REQUEST_ACCEPTED,
    RequestMove.APPROVE: AuditAction.REQUEST_APPROVED,
    RequestMove.REJECT: AuditAction.REQUEST_REJECTED,
    RequestMove.CANCEL: AuditAction.REQUEST_CANCELLED,
    RequestMove.EXPIRE: AuditAction.REQUEST_EXPIRED,
    RequestMove.COMPLETE: AuditAction.REQUEST_PROVISIONED,
    RequestMove.COMPLETE_PARTLY: AuditAction.REQUEST_PROVISIONED,
    RequestMove.FAIL: AuditAction.REQUEST_PROVISIONED,
}
_DOING = {
    RequestMove.ACCEPT_FOR_APPROVAL: "accept",
    RequestMove.ACCEPT_AND_BUY: "accept",
    RequestMove.CANCEL: "cancel",
}


def refused(request: PurchaseRequestRecord, refusal: Refusal, move: RequestMove) -> NotAllowed:
    if refusal is Refusal.NOT_REQUESTER:
        return NotRequester(request.requester_id, _DOING.get(move, move.value))
    if refusal is Refusal.NOT_APPROVER:
        return NotAllowed("Only approvers can approve or reject purchase requests.")
    if refusal is Refusal.OWN_REQUEST:
        return NotAllowed("You cannot decide on your own request; another approver must.")
    return NotAllowed(
        "You accepted this request, so you cannot also decide on it; another approver must."
    )


class Mover:
    def __init__(self, core: Core) -> None:
        self.core = core

    def check(self, actor: Actor, request: PurchaseRequestRecord, move: RequestMove) -> None:
        """The person may make the move (four eyes, the requester's own moves)."""
        person = Decider(actor.user_id, actor.is_admin, actor.is_approver)
        allow = self.core.deps.settings.approvals.allow_self_approval
        refusal = PurchaseRequest(request).refusal(person, move, allow_self_approval=allow)
        if refusal is not None:
            raise refused(request, refusal, move)

    async def move(
        self,
        actor: Actor,
        request_id: str,
        move: RequestMove,
        *,
        stamp: RequestStamp | None = None,
        by_person: bool = True,
    ) -> PurchaseRequestRecord:
        """One conditional transition with its audit event; the loser gets a StaleRequest,
        and a click that finds the hold run out expires the request (HoldExpired)."""
        deps = self.core.deps
        # A stale click is answered from a read: it need not queue for the write lock.
        seen = await self.core.peek(actor, request_id)
        if by_person:
            self.check(actor, seen, move)
        if not PurchaseRequest(seen).can(move):
            raise StaleRequest(seen)
        now = deps.clock()
        expired: PurchaseRequestRecord | None = None
        async with deps.uow() as uow:
            request = await self.core.load(uow, actor.workspace_id, request_id)
            rules = PurchaseRequest(request)
            if not rules.can(move):
                raise StaleRequest(request)
            if rules.hold_lapsed(now):
                released = await expire_in(uow, request, now) or []
                expired = replace(request, state=RequestState.EXPIRED, updated_at=now)
            elif await uow.requests.transition(
                request_id, request.state, rules.next_state(move), now, stamp
            ):
                released = []
                hold = rules.hold_after(move, now, deps.settings.holds.approval_minutes)
                if not hold.keep:
                    released = await uow.numbers.release_holds(request_id, now)
                elif not hold.unchanged:
                    await uow.numbers.extend_holds(request_id, hold.until, now)
                    await uow.requests.set_hold_expiry(request_id, hold.until, now)
                reason = stamp.reason if stamp else None
                event = moved(actor.user_id, request, ACTIONS[move], rules.next_state(move), reason)
                await uow.audit.add(event, now)
            else:
                fresh = await uow.requests.get(request_id)
                assert fresh is not None
                raise StaleRequest(fresh)
            await uow.commit()
        # The carrier hears of it once the transaction is over.
        await self.core.let_go(request.account_id, released)
        if expired is not None:
            count_expired(deps, released)
            raise HoldExpired(expired)
        deps.telemetry.purchase(rules.next_state(move).value)
        return await self.core.reload(request_id)
