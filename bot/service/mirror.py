"""The mirror sync: Kazoo is the system of record, the bot's database its mirror.

A full sync reads every number of every account the bot offers
(`KAZOO_ACCOUNT_ID`'s own account, the workspace's default, and its direct
sub-accounts)
and brings the database in step: the number, its state and account, its
assignment (from the callflows), its e911 address; numbers no longer the
account's at Kazoo go back to the carrier's pool.

Bounded memory and short locks: one page of numbers at a time, one short
write transaction per page, and every carrier call (the page, the routes, the
users, an e911 address) made before that transaction opens. Idempotent: a
second run with nothing changed at Kazoo writes nothing and audits nothing;
each actual change is audited once (`number.synced`, with before and after).

Gone numbers are found without remembering what was seen: Kazoo pages in key
(number) order, so the numbers the database has for the account between the
previous page's last number and this page's last, and not on this page, are
gone. Should a page ever come out of order, nothing is marked gone for that
account on this run (`SyncReport.gone_check_skipped`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.backends.carrier import (
    Carrier,
    CarrierAccount,
    CarrierFailure,
    CarrierNumberState,
    CarrierUser,
    NumberStatus,
    RouteTarget,
)
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import E911Address
from bot.domain.mirror import MirrorRow, SyncEvent, SyncReport, summary
from bot.domain.states import NumberState
from bot.service.context import SYSTEM, Clock, utc_now
from bot.service.ports import MirrorRepository

OWNED = (CarrierNumberState.IN_SERVICE, CarrierNumberState.PORT_IN)


class MirrorUnitLike(Protocol):
    mirror: MirrorRepository

    async def commit(self) -> None: ...


# `units(write)` opens a unit of work carrying `.mirror` (storage implements it: `mirror_units`).
MirrorUnits = Callable[[bool], AbstractAsyncContextManager[MirrorUnitLike]]
# The Slack user for a Kazoo user (by email), or None; see `bot.handlers.slack_people`.
SlackUserFor = Callable[[CarrierUser], Awaitable[str | None]]


class E911Reader(Protocol):
    """A carrier that can read a number's stored e911 address (`KazooCarrier` can)."""

    async def e911_of(self, e164: str, *, account_id: str) -> E911Address | None: ...


@dataclass(frozen=True, slots=True)
class Suspect:
    """A page's range (`after` < e164 <= `upto`; `upto` None: to the end) where the
    mirror has numbers of the account that Kazoo did not list."""

    kazoo_account: str
    bot_account: str
    start_key: str | None
    after: str | None
    upto: str | None


def assignment_for(target: RouteTarget | None, slack_users: Mapping[str, str]) -> Assignment | None:
    if target is None:
        return None
    if target.kind is AssignmentKind.USER:
        owner = str(target.owner_id)
        return Assignment.user(slack_users.get(owner, owner))
    return Assignment(target.kind)


class MirrorSync:
    def __init__(
        self,
        carrier: Carrier,
        units: MirrorUnits,
        *,
        workspace_id: str,
        root_account_id: str,
        root_name: str,
        slack_user_for: SlackUserFor | None = None,
        clock: Clock = utc_now,
        page_size: int = 500,
    ) -> None:
        self.carrier = carrier
        self.units = units
        self.workspace_id = workspace_id
        self.root = CarrierAccount(root_account_id, root_name)
        self.slack_user_for = slack_user_for
        self.clock = clock
        self.page_size = page_size

    async def run(self) -> SyncReport:
        report = SyncReport()
        found = list(await self.carrier.accounts())
        # `KAZOO_ACCOUNT_ID`'s own account is the workspace's default (an unbound
        # channel works on it); its sub-accounts are offered too.
        root = next((a for a in found if a.id == self.root.id), self.root)
        accounts = [root] + [a for a in found if a.id != self.root.id]
        async with self.units(True) as unit:
            linked: list[tuple[CarrierAccount, str]] = []
            for account in accounts:
                link = unit.mirror.link_default if account is root else unit.mirror.link_account
                bot_id, created = await link(
                    self.workspace_id, account.id, account.name, self.clock()
                )
                report.accounts_created += created
                linked.append((account, bot_id))
            await unit.commit()
        suspects: list[Suspect] = []
        for account, bot_id in linked:
            suspects += await self._sync_account(account.id, bot_id, report)
            report.accounts += 1
        for suspect in suspects:
            await self._settle(suspect, report)
        return report

    # --- one account -------------------------------------------------------------------

    async def _slack_users(
        self, kazoo_account: str, routes: Mapping[str, RouteTarget]
    ) -> dict[str, str]:
        owners = {t.owner_id for t in routes.values() if t.owner_id is not None}
        if not owners or self.slack_user_for is None:
            return {}
        found: dict[str, str] = {}
        for user in await self.carrier.users(account_id=kazoo_account):
            if user.id in owners and (slack := await self.slack_user_for(user)):
                found[user.id] = slack
        return found

    async def _sync_account(
        self, kazoo_account: str, bot_account: str, report: SyncReport
    ) -> list[Suspect]:
        """Apply every page; return the ranges where the mirror has numbers Kazoo did not list."""
        routes = await self.carrier.routes(account_id=kazoo_account)
        slack_users = await self._slack_users(kazoo_account, routes)
        report.unmatched_users += len(
            {t.owner_id for t in routes.values() if t.owner_id} - set(slack_users)
        )
        suspects: list[Suspect] = []
        ordered = True
        previous_last: str | None = None
        start_key: str | None = None
        while True:
            page = await self.carrier.list_numbers(
                account_id=kazoo_account, start_key=start_key, page_size=self.page_size
            )
            report.pages += 1
            numbers = sorted(page.numbers, key=lambda n: n.e164)
            if numbers and previous_last is not None and numbers[0].e164 <= previous_last:
                ordered = False
            owned = [n for n in numbers if n.state in OWNED and n.account_id == kazoo_account]
            report.seen += len(owned)
            addresses = await self._addresses(kazoo_account, owned, report)
            upto = numbers[-1].e164 if numbers else previous_last
            async with self.units(True) as unit:
                await self._apply_page(
                    unit.mirror, bot_account, owned, routes, slack_users, addresses, report
                )
                if ordered and numbers:
                    kept = [n.e164 for n in owned]
                    if await unit.mirror.owned_between(
                        bot_account, previous_last, upto, limit=1, excluding=kept
                    ):
                        suspects.append(
                            Suspect(kazoo_account, bot_account, start_key, previous_last, upto)
                        )
                await unit.commit()
            previous_last = upto
            if page.next_start_key is None:
                break
            start_key = page.next_start_key
        if not ordered:
            report.gone_check_skipped.append(kazoo_account)
            return []
        async with self.units(False) as unit:
            if await unit.mirror.owned_between(bot_account, previous_last, None, limit=1):
                suspects.append(Suspect(kazoo_account, bot_account, None, previous_last, None))
        return suspects

    async def _settle(self, suspect: Suspect, report: SyncReport) -> None:
        """Mark gone what is still missing, now that every account's moves are applied.

        A number that moved between two of the bot's accounts was re-homed by
        the other account's pages, so it is no longer the mirror's on this one.
        """
        if suspect.upto is None:
            # After Kazoo's last number the account has nothing: a batch per transaction.
            after = suspect.after
            while True:
                async with self.units(True) as unit:
                    last = await self._sweep(
                        unit.mirror, suspect.bot_account, after, None, set(), report, batches=1
                    )
                    await unit.commit()
                if last is None:
                    return
                after = last
        page = await self.carrier.list_numbers(
            account_id=suspect.kazoo_account, start_key=suspect.start_key, page_size=self.page_size
        )
        kept = {
            n.e164
            for n in page.numbers
            if n.state in OWNED and n.account_id == suspect.kazoo_account
        }
        async with self.units(True) as unit:
            await self._sweep(
                unit.mirror, suspect.bot_account, suspect.after, suspect.upto, kept, report
            )
            await unit.commit()

    async def _sweep(
        self,
        repo: MirrorRepository,
        bot_account: str,
        after: str | None,
        upto: str | None,
        kept: set[str],
        report: SyncReport,
        *,
        batches: int | None = None,
    ) -> str | None:
        """Mark gone what the mirror has in `(after, upto]` and Kazoo did not list.

        Returns the last number looked at (None when there was none).
        """
        last: str | None = None
        done = 0
        while batches is None or done < batches:
            found = await repo.owned_between(bot_account, after, upto)
            done += 1
            if not found:
                break
            for e164 in found:
                if e164 in kept:
                    continue
                now = self.clock()
                before = await repo.mark_gone(e164, bot_account, now)
                if before is None:
                    report.skipped += 1
                    continue
                report.gone += 1
                gone = summary(NumberState.AVAILABLE.value, None, None, None)
                await repo.audit(
                    [SyncEvent(e164, before.summary(), gone, now)], self.workspace_id, SYSTEM
                )
            after = last = found[-1]
        return last

    async def _apply_page(
        self,
        repo: MirrorRepository,
        bot_account: str,
        owned: Sequence[NumberStatus],
        routes: Mapping[str, RouteTarget],
        slack_users: Mapping[str, str],
        addresses: Mapping[str, E911Address],
        report: SyncReport,
    ) -> None:
        rows = await repo.rows([n.e164 for n in owned])
        now = self.clock()
        await repo.insert_owned([n.e164 for n in owned if n.e164 not in rows], bot_account, now)
        events: list[SyncEvent] = []
        routed: list[tuple[str, Assignment]] = []
        for number in owned:
            e164 = number.e164
            row = rows.get(e164)
            wanted = assignment_for(routes.get(e164), slack_users)
            if wanted is None and number.used_by:
                report.in_use_elsewhere += 1
            if row is None:
                before: dict[str, Any] | None = None
                current: MirrorRow | None = None
                report.added += 1
            elif row.state == NumberState.RESERVED.value:
                # One of the bot's own holds, being bought: the request records it.
                report.skipped += 1
                continue
            elif (
                row.state in (NumberState.AGING.value, NumberState.RETURNING.value)
                and row.account_id == bot_account
            ):
                # Released in the bot: Kazoo keeps it on the account until the bot's
                # aging ends (and a restore needs it there), so it stays released here.
                report.unchanged += 1
                continue
            else:
                before, current = row.summary(), row
                moved = row.state != NumberState.IN_SERVICE.value or row.account_id != bot_account
                if moved and not await repo.make_owned(row, bot_account, now):
                    report.skipped += 1
                    continue
            after = await self._apply_details(
                repo, bot_account, number, current, wanted, addresses.get(e164), now, routed, rows
            )
            if before is None or after != before:
                if before is not None:
                    report.changed += 1
                events.append(SyncEvent(e164, before, after, now))
            else:
                report.unchanged += 1
        await repo.set_assignments(routed, bot_account, now)
        await repo.audit(events, self.workspace_id, SYSTEM)

    async def _apply_details(
        self,
        repo: MirrorRepository,
        bot_account: str,
        number: NumberStatus,
        row: MirrorRow | None,
        wanted: Assignment | None,
        address: E911Address | None,
        now: Any,
        routed: list[tuple[str, Assignment]],
        rows: dict[str, MirrorRow],
    ) -> dict[str, Any]:
        """Assignment and e911 as Kazoo has them; returns the number's new summary.

        Routes other than the faxbox are appended to `routed`, written together.
        """
        e164 = number.e164
        have = row.assignment if row else None
        moved = row is not None and row.account_id != bot_account
        if wanted is not None and (wanted != have or moved):
            if wanted.kind is not AssignmentKind.FAXBOX:
                routed.append((e164, wanted))
            elif (
                displaced := await repo.set_assignment(e164, bot_account, wanted, now)
            ) is not None:
                # Audited here, once: if the old fax number comes later on this page, it
                # is compared with what it is now, not with what it was.
                now_row = (await repo.rows([displaced]))[displaced]
                if displaced in rows:
                    rows[displaced] = now_row
                after_summary = now_row.summary()
                before_summary = {**after_summary, "assignment": AssignmentKind.FAXBOX.value}
                event = SyncEvent(displaced, before_summary, after_summary, now)
                await repo.audit([event], self.workspace_id, SYSTEM)
        elif wanted is None and have is not None:
            await repo.clear_assignment(e164)
        e911 = row.e911_status if row else None
        if "e911" not in number.features and e911 is not None:
            await repo.clear_e911(e164)
            e911 = None
        elif "e911" in number.features and e911 is None and address is not None:
            await repo.set_e911(e164, address, now)
            e911 = address.status.value if address.status else "PROVISIONED"
        return summary(NumberState.IN_SERVICE.value, bot_account, wanted, e911)

    async def _addresses(
        self, kazoo_account: str, owned: Sequence[NumberStatus], report: SyncReport
    ) -> dict[str, E911Address]:
        """e911 addresses Kazoo has and the mirror lacks, read before the write opens."""
        reader = getattr(self.carrier, "e911_of", None)
        with_e911 = [n.e164 for n in owned if "e911" in n.features]
        if reader is None or not with_e911:
            return {}
        async with self.units(False) as unit:
            rows = await unit.mirror.rows(with_e911)
        found: dict[str, E911Address] = {}
        for e164 in with_e911:
            row = rows.get(e164)
            if row is not None and row.e911_status is not None:
                continue
            try:
                address = await reader(e164, account_id=kazoo_account)
            except CarrierFailure:
                continue  # the next sync tries again
            report.e911_read += 1
            if address is not None:
                found[e164] = address
        return found
