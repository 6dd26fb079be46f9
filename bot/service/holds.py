"""Holds in the bot's database and reservations at the carrier, kept in step.

The database decides who may buy a number: a hold whose time ran out frees it
there at once. The carrier keeps no expiry (see `Carrier.reserve`), so a
lapsed hold is given back to it too, after the database let go, whenever it
is noticed: by a search (which must offer the number again) or by the sweep.

A reservation at the carrier belongs to an account, not to a request (Kazoo
keeps one per account), so two requests of one account share it. It is given
back only when the database no longer holds or owns the number for that
account; and a reservation that one of the bot's own accounts keeps with no
hold behind it in the database (a give-back that failed, or a request that
has not written its hold yet) is an orphan another request may take over.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.backends.carrier import CarrierFailure, CarrierNumberState
from bot.domain.audit import AuditAction
from bot.domain.records import SYSTEM, AccountInfo, AuditEvent, NumberRecord
from bot.domain.states import NumberState
from bot.service.changes import carrier_account
from bot.service.context import Deps
from bot.service.ports import UnitOfWork

log = logging.getLogger(__name__)


def live_hold(record: NumberRecord | None, now: datetime) -> bool:
    """The database holds the number for a request whose hold has not run out."""
    return (
        record is not None
        and record.state is NumberState.RESERVED
        and record.hold_request_id is not None
        and (record.hold_expires_at is None or record.hold_expires_at > now)
    )


def free_in_database(record: NumberRecord | None, now: datetime) -> bool:
    """Nobody holds or owns the number in the database (a lapsed hold holds nothing)."""
    if record is None or record.state is NumberState.AVAILABLE:
        return True
    return record.state is NumberState.RESERVED and not live_hold(record, now)


async def backed(
    uow: UnitOfWork, account_id: str, numbers: Sequence[str], now: datetime
) -> set[str]:
    """The numbers the database holds (by a live hold) or owns for the account."""
    records = await uow.numbers.get_many(numbers)
    holders: dict[str, str | None] = {}
    kept = set()
    for number, record in records.items():
        if record.state in (NumberState.IN_SERVICE, NumberState.AGING, NumberState.RETURNING):
            if record.account_id == account_id:
                kept.add(number)
            continue
        if not live_hold(record, now):
            continue
        request_id = record.hold_request_id
        assert request_id is not None
        if request_id not in holders:
            request = await uow.requests.get(request_id)
            holders[request_id] = request.account_id if request else None
        if holders[request_id] == account_id:
            kept.add(number)
    return kept


async def give_back(deps: Deps, account: AccountInfo | str, numbers: Sequence[str]) -> None:
    """Release the account's reservations at the carrier that the database no longer backs.

    A number another request of the same account holds (or the account owns)
    keeps its reservation: it is that request's too. Best effort: a reservation
    the carrier keeps is no hold in the bot's database, which decides who may
    buy; the next request for the number takes it over (`take_over`).
    """
    if not numbers or deps.carrier.holds is None:
        return
    async with deps.uow(write=False) as uow:
        if isinstance(account, str):
            found = await uow.accounts.get(account)
            if found is None:
                return
            account = found
        kept = await backed(uow, account.id, numbers, deps.clock())
    for number in numbers:
        if number in kept:
            continue
        try:
            await deps.carrier.holds.release_reservation(
                number, account_id=carrier_account(account)
            )
        except CarrierFailure:
            log.warning("could not give %s back at the carrier", number, exc_info=True)
        else:
            deps.telemetry.holds("given_back")


async def other_accounts(uow: UnitOfWork, account: AccountInfo) -> list[AccountInfo]:
    """The bot's other accounts in the account's workspace (where an orphan may be)."""
    return [a for a in await uow.accounts.all(account.workspace_id) if a.id != account.id]


async def take_over(deps: Deps, others: Sequence[AccountInfo], number: str) -> bool:
    """Free a reservation another of the bot's accounts keeps on the number.

    Call only when the database shows the number free, or held for the account
    taking it over (`others` are the rest, see `other_accounts`): the reservation
    then has no hold behind it. Returns whether one was freed.
    Another account's purchase in flight loses nothing it could have won: its
    hold is still written, or refused, by the database, and a request that
    holds a number reserves it again before ordering it.
    """
    if deps.carrier.holds is None:
        return False  # the carrier keeps no holds: there is nothing to free
    for other in others:
        where = carrier_account(other)
        try:
            status = await deps.carrier.supplier.number_status(number, account_id=where)
            if status.state is CarrierNumberState.RESERVED and status.account_id == where:
                await deps.carrier.holds.release_reservation(number, account_id=where)
                log.info("took over %s, reserved at the carrier by %s with no hold", number, where)
                return True
        except CarrierFailure:
            log.warning("could not free %s at the carrier", number, exc_info=True)
            return False
    return False


async def give_back_lapsed(deps: Deps) -> None:
    """Free the numbers of holds that ran out, in the database and then at the carrier."""
    now = deps.clock()
    async with deps.uow(write=False) as uow:
        if not await uow.numbers.has_lapsed_holds(now):
            return  # the usual case: one indexed read, no write
    async with deps.uow() as uow:
        released = await uow.numbers.release_lapsed_holds(now)
        for number, _ in released:
            event = AuditEvent(AuditAction.NUMBER_HOLD_LAPSED, SYSTEM, "", number=number)
            await uow.audit.add(event, now)
        await uow.commit()
    by_account: dict[str, list[str]] = {}
    for number, account_id in released:
        by_account.setdefault(account_id, []).append(number)
    for account_id, numbers in by_account.items():
        await give_back(deps, account_id, numbers)
