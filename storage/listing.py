"""The number list's queries: keyset pages in both directions, a capped count, the e911 check.

Every query walks an index in E.164 order from the cursor and stops after a page,
so a page costs the same at 10 numbers and at a million. A filter over several
states (in service and aging) runs one such walk per state and merges them: one
walk over `state IN (...)` would have to sort every matching row first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.assignment import AssignmentKind
from bot.domain.e911 import E911Status
from bot.domain.records import NumberFilter, NumberRecord
from bot.domain.states import NumberState
from storage import models as m
from storage.rows import apply_filter, number_record, with_details


def _by_assignment(flt: NumberFilter) -> bool:
    return flt.assignment is not None and not flt.assignment.spare


def _statement(
    account_id: str, flt: NumberFilter, states: tuple[NumberState, ...]
) -> tuple[Any, Any]:
    """The SELECT of the matching numbers in these states, and the column to order by."""
    in_states = (
        m.Number.state == states[0].value
        if len(states) == 1
        else m.Number.state.in_([s.value for s in states])
    )
    if _by_assignment(flt):
        # Driven from `assignments`, as NumbersRepo.page: few rows of a big account.
        a = m.NumberAssignment
        stmt = (
            select(m.Number, a, m.E911Record)
            .select_from(a)
            .join(m.Number, m.Number.e164 == a.number)
            .outerjoin(m.E911Record, m.E911Record.number == a.number)
            .where(
                a.account_id == account_id,
                m.Number.account_id == account_id,
                in_states,
            )
        )
        key = a.number
    else:
        stmt = with_details().where(m.Number.account_id == account_id, in_states)
        key = m.Number.e164
    return apply_filter(stmt, replace(flt, states=states)), key


class ListingRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def page(
        self,
        account_id: str,
        flt: NumberFilter,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int,
    ) -> list[NumberRecord]:
        """Up to `limit` numbers in E.164 order: the first ones after `after`, or the last
        ones before `before` (still returned in ascending order)."""
        backwards = before is not None
        walks = []
        for state in flt.states:
            stmt, key = _statement(account_id, flt, (state,))
            if after is not None:
                stmt = stmt.where(key > after)
            if before is not None:
                stmt = stmt.where(key < before)
            walks.append((stmt.order_by(key.desc() if backwards else key).limit(limit), key))
        if len(walks) == 1:
            rows = await self.s.execute(walks[0][0])
        else:
            # One statement: each state's walk picks its keys, the outer query merges them.
            picked = union_all(
                *(select(w.with_only_columns(k).subquery().c[0]) for w, k in walks)
            ).subquery()
            e164 = m.Number.e164
            rows = await self.s.execute(
                with_details()
                .where(e164.in_(select(picked.c[0])))
                .order_by(e164.desc() if backwards else e164)
                .limit(limit)
            )
        found = [number_record(r[0], r[1], r[2]) for r in rows]
        if backwards:
            found.reverse()
        return found

    async def count_and_emergency(
        self, account_id: str, flt: NumberFilter, *, cap: int
    ) -> tuple[int, bool]:
        """How many numbers match (counted up to `cap`), and whether a main number of the
        account is emergency enabled: one statement, as the list needs both on every page."""
        stmt, key = _statement(account_id, flt, flt.states)
        limited = stmt.with_only_columns(key).limit(cap).subquery()
        counted = select(func.count()).select_from(limited).scalar_subquery()
        row = (await self.s.execute(select(counted, _emergency_main(account_id).exists()))).one()
        return int(row[0] or 0), bool(row[1])

    async def has_emergency_main(self, account_id: str) -> bool:
        """Whether any in-service main number of the account is emergency enabled."""
        return await self.s.scalar(_emergency_main(account_id)) is not None


def _emergency_main(account_id: str) -> Any:
    """The first in-service, emergency-enabled main number of the account (or none)."""
    a = m.NumberAssignment
    return (
        select(a.number)
        .join(m.E911Record, m.E911Record.number == a.number)
        .join(m.Number, m.Number.e164 == a.number)
        .where(
            a.account_id == account_id,
            a.kind == AssignmentKind.MAIN.value,
            m.E911Record.status == E911Status.PROVISIONED.value,
            m.Number.state == NumberState.IN_SERVICE.value,
            m.Number.account_id == account_id,
        )
        .limit(1)
    )
