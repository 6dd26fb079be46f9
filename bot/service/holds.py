"""Holds in the bot's database and reservations at the carrier, kept in step.

The database decides who may buy a number: a hold whose time ran out frees it
there at once. The carrier keeps no expiry (see `Carrier.reserve`), so a
lapsed hold is given back to it too, after the database let go, whenever it
is noticed: by a search (which must offer the number again) or by the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.backends.carrier import CarrierFailure
from bot.domain.records import AccountInfo, AuditEvent
from bot.service.changes import carrier_account
from bot.service.context import SYSTEM, Deps

log = logging.getLogger(__name__)


async def give_back(deps: Deps, account: AccountInfo | str, numbers: Sequence[str]) -> None:
    """Release reservations at the carrier, once the database has let go of them.

    Best effort: a reservation the carrier keeps is no hold in the bot's database,
    which decides who may buy; the next purchase or sweep clears it.
    """
    if not numbers:
        return
    if isinstance(account, str):
        async with deps.uow(write=False) as uow:
            found = await uow.accounts.get(account)
        if found is None:
            return
        account = found
    for number in numbers:
        try:
            await deps.carrier.release_reservation(number, account_id=carrier_account(account))
        except CarrierFailure:
            log.warning("could not give %s back at the carrier", number, exc_info=True)


async def give_back_lapsed(deps: Deps) -> None:
    """Free the numbers of holds that ran out, in the database and then at the carrier."""
    now = deps.clock()
    async with deps.uow(write=False) as uow:
        if not await uow.numbers.has_lapsed_holds(now):
            return  # the usual case: one indexed read, no write
    async with deps.uow() as uow:
        released = await uow.numbers.release_lapsed_holds(now)
        for number, _ in released:
            event = AuditEvent("number.hold_lapsed", SYSTEM, "", number=number)
            await uow.audit.add(event, now)
        await uow.commit()
    by_account: dict[str, list[str]] = {}
    for number, account_id in released:
        by_account.setdefault(account_id, []).append(number)
    for account_id, numbers in by_account.items():
        await give_back(deps, account_id, numbers)
