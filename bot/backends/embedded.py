"""The embedded backend: the bot's own database is the system of record for numbers.

Carrier stock comes from the simulated carrier; every change is a conditional
update in the caller's unit of work, so it commits with the audit event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from bot.backends.base import ActivationStatus, E911Outcome
from bot.backends.carrier_sim import SimulatedCarrier
from bot.domain.assignment import Assignment
from bot.domain.billing import Quote, ServicePlan, quote_purchase
from bot.domain.e911 import E911Address
from bot.domain.phone import Kind, SearchQuery, kind_of
from bot.domain.records import AccountInfo, NumberFilter, NumberRecord
from bot.domain.states import NumberState
from storage.uow import UnitOfWork

SEARCH_CHUNK = 200


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, carrier: SimulatedCarrier, plan: ServicePlan) -> None:
        self.carrier = carrier
        self.plan = plan

    async def search(
        self, uow: UnitOfWork, query: SearchQuery, quantity: int, now: datetime
    ) -> list[str]:
        stock = await self.carrier.search(query)
        found: list[str] = []
        for start in range(0, len(stock), SEARCH_CHUNK):
            chunk = stock[start : start + SEARCH_CHUNK]
            taken = await uow.numbers.unavailable_among(chunk, now)
            found.extend(n for n in chunk if n not in taken)
            if len(found) >= quantity:
                break
        return found[:quantity]

    async def is_offered(self, number: str) -> bool:
        return self.carrier.offers(number)

    async def hold(
        self,
        uow: UnitOfWork,
        numbers: Sequence[str],
        *,
        request_id: str,
        account: AccountInfo,
        until: datetime,
        now: datetime,
    ) -> set[str]:
        return await uow.numbers.hold(
            numbers,
            request_id=request_id,
            account_id=account.id,
            until=until,
            now=now,
            kinds={n: kind_of(n) for n in numbers},
        )

    async def set_hold_expiry(
        self, uow: UnitOfWork, request_id: str, until: datetime | None, now: datetime
    ) -> None:
        await uow.numbers.extend_holds(request_id, until, now)

    async def release_hold(
        self,
        uow: UnitOfWork,
        request_id: str,
        now: datetime,
        numbers: Sequence[str] | None = None,
    ) -> list[str]:
        return await uow.numbers.release_holds(request_id, now, numbers)

    async def monthly_total(self, uow: UnitOfWork, account: AccountInfo) -> Decimal:
        counts = await uow.numbers.counts(account.id)
        owned = {
            kind: counts.get(f"{NumberState.IN_SERVICE.value}:{kind.value}", 0) for kind in Kind
        }
        return self.plan.monthly_total(owned, counts.get("e911", 0))

    async def quote(self, uow: UnitOfWork, account: AccountInfo, new: Mapping[Kind, int]) -> Quote:
        return quote_purchase(self.plan, await self.monthly_total(uow, account), new)

    async def order(self, number: str, account: AccountInfo, request_id: str) -> None:
        await self.carrier.order(number, request_id)

    async def record_purchase(
        self,
        uow: UnitOfWork,
        number: str,
        *,
        account: AccountInfo,
        request_id: str,
        now: datetime,
    ) -> bool:
        return await uow.numbers.mark_purchased(
            number,
            request_id=request_id,
            account_id=account.id,
            now=now,
            activate_at=now + self.carrier.activation_delay,
        )

    async def get(self, uow: UnitOfWork, number: str) -> NumberRecord | None:
        return await uow.numbers.get(number)

    async def list_numbers(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        flt: NumberFilter,
        *,
        after: str | None,
        limit: int,
    ) -> list[NumberRecord]:
        return await uow.numbers.page(account.id, flt, after=after, limit=limit)

    async def list_page(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        flt: NumberFilter,
        *,
        after: str | None,
        before: str | None,
        limit: int,
    ) -> list[NumberRecord]:
        return await uow.listing.page(account.id, flt, after=after, before=before, limit=limit)

    async def count_matching(
        self, uow: UnitOfWork, account: AccountInfo, flt: NumberFilter, *, cap: int
    ) -> tuple[int, bool]:
        return await uow.listing.count_and_emergency(account.id, flt, cap=cap)

    async def has_emergency_main(self, uow: UnitOfWork, account: AccountInfo) -> bool:
        return await uow.listing.has_emergency_main(account.id)

    async def spares(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        *,
        kind: Kind | None,
        prefix: str | None,
        limit: int,
    ) -> list[NumberRecord]:
        return await uow.numbers.spares(account.id, kind=kind, prefix=prefix, limit=limit)

    async def assign(
        self,
        uow: UnitOfWork,
        number: NumberRecord,
        assignment: Assignment,
        *,
        actor: str,
        now: datetime,
    ) -> None:
        assert number.account_id is not None
        await uow.numbers.assign(number.e164, number.account_id, assignment, actor, now)

    async def unassign(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> None:
        await uow.numbers.unassign(number.e164)

    async def geocode(self, address: E911Address) -> E911Outcome:
        return await self.carrier.geocode(address)

    async def set_e911(
        self,
        uow: UnitOfWork,
        number: NumberRecord,
        address: E911Address,
        *,
        actor: str,
        now: datetime,
    ) -> None:
        await uow.numbers.set_e911(number.e164, address, actor, now)

    async def remove_e911(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> None:
        await uow.numbers.remove_e911(number.e164)

    async def move(
        self, uow: UnitOfWork, number: NumberRecord, to: AccountInfo, now: datetime
    ) -> bool:
        moved = await uow.numbers.transition(
            number.e164,
            expected_state=NumberState.IN_SERVICE,
            expected_account=number.account_id,
            now=now,
            account_id=to.id,
        )
        if moved:
            await uow.numbers.unassign(number.e164)
        return moved

    async def release(
        self, uow: UnitOfWork, number: NumberRecord, *, aging_until: datetime, now: datetime
    ) -> bool:
        released = await uow.numbers.transition(
            number.e164,
            expected_state=NumberState.IN_SERVICE,
            expected_account=number.account_id,
            now=now,
            state=NumberState.AGING.value,
            aging_until=aging_until,
        )
        if released:
            await uow.numbers.unassign(number.e164)
        return released

    async def restore(self, uow: UnitOfWork, number: NumberRecord, now: datetime) -> bool:
        return await uow.numbers.transition(
            number.e164,
            expected_state=NumberState.AGING,
            expected_account=number.account_id,
            now=now,
            state=NumberState.IN_SERVICE.value,
            aging_until=None,
        )

    async def activate_due(self, uow: UnitOfWork, now: datetime) -> list[str]:
        due = await uow.numbers.due_activation(now)
        done = []
        for number in due:
            if await uow.numbers.mark_activated(number, now):
                done.append(number)
        return done

    async def activation_status(self, uow: UnitOfWork, number: str) -> ActivationStatus:
        record = await uow.numbers.get(number)
        activated = record.activated_at if record else None
        return ActivationStatus(number, activated is not None, activated)

    async def age_out(self, uow: UnitOfWork, now: datetime) -> list[str]:
        done = []
        for number in await uow.numbers.aged_out(now):
            record = await uow.numbers.get(number)
            if record is None:
                continue
            if await uow.numbers.transition(
                number,
                expected_state=NumberState.AGING,
                expected_account=record.account_id,
                now=now,
                state=NumberState.AVAILABLE.value,
                account_id=None,
                aging_until=None,
                activated_at=None,
                activate_at=None,
            ):
                await uow.numbers.remove_e911(number)
                done.append(number)
        return done
