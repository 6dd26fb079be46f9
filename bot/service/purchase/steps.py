"""The carrier's part of provisioning, called outside every write transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.backends.carrier import CarrierFailure, NumberConflict, OrderOutcome, RouteTarget
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.records import AccountInfo, NumberRecord, PurchaseRequestRecord
from bot.service.changes import carrier_account
from bot.service.holds import live_hold, other_accounts, take_over
from bot.service.numbers import check_assignable
from bot.service.people import ring, unring
from bot.service.purchase.shared import Core

log = logging.getLogger(__name__)


class CarrierSteps:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.deps = core.deps

    async def keep_reserved(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        """Before ordering, see that the carrier holds the number for the account.

        The reservation made with the request may be gone: another request of the
        account gave back the one they shared, or another account took it over while
        this hold was being written. The database holds the number for this request,
        so a reservation another account keeps is an orphan and is taken over.
        Best effort: if it fails, the order says what the carrier thinks.
        """
        if self.deps.carrier.holds is None:
            return  # no holds at the carrier: the order says whether it is still for sale
        try:
            await self.deps.carrier.holds.reserve(number, account_id=carrier_account(account))
            return
        except CarrierFailure:
            pass
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
            others = await other_accounts(uow, account)
        if record is None or record.hold_request_id != request.id:
            return  # the hold is lost: the purchase records that, not this
        if not live_hold(record, self.deps.clock()):
            return
        if await take_over(self.deps, others, number):
            where = carrier_account(account)
            await _best_effort(
                self.deps.carrier.holds.reserve(number, account_id=where), "reserve", number
            )

    async def order(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> str | None:
        """Buy the number at the carrier: None when bought, else why not.

        The order's key is the request and the number, so a resumed purchase that
        orders again never buys twice. An order with no answer is reconciled with
        the carrier's view of the number before anything is recorded.
        """
        where = carrier_account(account)
        try:
            result = await self.deps.carrier.supplier.order(
                [number], account_id=where, idempotency_key=f"{request.id}:{number}"
            )
        except CarrierFailure as exc:
            return exc.reason
        outcome = result.by_number().get(number)
        if outcome is not None and outcome.outcome is OrderOutcome.BOUGHT:
            return None
        if outcome is not None and outcome.outcome is OrderOutcome.FAILED:
            return outcome.reason or "the carrier refused the order"
        try:
            status = await self.deps.carrier.supplier.number_status(number, account_id=where)
        except CarrierFailure as exc:
            return exc.reason
        return None if status.owned_by(where) else "the carrier did not answer; try again"

    async def route(
        self, request: PurchaseRequestRecord, account: AccountInfo, record: NumberRecord
    ) -> str | None:
        """Make the number ring the request's target at the carrier: None, or why not."""
        try:
            async with self.deps.uow(write=False) as uow:
                await check_assignable(uow, record, request.target)
            target = RouteTarget.of(request.target)
            await ring(self.deps.carrier, record.e164, target, account_id=carrier_account(account))
        except (Conflict, NumberConflict, InvalidInput) as exc:
            # InvalidInput: the Slack user has no carrier user (Kazoo) to ring.
            return exc.message
        return None

    async def unroute(self, account: AccountInfo, number: str) -> None:
        """Best effort: a route the database does not record (a write that lost)."""
        where = carrier_account(account)
        await _best_effort(unring(self.deps.carrier, number, account_id=where), "unroute", number)


async def _best_effort(call: Awaitable[object], doing: str, number: str) -> None:
    """A carrier call whose failure is logged, not raised: the database already decided."""
    try:
        await call
    except CarrierFailure:
        log.warning("could not %s %s at the carrier", doing, number, exc_info=True)
