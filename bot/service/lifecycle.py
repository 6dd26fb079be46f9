"""A bought number's life after the purchase: activation notices and aging.

Numbers become active a while after they are bought; once all of a request's
are, its requester is told. A released number ages, then goes back to the
carrier. Every step is a conditional update, so every replica may run them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.backends.carrier import CarrierFailure, NumberConflict
from bot.domain.audit import AuditAction
from bot.domain.records import SYSTEM, AccountInfo, AuditEvent, NumberRecord, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, NumberState
from bot.service.changes import carrier_account
from bot.service.context import Deps
from bot.service.purchase.tell import Tell

log = logging.getLogger(__name__)


class Lifecycle:
    def __init__(self, deps: Deps, tell: Tell) -> None:
        self.deps = deps
        self.tell = tell

    async def _reload(self, request_id: str) -> PurchaseRequestRecord:
        async with self.deps.uow(write=False) as uow:
            request = await uow.requests.get(request_id)
        assert request is not None
        return request

    async def activation_sweep(self) -> list[PurchaseRequestRecord]:
        """Mark activated numbers, age out released ones; tell the requesters of requests
        now all active (each told by one replica) and return those requests."""
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            for number in await uow.numbers.due_activation(now):
                if await uow.numbers.mark_activated(number, now):
                    event = AuditEvent(AuditAction.NUMBER_ACTIVATED, SYSTEM, "", number=number)
                    await uow.audit.add(event, now)
            await uow.commit()
        await self.age_out(now)
        ready = []
        async with self.deps.uow(write=False) as uow:
            candidates = await uow.requests.awaiting_activation_notice()
        for request_id in candidates:
            async with self.deps.uow() as uow:
                request = await uow.requests.get(request_id)
                assert request is not None
                bought = request.items_with(ItemOutcome.BOUGHT)
                records = await uow.numbers.get_many(i.number for i in bought)
                # A number released since counts as done: it will never be announced.
                all_active = all(
                    r.activated_at is not None
                    or r.state is not NumberState.IN_SERVICE
                    or r.account_id != request.account_id
                    for r in records.values()
                )
                if all_active and await uow.requests.mark_activation_notified(request_id, now):
                    await uow.commit()
                    ready.append(request_id)
        found = [await self._reload(i) for i in ready]
        for request in found:
            await self.tell.activated(request)
        return found

    async def age_out(self, now: datetime) -> None:
        """Numbers whose aging ended go back to the carrier, then leave the account."""
        for record, account in await self._aged(now):
            await self._give_back(record, account, now)

    async def _aged(self, now: datetime) -> list[tuple[NumberRecord, AccountInfo]]:
        """The numbers to give back (aging ended, or returning still), with their account."""
        async with self.deps.uow(write=False) as uow:
            aged = await uow.numbers.get_many(await uow.numbers.aged_out(now))
            accounts = {
                a: await uow.accounts.get(a)
                for a in {r.account_id for r in aged.values() if r.account_id}
            }
        found = []
        for record in aged.values():
            account = accounts.get(record.account_id or "")
            if account is not None:
                found.append((record, account))
        return found

    async def _give_back(self, record: NumberRecord, account: AccountInfo, now: datetime) -> None:
        """Claim the number in the database first; only the claim's winner calls the carrier.

        A restore that got there first (or another sweep) wins the conditional claim, and
        the carrier is left alone. A carrier failure after the claim leaves the number
        returning, which no restore accepts, for the next sweep to retry.
        """
        number = record.e164
        async with self.deps.uow() as uow:
            if not await uow.numbers.claim_return(number, account.id, record.version, now):
                return
            await uow.commit()
        detail = None
        try:
            await self.deps.carrier.supplier.release(number, account_id=carrier_account(account))
        except NumberConflict as exc:
            # The carrier has it back already, or another account has it now (moved
            # behind the bot's back): nothing is released there; the account no
            # longer has it, and the sync catches up.
            detail = f"not released at the carrier: {exc.carrier_message or exc.reason}"
            self.deps.due.mark(number)
        except CarrierFailure:
            log.warning("could not give %s back to the carrier; next pass", number, exc_info=True)
            return
        async with self.deps.uow() as uow:
            if await uow.numbers.return_to_stock(number, account.id, now):
                await uow.numbers.remove_e911(number)
                await uow.audit.add(
                    AuditEvent(
                        AuditAction.NUMBER_AGED_OUT, SYSTEM, "", number=number, detail=detail
                    ),
                    now,
                )
                await uow.commit()
