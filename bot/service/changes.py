"""One way to change an owned number: read and check, tell the carrier, write and audit.

Every change of a number the account owns (assign, unassign, give spares,
move, release, restore, set or remove an e911 address) is a small command
object run by `apply_changes`:

1. the role is checked and the numbers parsed;
2. a read unit of work finds the account and each number in the states the
   command accepts; a number already as wanted is left alone (a repeated click
   changes nothing); the command's rules run (`check`);
3. the carrier is told (`at_carrier`), outside any write transaction;
4. one write unit of work reads each number again, refuses it if it changed
   since step 2 ("changed meanwhile"), runs the rules again, writes the change
   (`write`, a conditional update) and its `AuditEvent`, and commits;
5. if step 4 fails, the carrier is put back (`undo`, best effort).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.backends.carrier import Carrier, CarrierFailure, NumberConflict
from bot.domain.errors import Conflict, NotFound
from bot.domain.phone import format_national, parse_number
from bot.domain.records import AccountInfo, AuditEvent, NumberRecord
from bot.domain.states import NumberState
from bot.service.accounts import AccountService
from bot.service.context import Actor, Deps
from bot.service.errors import AgingEnded, ChangedMeanwhile, LastEmergencyMain, OnOtherAccount
from bot.service.ports import UnitOfWork

log = logging.getLogger(__name__)

IN_SERVICE = (NumberState.IN_SERVICE,)
_OWNED = (NumberState.IN_SERVICE, NumberState.AGING)


def carrier_account(account: AccountInfo) -> str:
    """The account's id at the carrier: the one place a bot account maps to it.

    Accounts mirrored from Kazoo carry Kazoo's id in `external_id` (a
    sub-account, or `KAZOO_ACCOUNT_ID` itself when it has none, see
    `bot.service.mirror`); the simulated carrier knows the bot's own ids.
    """
    return account.external_id or account.id


async def owned_number(
    uow: UnitOfWork,
    account: AccountInfo,
    e164: str,
    states: tuple[NumberState, ...] | None = IN_SERVICE,
) -> NumberRecord:
    """The account's number (in service or aging), in one of `states` (None: either)."""
    record = await uow.numbers.get(e164)
    if (
        record is not None
        and record.account_id == account.id
        and record.state is NumberState.RETURNING
    ):
        raise AgingEnded(record)
    if record is None or record.account_id != account.id or record.state not in _OWNED:
        shown = format_national(e164)
        owner = record.account_id if record and record.state in _OWNED else None
        other = await uow.accounts.get(owner) if owner else None
        # Named only within the workspace: another workspace's accounts are not ours to name.
        if other is not None and other.workspace_id == account.workspace_id:
            raise OnOtherAccount(shown, account.name, other.name)
        raise NotFound(f"{shown} is not a number of the account {account.name}.")
    if states is not None and record.state not in states:
        raise Conflict(f"{record.display} is {record.state.value.replace('_', ' ')}.")
    return record


async def keep_emergency_main(
    uow: UnitOfWork, account: AccountInfo, record: NumberRecord, doing: str
) -> None:
    """The account's last emergency-enabled main number cannot lose that role.

    The one place of this rule: reassigning, unassigning, moving or releasing
    such a number, or removing its address, would leave the account without a
    main number that reaches emergency services.
    """
    if not record.is_emergency_main:
        return
    if await uow.numbers.emergency_main_numbers(account.id) == [record.e164]:
        raise LastEmergencyMain(record.display, doing)


class NumberChange:
    """A change to one owned number; subclasses say what differs from the skeleton."""

    doing = "change numbers"  # for the role check: "Only numbers admins can …"
    action = "number.changed"  # the audit event's action
    states: tuple[NumberState, ...] | None = IN_SERVICE

    def settled(self, record: NumberRecord) -> bool:
        """Already as wanted: nothing to do, nothing audited."""
        return False

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        """The rules; runs in the read and again in the write."""

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        """Tell the carrier (outside any write transaction)."""

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        """Put the carrier back when the database write failed."""

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        """The conditional update; the number after it, or None if it changed meanwhile."""
        raise NotImplementedError

    def audit_after(self, after: NumberRecord) -> dict[str, object]:
        return after.snapshot()

    def detail(self, account: AccountInfo) -> str | None:
        return None

    async def then(
        self, uow: UnitOfWork, actor: Actor, account: AccountInfo, after: NumberRecord
    ) -> NumberRecord:
        """What follows in the same transaction, after the audit event (restore reassigns)."""
        return after


@dataclass(frozen=True, slots=True)
class _Planned:
    record: NumberRecord
    command: NumberChange


async def apply_changes(
    deps: Deps,
    accounts: AccountService,
    actor: Actor,
    numbers: Sequence[str],
    command: NumberChange,
    *,
    channel_id: str | None = None,
    field: str = "number",
) -> list[NumberRecord]:
    """Run one command over numbers of the channel's account, in one write transaction."""
    account, planned = await _plan(deps, accounts, actor, numbers, command, channel_id, field)
    if not any(isinstance(plan, _Planned) for plan in planned):
        # All as wanted already (a repeated click): no write transaction, no queueing.
        return [plan for plan in planned if isinstance(plan, NumberRecord)]
    told: list[NumberRecord] = []
    try:
        for plan in planned:
            if isinstance(plan, _Planned):
                try:
                    await plan.command.at_carrier(deps.carrier, account, plan.record)
                except NumberConflict:
                    # The carrier's words reach the person through the error; the
                    # mirror is behind on this number, so the next sync comes sooner.
                    deps.due.mark(plan.record.e164)
                    raise
                told.append(plan.record)
        result = await _write(deps, actor, account, planned)
    except BaseException:
        for record in told:
            await _undo(deps.carrier, command, account, record)
        raise
    return result


async def check_changes(
    deps: Deps,
    accounts: AccountService,
    actor: Actor,
    numbers: Sequence[str],
    command: NumberChange,
    *,
    channel_id: str | None = None,
    field: str = "number",
) -> None:
    """Steps 1 and 2 only: raise what `apply_changes` would refuse now, change nothing.

    A modal submission asks this before it answers Slack (a read, so a busy database
    or a slow carrier cannot delay the answer), then applies the change after.
    """
    await _plan(deps, accounts, actor, numbers, command, channel_id, field)


async def _plan(
    deps: Deps,
    accounts: AccountService,
    actor: Actor,
    numbers: Sequence[str],
    command: NumberChange,
    channel_id: str | None,
    field: str,
) -> tuple[AccountInfo, list[_Planned | NumberRecord]]:
    actor.require_admin(command.doing)
    wanted = list(dict.fromkeys(parse_number(n, field) for n in numbers))
    account = await accounts.for_channel(actor, channel_id)
    async with deps.uow(write=False) as uow:
        planned: list[_Planned | NumberRecord] = []
        for e164 in wanted:
            record = await owned_number(uow, account, e164, command.states)
            if command.settled(record):
                planned.append(record)
                continue
            await command.check(uow, account, record)
            planned.append(_Planned(record, command))
    return account, planned


async def _write(
    deps: Deps, actor: Actor, account: AccountInfo, planned: list[_Planned | NumberRecord]
) -> list[NumberRecord]:
    done: list[NumberRecord] = []
    async with deps.uow() as uow:
        for plan in planned:
            if not isinstance(plan, _Planned):
                done.append(plan)
                continue
            record, command = plan.record, plan.command
            fresh = await owned_number(uow, account, record.e164, command.states)
            if fresh.snapshot() != record.snapshot():
                raise ChangedMeanwhile(record.display)
            await command.check(uow, account, fresh)
            now = deps.clock()
            after = await command.write(uow, account, fresh, now)
            if after is None:
                raise ChangedMeanwhile(record.display)
            event = AuditEvent(
                command.action,
                actor.user_id,
                actor.workspace_id,
                number=record.e164,
                before=record.snapshot(),
                after=command.audit_after(after),
                detail=command.detail(account),
            )
            await uow.audit.add(event, now)
            done.append(await command.then(uow, actor, account, after))
        await uow.commit()
    return done


async def _undo(
    carrier: Carrier, command: NumberChange, account: AccountInfo, record: NumberRecord
) -> None:
    try:
        await command.undo(carrier, account, record)
    except CarrierFailure:
        log.warning("could not put %s back at the carrier", record.e164, exc_info=True)
