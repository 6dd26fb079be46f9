"""Request a purchase: quote the selection, hold its numbers, show the requester the card.

The carrier is called outside every write transaction: reservations before the
request is written, given back if it is not. The database decides who may buy.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot.backends.carrier import NotFoundAtCarrier, NumberConflict
from bot.domain.assignment import Assignment
from bot.domain.audit import AuditAction
from bot.domain.billing import Quote
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.phone import Kind, display, kind_of, parse_number
from bot.domain.purchase import Room, quote_hold_until, room_limit, target_room
from bot.domain.records import AccountInfo, NumberRecord, PurchaseRequestRecord
from bot.domain.refusals import NotForSale
from bot.domain.states import ItemOutcome, RequestState
from bot.keyed_locks import KeyedLocks
from bot.service.changes import carrier_account
from bot.service.context import Actor
from bot.service.deliveries import DeliveryService
from bot.service.holds import free_in_database, other_accounts, take_over
from bot.service.numbers import price
from bot.service.people import check_person
from bot.service.ports import Reply
from bot.service.purchase.expire import Expire
from bot.service.purchase.notify import Reach
from bot.service.purchase.room import TargetRoom
from bot.service.purchase.shared import Core, request_event, taken

log = logging.getLogger(__name__)
MAX_PER_REQUEST = 50


def _spare_of(record: NumberRecord | None, account: AccountInfo) -> bool:
    return record is not None and record.is_spare and record.account_id == account.id


class RequestPurchase:
    def __init__(self, core: Core, expire: Expire, reach: Reach) -> None:
        self.core = core
        self.deps = core.deps
        self.expire = expire
        self.reach = reach
        self.deliveries = DeliveryService(core.deps)
        self.room = TargetRoom(core)
        # Requests of this process for one number take turns (an economy: the database decides).
        self._turns = KeyedLocks()

    async def request_purchase(
        self,
        actor: Actor,
        numbers: Sequence[str],
        target: Assignment,
        *,
        channel_id: str | None = None,
        reply: Reply | None = None,
    ) -> PurchaseRequestRecord:
        """Quote the selection and hold its numbers; spares in it are assigned at no cost.

        With a `reply` the listener's answer comes next, then the requester's card."""
        actor.require_admin("buy numbers")
        wanted = list(dict.fromkeys(parse_number(n, "numbers") for n in numbers))
        if not wanted:
            raise InvalidInput("numbers", "Select at least one number to buy.")
        if len(wanted) > MAX_PER_REQUEST:
            raise InvalidInput("numbers", f"Buy at most {MAX_PER_REQUEST} numbers at a time.")
        if target_room(target, assigned=0, held=0, adding=len(wanted)) is Room.TOO_MANY:
            raise InvalidInput(
                "numbers", f"The {target.label} takes only {room_limit(target)} number; select one."
            )
        account = await self.core.accounts.for_channel(actor, channel_id)
        # Requests of this process for one number take turns from the carrier to the
        # database, so the next one finds the hold written and asks the carrier nothing.
        async with self._turns.hold_all(wanted):
            request = await self._hold(actor, account, wanted, target, channel_id)
        if reply is not None:
            await self.reach.tell.answer(reply, request)
            await self.reach.show_billing(request, reply)
        return request

    async def once(
        self,
        key: str,
        reply: Reply,
        run: Callable[[Reply], Awaitable[PurchaseRequestRecord]],
    ) -> PurchaseRequestRecord | None:
        """A submission's request, claimed under `key`: a repeated delivery of it does
        nothing (None). Until its answer goes out any failure gives the claim back, so
        pressing Buy Numbers again works; once quoted, the claim stays."""
        if not await self.deliveries.first_time(key):
            return None
        answered = False

        async def answer(request: PurchaseRequestRecord) -> None:
            nonlocal answered
            answered = True
            if reply.answer is not None:
                await reply.answer(request)

        try:
            return await run(replace(reply, answer=answer))
        except BaseException:
            if not answered:
                await self._forget(key)
            raise

    async def _forget(self, key: str) -> None:
        """Give a claim back; a failure here is logged, never hides the first one."""
        try:
            await self.deliveries.forget(key)
        except Exception:
            log.exception("could not release the claim on a Buy Numbers submission")

    async def _hold(
        self,
        actor: Actor,
        account: AccountInfo,
        wanted: list[str],
        target: Assignment,
        channel_id: str | None,
    ) -> PurchaseRequestRecord:
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            owned = await uow.numbers.get_many(wanted)
            spares = [n for n in wanted if _spare_of(owned.get(n), account)]
            await self.room.check(uow, account, target, len(wanted))
        if target.user_id is not None:
            await check_person(self.deps.carrier, target.user_id, carrier_account(account))
        to_buy = [n for n in wanted if n not in spares]
        # The database decides: a number it shows held or owned is refused before the
        # carrier is asked, so a request that cannot win reserves (and gives back) nothing.
        gone = [n for n in to_buy if not free_in_database(owned.get(n), now)]
        if gone:
            raise taken(gone)
        reserved: list[str] = []
        try:
            for number in to_buy:
                await self._reserve(account, number)
                reserved.append(number)
            charges = await self._carrier_quote(account, to_buy)
            return await self._create(actor, account, wanted, spares, target, channel_id, charges)
        except BaseException:
            await self.core.let_go(account, reserved)
            raise

    async def _carrier_quote(self, account: AccountInfo, to_buy: list[str]) -> Quote | None:
        """The carrier's own charges for the numbers (Kazoo's 402 invoices), or None
        when it priced nothing (the bot's price table is used then).

        A number the carrier refuses (Kazoo's words) stops the request here, before
        anyone accepts a price for it.
        """
        if not to_buy:
            return None
        priced = await self.deps.carrier.supplier.quote(to_buy, account_id=carrier_account(account))
        if priced.refused:
            names = "; ".join(f"{display(n)}: {why}" for n, why in priced.refused)
            raise Conflict(f"The carrier will not sell {names}. Search again.")
        return priced.quote if priced.priced else None

    async def _reserve(self, account: AccountInfo, number: str) -> None:
        """Hold the number at the carrier, before anything is written.

        The carrier saying it is held is not the last word: the database decides.
        A hold there that ran out is expired first (as the sweep would); then a
        reservation with no live hold behind it is an orphan, taken over.
        """
        if await self._try_reserve(account, number):
            return
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
            free = free_in_database(record, now)
            others = await other_accounts(uow, account) if free else []
        if not free:
            raise taken([number])
        if record is not None and record.hold_request_id is not None:
            # Its request still holds it at the carrier until the sweep expires it.
            await self.expire.one(record.hold_request_id, now)
        await take_over(self.deps, others, number)
        if not await self._try_reserve(account, number):
            raise taken([number])

    async def _try_reserve(self, account: AccountInfo, number: str) -> bool:
        """Reserve at the carrier: False when it is held there (not necessarily by a hold)."""
        if self.deps.carrier.holds is None:
            return True  # no holds at the carrier: the database's hold is the only one
        try:
            await self.deps.carrier.holds.reserve(number, account_id=carrier_account(account))
        except NotFoundAtCarrier:
            raise NotForSale(number) from None
        except NumberConflict:
            return False
        return True

    async def _create(
        self,
        actor: Actor,
        account: AccountInfo,
        wanted: list[str],
        spares: list[str],
        target: Assignment,
        channel_id: str | None,
        charges: Quote | None = None,
    ) -> PurchaseRequestRecord:
        to_buy = [n for n in wanted if n not in spares]
        kinds = {kind_of(n) for n in wanted}
        now = self.deps.clock()
        request_id = self.deps.ids()
        until = quote_hold_until(now, self.deps.settings.holds.quote_minutes)
        async with self.deps.uow() as uow:
            await self.room.check(uow, account, target, len(wanted))
            quote = charges or await price(
                self.deps, uow, account, Counter(kind_of(n) for n in to_buy)
            )
            await uow.requests.create(
                request_id=request_id,
                workspace_id=actor.workspace_id,
                account_id=account.id,
                requester_id=actor.user_id,
                target=target,
                kind=Kind.TOLLFREE if kinds == {Kind.TOLLFREE} else Kind.LOCAL,
                quote=replace(quote, spare_count=len(spares)),
                numbers=wanted,
                spares=spares,
                hold_expires_at=until,
                channel_id=channel_id or actor.channel_id,
                now=now,
            )
            held = await uow.numbers.hold(
                to_buy,
                request_id=request_id,
                account_id=account.id,
                until=until,
                now=now,
                kinds={n: kind_of(n) for n in to_buy},
            )
            missing = [n for n in to_buy if n not in held]
            if missing:
                raise taken(missing)
            events = [
                request_event(
                    actor.user_id,
                    actor.workspace_id,
                    AuditAction.REQUEST_CREATED,
                    request_id,
                    after={"state": RequestState.QUOTED.value, "numbers": wanted},
                )
            ] + [
                request_event(
                    actor.user_id,
                    actor.workspace_id,
                    AuditAction.NUMBER_HELD,
                    request_id,
                    number=n,
                    after={"state": "reserved", "until": until.isoformat()},
                )
                for n in to_buy
            ]
            for event in events:
                await uow.audit.add(event, now)
            await uow.commit()
        self.deps.telemetry.purchase(RequestState.QUOTED.value)
        self.deps.telemetry.holds("placed", len(to_buy))
        return await self.core.reload(request_id)

    async def retry(
        self, actor: Actor, request_id: str, reply: Reply | None = None
    ) -> PurchaseRequestRecord:
        """A new request for the numbers that failed, if they are still for sale; it gets
        its own billing card, in the first one's channel."""
        request = await self.core.visible(actor, request_id)
        failed = [i.number for i in request.items_with(ItemOutcome.FAILED)]
        if not failed:
            raise Conflict("Nothing to retry: no number of this request failed.")
        again = replace(reply, channel_id=request.channel_id) if reply is not None else None
        return await self.request_purchase(
            actor, failed, request.target, channel_id=request.channel_id, reply=again
        )
