"""The inventory repository: the carrier's numbers, routes, e911 and accounts into our tables.

Every change is a conditional statement (the row's `version`, or its state
and account), so a sync racing a user's change never overwrites it: the
losing side sees a row count of 0 and the next sync looks again. Nothing here
calls the carrier; `bot/service/inventory_sync.py` decides what to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, cast
from uuid import uuid4

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import E911Address, E911Status
from bot.domain.mirror import MirrorRow, SyncEvent
from bot.domain.names import name_key
from bot.domain.phone import kind_of
from bot.domain.states import NumberState, SyncMove, check_number_move
from storage import models as m
from storage.db import MIRROR_TURN, take_turn
from storage.repositories import NumbersRepo
from storage.rows import rowcount, upsert_insert

# Core tables: a page's rows go in as one executemany, without the ORM's bulk bookkeeping.
NUMBERS = cast(Table, m.Number.__table__)
AUDIT = cast(Table, m.AuditEvent.__table__)

# The mirror's own name in `e911_addresses.updated_by` and the audit trail's detail.
SYNC_ACTOR = "kazoo-sync"
OWNED, GONE = SyncMove.OWNED, SyncMove.GONE


class InventoryRepo:
    """Every write is a conditional statement; the sync's write units take turns."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        # Assignments and e911 rows are written as the bot's own changes write them.
        self._numbers = NumbersRepo(session)

    async def take_turn(self) -> None:
        await take_turn(self.s, MIRROR_TURN)

    # --- accounts ------------------------------------------------------------------

    async def link_account(
        self, workspace_id: str, external_id: str, name: str, now: datetime
    ) -> tuple[str, bool]:
        """The bot account standing for a Kazoo account; (id, created).

        Found by `external_id`; else an unlinked account of the same name is
        adopted (the default account made before Kazoo was connected); else a
        new one is made, its name suffixed with the Kazoo id if the name is taken.
        """
        found = await self.s.scalar(
            select(m.Account.id).where(
                m.Account.workspace_id == workspace_id, m.Account.external_id == external_id
            )
        )
        if found is not None:
            await self._follow_name(workspace_id, found, name)
            return found, False
        clipped = name.strip()[:64] or external_id[:64]
        same_name = (
            await self.s.execute(
                select(m.Account.id, m.Account.external_id).where(
                    m.Account.workspace_id == workspace_id,
                    m.Account.name_key == name_key(clipped),
                )
            )
        ).first()
        if same_name is not None and same_name[1] is None:
            await self.s.execute(
                update(m.Account)
                .where(m.Account.id == same_name[0], m.Account.external_id.is_(None))
                .values(external_id=external_id)
            )
            return same_name[0], False
        if same_name is not None:
            clipped = f"{clipped[: 64 - 10]} ({external_id[:7]})"
        if await self.s.get(m.Workspace, workspace_id) is None:
            await self.s.execute(
                upsert_insert(self.s, m.Workspace)
                .values(id=workspace_id, name="", created_at=now)
                .on_conflict_do_nothing()
            )
        account_id = str(uuid4())
        self.s.add(
            m.Account(
                id=account_id,
                workspace_id=workspace_id,
                name=clipped,
                external_id=external_id,
                created_at=now,
            )
        )
        await self.s.flush()
        return account_id, True

    async def _follow_name(self, workspace_id: str, account_id: str, name: str) -> None:
        """Kazoo's name, as Kazoo has it, once renamed there (unless another account has it)."""
        clipped = name.strip()[:64]
        if not clipped:
            return
        taken = await self.s.scalar(
            select(m.Account.id).where(
                m.Account.workspace_id == workspace_id,
                m.Account.name == clipped,
            )
        )
        if taken is None:
            await self.s.execute(
                update(m.Account).where(m.Account.id == account_id).values(name=clipped)
            )

    async def link_default(
        self, workspace_id: str, external_id: str, name: str, now: datetime
    ) -> tuple[str, bool]:
        """Like `link_account`, and the account becomes the workspace's default.

        The default made before Kazoo was connected (unlinked) is adopted and takes
        Kazoo's name unless another account has it; an unbound channel then works
        on `KAZOO_ACCOUNT_ID`'s own account.
        """
        linked = await self.s.scalar(
            select(m.Account.id).where(
                m.Account.workspace_id == workspace_id, m.Account.external_id == external_id
            )
        )
        default_id = await self.s.scalar(
            select(m.Workspace.default_account_id).where(m.Workspace.id == workspace_id)
        )
        created = False
        if linked is not None:
            account_id = linked
            await self._follow_name(workspace_id, linked, name)
        elif default_id is not None and await self.s.scalar(
            select(m.Account.id).where(m.Account.id == default_id, m.Account.external_id.is_(None))
        ):
            account_id = default_id
            values: dict[str, Any] = {"external_id": external_id}
            clipped = name.strip()[:64]
            taken = await self.s.scalar(
                select(m.Account.id).where(
                    m.Account.workspace_id == workspace_id,
                    m.Account.name == clipped,
                    m.Account.id != default_id,
                )
            )
            if clipped and taken is None:
                values["name"] = clipped
            await self.s.execute(
                update(m.Account)
                .where(m.Account.id == default_id, m.Account.external_id.is_(None))
                .values(**values)
            )
        else:
            account_id, created = await self.link_account(workspace_id, external_id, name, now)
        if default_id != account_id:
            await self.s.execute(
                update(m.Workspace)
                .where(m.Workspace.id == workspace_id)
                .values(default_account_id=account_id)
            )
        return account_id, created

    # --- reading -------------------------------------------------------------------

    async def rows(self, numbers: Sequence[str]) -> dict[str, MirrorRow]:
        if not numbers:
            return {}
        result = await self.s.execute(
            select(
                m.Number.e164,
                m.Number.state,
                m.Number.account_id,
                m.Number.version,
                m.NumberAssignment.kind,
                m.NumberAssignment.user_id,
                m.E911Record.status,
            )
            .outerjoin(m.NumberAssignment, m.NumberAssignment.number == m.Number.e164)
            .outerjoin(m.E911Record, m.E911Record.number == m.Number.e164)
            .where(m.Number.e164.in_(list(numbers)))
        )
        return {
            e164: MirrorRow(
                e164,
                state,
                account_id,
                version,
                Assignment(AssignmentKind(kind), user_id) if kind else None,
                e911,
            )
            for e164, state, account_id, version, kind, user_id, e911 in result
        }

    async def owned_between(
        self,
        account_id: str,
        after: str | None,
        upto: str | None,
        limit: int = 500,
        excluding: Sequence[str] = (),
    ) -> list[str]:
        """The account's in-service numbers with `after < e164 <= upto`, in order."""
        stmt = select(m.Number.e164).where(
            m.Number.account_id == account_id,
            m.Number.state == NumberState.IN_SERVICE.value,
        )
        if excluding:
            stmt = stmt.where(m.Number.e164.not_in(list(excluding)))
        if after is not None:
            stmt = stmt.where(m.Number.e164 > after)
        if upto is not None:
            stmt = stmt.where(m.Number.e164 <= upto)
        return list(await self.s.scalars(stmt.order_by(m.Number.e164).limit(limit)))

    # --- writing -------------------------------------------------------------------

    async def insert_owned(self, numbers: Sequence[str], account_id: str, now: datetime) -> None:
        """Numbers the bot did not know, in service on the account (bought elsewhere).

        One multi-row INSERT per page; active at Kazoo already, so nothing waits
        for an activation notice.
        """
        if not numbers:
            return
        for e164 in numbers:  # a row not there yet is available at the carrier
            check_number_move(e164, NumberState.AVAILABLE, NumberState.IN_SERVICE, sync=OWNED)
        await self.s.execute(
            insert(NUMBERS),
            [
                {
                    "e164": e164,
                    "state": NumberState.IN_SERVICE.value,
                    "kind": kind_of(e164).value,
                    "npa": e164[2:5],
                    "account_id": account_id,
                    "activate_at": now,
                    "activated_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for e164 in numbers
            ],
        )

    async def make_owned(self, row: MirrorRow, account_id: str, now: datetime) -> bool:
        """In service on the account, if the row is still as read (its version)."""
        check_number_move(row.e164, NumberState(row.state), NumberState.IN_SERVICE, sync=OWNED)
        values: dict[str, Any] = {
            "state": NumberState.IN_SERVICE.value,
            "account_id": account_id,
            "hold_request_id": None,
            "hold_expires_at": None,
            "aging_until": None,
            "updated_at": now,
            "version": m.Number.version + 1,
        }
        if row.state != NumberState.IN_SERVICE.value:
            values.update(activate_at=now, activated_at=now)
        result = await self.s.execute(
            update(m.Number)
            .where(m.Number.e164 == row.e164, m.Number.version == row.version)
            .values(**values)
        )
        return rowcount(result) == 1

    async def mark_gone(self, e164: str, account_id: str, now: datetime) -> MirrorRow | None:
        """No longer the account's at Kazoo: back to the carrier's pool, unrouted, no e911.

        Returns the row as it was, or None when it changed meanwhile.
        """
        before = (await self.rows([e164])).get(e164)
        if (
            before is None
            or before.account_id != account_id
            or before.state != NumberState.IN_SERVICE.value
        ):
            return None
        check_number_move(e164, NumberState.IN_SERVICE, NumberState.AVAILABLE, sync=GONE)
        result = await self.s.execute(
            update(m.Number)
            .where(m.Number.e164 == e164, m.Number.version == before.version)
            .values(
                state=NumberState.AVAILABLE.value,
                account_id=None,
                updated_at=now,
                version=m.Number.version + 1,
            )
        )
        if rowcount(result) != 1:
            return None
        await self.clear_assignment(e164)
        await self.clear_e911(e164)
        return before

    async def set_assignment(
        self, e164: str, account_id: str, assignment: Assignment, now: datetime
    ) -> str | None:
        """Record the route; returns the number that lost the faxbox to it, if any."""
        displaced: str | None = None
        if assignment.kind is AssignmentKind.FAXBOX:
            # The faxbox answers on one number: Kazoo moved it, so the old one lets go.
            displaced = await self.s.scalar(
                select(m.NumberAssignment.number).where(
                    m.NumberAssignment.account_id == account_id,
                    m.NumberAssignment.kind == AssignmentKind.FAXBOX.value,
                    m.NumberAssignment.number != e164,
                )
            )
            if displaced is not None:
                await self.clear_assignment(displaced)
        fields = {
            "account_id": account_id,
            "kind": assignment.kind.value,
            "user_id": assignment.user_id,
            "assigned_by": SYNC_ACTOR,
            "assigned_at": now,
        }
        stmt = upsert_insert(self.s, m.NumberAssignment).values(number=e164, **fields)
        await self.s.execute(stmt.on_conflict_do_update(index_elements=["number"], set_=fields))
        return displaced

    async def set_assignments(
        self, routed: Sequence[tuple[str, Assignment]], account_id: str, now: datetime
    ) -> None:
        """Many routes at once (one executemany); not for the faxbox (see `set_assignment`)."""
        if not routed:
            return
        assert all(a.kind is not AssignmentKind.FAXBOX for _, a in routed)
        table = m.NumberAssignment.__table__
        stmt = upsert_insert(self.s, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["number"],
            set_={
                name: stmt.excluded[name]
                for name in ("account_id", "kind", "user_id", "assigned_by", "assigned_at")
            },
        )
        await self.s.execute(
            stmt,
            [
                {
                    "number": e164,
                    "account_id": account_id,
                    "kind": a.kind.value,
                    "user_id": a.user_id,
                    "assigned_by": SYNC_ACTOR,
                    "assigned_at": now,
                }
                for e164, a in routed
            ],
        )

    async def clear_assignment(self, e164: str) -> bool:
        return await self._numbers.unassign(e164)

    async def set_e911(self, e164: str, address: E911Address, now: datetime) -> None:
        # An address Kazoo holds with no status is taken as provisioned.
        if address.status is None:
            address = replace(address, status=E911Status.PROVISIONED)
        await self._numbers.set_e911(e164, address, SYNC_ACTOR, now)

    async def clear_e911(self, e164: str) -> bool:
        return await self._numbers.remove_e911(e164)

    async def audit(self, events: Sequence[SyncEvent], workspace_id: str, actor: str) -> None:
        """One `number.synced` event per actual change, written together."""
        if not events:
            return
        await self.s.execute(
            insert(AUDIT),
            [
                {
                    "at": e.at,
                    "workspace_id": workspace_id,
                    "actor": actor,
                    "action": "number.synced",
                    "number": e.number,
                    "request_id": None,
                    "before": e.before,
                    "after": e.after,
                    "detail": "Kazoo sync",
                }
                for e in events
            ],
        )
