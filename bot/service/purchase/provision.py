"""Provision: buy and assign each pending number of an accepted or approved request.

Idempotent and resumable: each number's outcome is recorded on its own, so a
restart finishes the rest and never buys a number twice. The carrier is called
outside every write transaction (`steps.py`); a slow carrier holds no lock.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.assignment import is_limited
from bot.domain.audit import AuditAction
from bot.domain.errors import Conflict
from bot.domain.phone import kind_of
from bot.domain.purchase import PurchaseRequest, Room, target_room
from bot.domain.records import SYSTEM, AccountInfo, NumberRecord, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.ports import Reply, UnitOfWork
from bot.service.purchase.shared import Core, moved, request_event
from bot.service.purchase.steps import CarrierSteps
from bot.service.purchase.tell import Tell

log = logging.getLogger(__name__)


class Provision:
    def __init__(self, core: Core, tell: Tell) -> None:
        self.core = core
        self.deps = core.deps
        self.tell = tell
        self.carrier = CarrierSteps(core)

    async def run(self, request_id: str, reply: Reply | None = None) -> PurchaseRequestRecord:
        """Buy and assign each pending number; safe to run twice or after a crash.

        With a `reply` (a click, the worker resuming) the cards show the progress and
        the requester is told at the end; a bare call only buys."""
        request = await self.core.reload(request_id)
        if request.state is not RequestState.PROVISIONING:
            if reply is not None:
                await self.tell.finished(request, reply)
            return request
        account = await self.core.account_of(request)
        for item in request.items:
            if item.outcome is not ItemOutcome.PENDING:
                continue
            if item.spare:
                await self._provision_spare(request, account, item.number)
            else:
                await self._provision_one(request, account, item.number)
            if reply is not None:
                try:
                    await self.tell.progress(await self.core.reload(request_id))
                except Exception:
                    # Redraws are best-effort: a slow or failing one never stops a purchase.
                    log.warning("progress redraw of %s failed", request_id, exc_info=True)
        final = await self._finish(request_id)
        if reply is not None:
            await self.tell.finished(final, reply)
        return final

    async def _provision_one(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        full = await self._target_filled(request, account)
        if full:
            # Bought anyway it would only be a spare, billed, under a card naming the target.
            await self._fail_item(request, account, number, full)
            return
        # The carrier calls happen outside any transaction: a slow carrier holds no lock.
        await self.carrier.keep_reserved(request, account, number)
        refused = await self.carrier.order(request, account, number)
        if refused is not None:
            await self._fail_item(request, account, number, refused)
            return
        pending = NumberRecord(number, NumberState.IN_SERVICE, kind_of(number), account.id)
        not_routed = await self.carrier.route(request, account, pending)
        now = self.deps.clock()
        activate_at = now + timedelta(seconds=self.deps.settings.carrier.activation_delay_seconds)
        assigned = False
        async with self.deps.uow() as uow:
            bought = await uow.numbers.mark_purchased(
                number,
                request_id=request.id,
                account_id=account.id,
                now=now,
                activate_at=activate_at,
            )
            record = await uow.numbers.get(number)
            ours = (
                record is not None
                and record.account_id == account.id
                and record.state is NumberState.IN_SERVICE
            )
            if not (bought or ours):
                await uow.requests.set_item(
                    request.id, number, ItemOutcome.FAILED, "the hold on it was lost", now
                )
                await uow.commit()
                if not_routed is None:
                    await self.carrier.unroute(account, number)
                return
            if not await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now):
                return  # another worker recorded it first; nothing more to do
            await uow.audit.add(
                request_event(
                    SYSTEM,
                    request.workspace_id,
                    AuditAction.NUMBER_PURCHASED,
                    request.id,
                    number=number,
                    before={"state": "reserved"},
                    after={"state": "in_service", "account_id": account.id},
                ),
                now,
            )
            assert record is not None
            assigned = await self._assign_bought(uow, request, record, not_routed)
            await uow.commit()
        if not assigned and not_routed is None:
            await self.carrier.unroute(account, number)

    async def _target_filled(
        self, request: PurchaseRequestRecord, account: AccountInfo
    ) -> str | None:
        """The target filled up while the request waited (e.g. a number assigned to it)."""
        if not is_limited(request.target.kind):
            return None
        async with self.deps.uow(write=False) as uow:
            assigned = await uow.numbers.count_assigned(account.id, request.target.kind)
        if target_room(request.target, assigned=assigned, held=0, adding=1) is Room.FREE:
            return None
        return f"the {request.target.label} already has its number, so it was not bought"

    async def _assign_bought(
        self,
        uow: UnitOfWork,
        request: PurchaseRequestRecord,
        record: NumberRecord,
        not_routed: str | None,
    ) -> bool:
        """Assign a bought number to the target; bought but not assigned, it stays a spare."""
        try:
            if not_routed is not None:
                raise Conflict(not_routed)
            await self._assign_to_target(uow, request, record)
        except Conflict as exc:
            # Bought but not assigned (the faxbox filled meanwhile): it stays a spare.
            await uow.audit.add(
                request_event(
                    SYSTEM,
                    request.workspace_id,
                    AuditAction.NUMBER_ASSIGN_SKIPPED,
                    request.id,
                    number=record.e164,
                    detail=exc.message,
                ),
                self.deps.clock(),
            )
            return False
        return True

    async def _assign_to_target(
        self, uow: UnitOfWork, request: PurchaseRequestRecord, record: NumberRecord
    ) -> None:
        """Assign in a savepoint: a refusal (`Conflict`) undoes only the assignment."""
        async with uow.savepoint():
            await self.core.numbers.assign_in(
                uow,
                request.requester_id,
                request.workspace_id,
                record,
                request.target,
                request_id=request.id,
            )

    async def _provision_spare(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
        if record is None or record.account_id != account.id or not record.is_spare:
            settled = record is not None and record.assignment == request.target
            outcome = ItemOutcome.BOUGHT if settled else ItemOutcome.FAILED
            await self._settle_item(
                request, number, outcome, None if settled else "no longer a spare number"
            )
            return
        not_routed = await self.carrier.route(request, account, record)
        if not_routed is not None:
            await self._settle_item(request, number, ItemOutcome.FAILED, not_routed)
            return
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            fresh = await uow.numbers.get(number)
            try:
                if fresh is None or not fresh.is_spare or fresh.account_id != account.id:
                    raise Conflict("no longer a spare number")
                await self._assign_to_target(uow, request, fresh)
            except Conflict as exc:
                await uow.requests.set_item(
                    request.id, number, ItemOutcome.FAILED, exc.message, now
                )
                await uow.commit()
                await self.carrier.unroute(account, number)
                return
            await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now)
            await uow.commit()

    async def _settle_item(
        self, request: PurchaseRequestRecord, number: str, outcome: ItemOutcome, reason: str | None
    ) -> None:
        async with self.deps.uow() as uow:
            await uow.requests.set_item(request.id, number, outcome, reason, self.deps.clock())
            await uow.commit()

    async def _fail_item(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str, reason: str
    ) -> None:
        now = self.deps.clock()
        released: list[str] = []
        async with self.deps.uow() as uow:
            if await uow.requests.set_item(request.id, number, ItemOutcome.FAILED, reason, now):
                released = await uow.numbers.release_holds(request.id, now, [number])
                await uow.audit.add(
                    request_event(
                        SYSTEM,
                        request.workspace_id,
                        AuditAction.NUMBER_PURCHASE_FAILED,
                        request.id,
                        number=number,
                        detail=reason,
                    ),
                    now,
                )
            await uow.commit()
        await self.core.let_go(account, released)

    async def _finish(self, request_id: str) -> PurchaseRequestRecord:
        request = await self.core.reload(request_id)
        final = PurchaseRequest(request).finish()
        if final is None:
            return request  # not being bought, or another worker is still on it
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            if await uow.requests.transition(request_id, RequestState.PROVISIONING, final, now):
                await uow.audit.add(
                    moved(SYSTEM, request, AuditAction.REQUEST_PROVISIONED, final), now
                )
                await uow.commit()
                self.deps.telemetry.purchase(final.value)
        return await self.core.reload(request_id)
