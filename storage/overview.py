"""Queries behind the overviews: accounts with their use, a number's history, App Home viewers.

Kept apart from `repositories.py` because they only read across tables (and
remember who looks at the App Home); they change no number or request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.records import AccountUse, AuditEntry, Viewer
from bot.domain.states import OPEN_REQUEST_STATES, NumberState
from storage import models as m
from storage.rows import upsert_insert


def _entry(row: m.AuditEvent) -> AuditEntry:
    return AuditEntry(
        row.id, row.at, row.actor, row.action, row.number, row.request_id,
        row.before, row.after, row.detail,
    )  # fmt: skip


class OverviewRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def account_use(self, workspace_id: str) -> dict[str, AccountUse]:
        """Per account of the workspace: numbers it holds (in service or aging), bound channels."""
        owned = (NumberState.IN_SERVICE.value, NumberState.AGING.value)
        counts = await self.s.execute(
            select(m.Number.account_id, func.count())
            .join(m.Account, m.Account.id == m.Number.account_id)
            .where(m.Account.workspace_id == workspace_id, m.Number.state.in_(owned))
            .group_by(m.Number.account_id)
        )
        numbers = {str(a): int(n) for a, n in counts}
        bindings = await self.s.execute(
            select(m.ChannelBinding.account_id, m.ChannelBinding.channel_id)
            .where(m.ChannelBinding.workspace_id == workspace_id)
            .order_by(m.ChannelBinding.channel_id)
        )
        channels: dict[str, list[str]] = {}
        for account_id, channel_id in bindings:
            channels.setdefault(str(account_id), []).append(str(channel_id))
        ids = set(numbers) | set(channels)
        return {i: AccountUse(numbers.get(i, 0), tuple(channels.get(i, ()))) for i in ids}

    async def number_history(
        self, workspace_id: str, e164: str, *, offset: int, limit: int
    ) -> list[AuditEntry]:
        """The workspace's events for a number, newest first (never another workspace's)."""
        rows = await self.s.scalars(
            select(m.AuditEvent)
            .where(m.AuditEvent.number == e164, m.AuditEvent.workspace_id == workspace_id)
            .order_by(m.AuditEvent.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_entry(r) for r in rows]

    async def last_event(self, workspace_id: str, e164: str, action: str) -> AuditEntry | None:
        row = await self.s.scalar(
            select(m.AuditEvent)
            .where(
                m.AuditEvent.number == e164,
                m.AuditEvent.workspace_id == workspace_id,
                m.AuditEvent.action == action,
            )
            .order_by(m.AuditEvent.id.desc())
            .limit(1)
        )
        return _entry(row) if row else None

    async def open_requests(self, account_id: str) -> int:
        """Requests of the account still waiting for Accept or for approval."""
        n = await self.s.scalar(
            select(func.count()).where(
                m.PurchaseRequest.account_id == account_id,
                m.PurchaseRequest.state.in_([s.value for s in OPEN_REQUEST_STATES]),
            )
        )
        return int(n or 0)

    async def remember_viewer(
        self, workspace_id: str, user_id: str, account_id: str | None, now: datetime
    ) -> None:
        """Upsert: the viewer's chosen account is kept unless a new one is given."""
        values = {"workspace_id": workspace_id, "user_id": user_id, "opened_at": now}
        changes: dict[str, object] = {"opened_at": now}
        if account_id is not None:
            values["account_id"] = account_id
            changes["account_id"] = account_id
        await self.s.execute(
            upsert_insert(self.s, m.HomeViewer)
            .values(**values)
            .on_conflict_do_update(index_elements=["workspace_id", "user_id"], set_=changes)
        )

    async def viewer(self, workspace_id: str, user_id: str) -> Viewer | None:
        row = await self.s.get(m.HomeViewer, (workspace_id, user_id))
        return Viewer(row.user_id, row.account_id) if row else None

    async def viewers(self, workspace_id: str, since: datetime, limit: int) -> list[Viewer]:
        rows = await self.s.scalars(
            select(m.HomeViewer)
            .where(m.HomeViewer.workspace_id == workspace_id, m.HomeViewer.opened_at >= since)
            .order_by(m.HomeViewer.opened_at.desc())
            .limit(limit)
        )
        return [Viewer(r.user_id, r.account_id) for r in rows]
