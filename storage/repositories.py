"""Repositories: the only code that writes SQL. They return domain records, not ORM rows.

State changes are conditional updates (`WHERE state = expected`) whose row
count tells the caller whether it won; nothing here decides business rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address, E911Status
from bot.domain.names import name_key
from bot.domain.phone import Kind
from bot.domain.records import (
    AccountInfo,
    AuditEntry,
    AuditEvent,
    NumberCounts,
    NumberFilter,
    NumberRecord,
    PurchaseItemRecord,
    PurchaseRequestRecord,
    RequestStamp,
)
from bot.domain.states import (
    ItemOutcome,
    NumberState,
    RequestState,
    check_number_move,
    check_request_move,
)
from storage import models as m
from storage.rows import (
    apply_filter,
    number_record,
    rowcount,
    upsert_insert,
    with_details,
)


class AccountsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    @staticmethod
    def _info(row: m.Account) -> AccountInfo:
        return AccountInfo(row.id, row.workspace_id, row.name, row.external_id)

    async def ensure_workspace(self, workspace_id: str, now: datetime) -> str | None:
        """Make sure the workspace has a row; returns its default account's id, if any."""
        ws = await self.s.get(m.Workspace, workspace_id)
        if ws is None:
            await self.s.execute(
                upsert_insert(self.s, m.Workspace)
                .values(id=workspace_id, name="", created_at=now)
                .on_conflict_do_nothing()
            )
            ws = await self.s.get(m.Workspace, workspace_id)
        assert ws is not None
        return ws.default_account_id

    async def set_default(self, workspace_id: str, account_id: str) -> None:
        await self.s.execute(
            update(m.Workspace)
            .where(m.Workspace.id == workspace_id)
            .values(default_account_id=account_id)
        )

    async def get(self, account_id: str) -> AccountInfo | None:
        row = await self.s.get(m.Account, account_id)
        return self._info(row) if row else None

    async def default_of(self, workspace_id: str) -> AccountInfo | None:
        row = await self.s.scalar(
            select(m.Account)
            .join(m.Workspace, m.Workspace.default_account_id == m.Account.id)
            .where(m.Workspace.id == workspace_id)
        )
        return self._info(row) if row else None

    async def by_name(self, workspace_id: str, name: str) -> AccountInfo | None:
        """By its key (`name_key`): SQL's `lower()` folds ASCII only, so it is not used."""
        row = await self.s.scalar(
            select(m.Account).where(
                m.Account.workspace_id == workspace_id,
                m.Account.name_key == name_key(name),
            )
        )
        return self._info(row) if row else None

    async def create(
        self, account_id: str, workspace_id: str, name: str, now: datetime
    ) -> AccountInfo:
        row = m.Account(id=account_id, workspace_id=workspace_id, name=name, created_at=now)
        self.s.add(row)
        await self.s.flush()
        return self._info(row)

    async def all(self, workspace_id: str) -> list[AccountInfo]:
        rows = await self.s.scalars(
            select(m.Account).where(m.Account.workspace_id == workspace_id).order_by(m.Account.name)
        )
        return [self._info(r) for r in rows]

    async def binding(self, workspace_id: str, channel_id: str) -> str | None:
        return await self.s.scalar(
            select(m.ChannelBinding.account_id).where(
                m.ChannelBinding.workspace_id == workspace_id,
                m.ChannelBinding.channel_id == channel_id,
            )
        )

    async def bind(
        self, workspace_id: str, channel_id: str, account_id: str, actor: str, now: datetime
    ) -> None:
        stmt = upsert_insert(self.s, m.ChannelBinding).values(
            workspace_id=workspace_id,
            channel_id=channel_id,
            account_id=account_id,
            bound_by=actor,
            bound_at=now,
        )
        await self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "channel_id"],
                set_={"account_id": account_id, "bound_by": actor, "bound_at": now},
            )
        )


class NumbersRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, e164: str) -> NumberRecord | None:
        row = (await self.s.execute(with_details().where(m.Number.e164 == e164))).first()
        return number_record(row[0], row[1], row[2]) if row else None

    async def get_many(self, numbers: Iterable[str]) -> dict[str, NumberRecord]:
        wanted = list(numbers)
        if not wanted:
            return {}
        rows = await self.s.execute(with_details().where(m.Number.e164.in_(wanted)))
        return {r[0].e164: number_record(r[0], r[1], r[2]) for r in rows}

    async def all_owned(self) -> list[NumberRecord]:
        """Every number an account owns (in service or aging), for a carrier to be told."""
        rows = await self.s.execute(
            with_details()
            .where(
                m.Number.state.in_([NumberState.IN_SERVICE.value, NumberState.AGING.value]),
                m.Number.account_id.is_not(None),
            )
            .order_by(m.Number.e164)
        )
        return [number_record(r[0], r[1], r[2]) for r in rows]

    async def unavailable_among(self, numbers: Sequence[str], now: datetime) -> set[str]:
        """Which of these carrier numbers someone holds, owns or keeps aging."""
        if not numbers:
            return set()
        rows = await self.s.scalars(
            select(m.Number.e164).where(
                m.Number.e164.in_(list(numbers)),
                m.Number.state != NumberState.AVAILABLE.value,
                # A hold past its expiry no longer blocks anyone; a hold with no expiry
                # (accepted, being bought) blocks until the purchase settles it.
                or_(
                    m.Number.state != NumberState.RESERVED.value,
                    m.Number.hold_expires_at.is_(None),
                    m.Number.hold_expires_at > now,
                ),
            )
        )
        return set(rows)

    async def hold(
        self,
        numbers: Sequence[str],
        *,
        request_id: str,
        account_id: str,
        until: datetime,
        now: datetime,
        kinds: dict[str, Kind],
    ) -> set[str]:
        """Reserve numbers for a request; returns the ones this request now holds.

        One upsert: a new row, or a free row (available, or held past expiry) taken over.
        A lapsed hold taken over is given back, then held: both moves are checked.
        """
        if not numbers:
            return set()
        for n in numbers:
            check_number_move(n, NumberState.RESERVED, NumberState.AVAILABLE)
            check_number_move(n, NumberState.AVAILABLE, NumberState.RESERVED)
        values = [
            {
                "e164": n,
                "state": NumberState.RESERVED.value,
                "kind": kinds[n].value,
                "npa": n[2:5],
                "account_id": None,
                "hold_request_id": request_id,
                "hold_expires_at": until,
                "updated_at": now,
                "version": 1,
            }
            for n in numbers
        ]
        table = m.Number.__table__
        stmt = upsert_insert(self.s, table).values(values)
        free = or_(
            table.c.state == NumberState.AVAILABLE.value,
            and_(table.c.state == NumberState.RESERVED.value, table.c.hold_expires_at <= now),
        )
        await self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["e164"],
                set_={
                    "state": NumberState.RESERVED.value,
                    "account_id": None,
                    "hold_request_id": request_id,
                    "hold_expires_at": until,
                    "updated_at": now,
                    "version": table.c.version + 1,
                },
                where=free,
            )
        )
        held = await self.s.scalars(
            select(m.Number.e164).where(
                m.Number.e164.in_(list(numbers)),
                m.Number.hold_request_id == request_id,
                m.Number.state == NumberState.RESERVED.value,
            )
        )
        return set(held)

    async def extend_holds(self, request_id: str, until: datetime | None, now: datetime) -> int:
        """Move a request's hold expiry; None keeps the numbers held until told otherwise."""
        result = await self.s.execute(
            update(m.Number)
            .where(
                m.Number.hold_request_id == request_id,
                m.Number.state == NumberState.RESERVED.value,
            )
            .values(hold_expires_at=until, updated_at=now)
        )
        return rowcount(result)

    async def release_holds(
        self, request_id: str, now: datetime, numbers: Sequence[str] | None = None
    ) -> list[str]:
        """Give back what a request still holds (all, or just `numbers`)."""
        where = [
            m.Number.hold_request_id == request_id,
            m.Number.state == NumberState.RESERVED.value,
        ]
        if numbers is not None:
            where.append(m.Number.e164.in_(list(numbers)))
        held = list(await self.s.scalars(select(m.Number.e164).where(*where)))
        for n in held:
            check_number_move(n, NumberState.RESERVED, NumberState.AVAILABLE)
        if held:
            await self.s.execute(
                update(m.Number)
                .where(*where)
                .values(
                    state=NumberState.AVAILABLE.value,
                    hold_request_id=None,
                    hold_expires_at=None,
                    updated_at=now,
                    version=m.Number.version + 1,
                )
            )
        return held

    def _lapsed(self, now: datetime) -> list[Any]:
        return [
            m.Number.state == NumberState.RESERVED.value,
            m.Number.hold_expires_at <= now,
        ]

    async def has_lapsed_holds(self, now: datetime) -> bool:
        """Whether a hold ran out and still marks its number (until the sweep expires it)."""
        found = await self.s.scalar(select(m.Number.e164).where(*self._lapsed(now)).limit(1))
        return found is not None

    async def release_lapsed_holds(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """Give back numbers whose hold ran out; (number, account that held it) for each."""
        rows = (
            await self.s.execute(
                select(m.Number.e164, m.PurchaseRequest.account_id)
                .join(m.PurchaseRequest, m.PurchaseRequest.id == m.Number.hold_request_id)
                .where(*self._lapsed(now))
                .limit(limit)
            )
        ).all()
        released = [(str(e164), str(account)) for e164, account in rows]
        for n, _ in released:
            check_number_move(n, NumberState.RESERVED, NumberState.AVAILABLE)
        if released:
            await self.s.execute(
                update(m.Number)
                .where(*self._lapsed(now), m.Number.e164.in_([n for n, _ in released]))
                .values(
                    state=NumberState.AVAILABLE.value,
                    hold_request_id=None,
                    hold_expires_at=None,
                    updated_at=now,
                    version=m.Number.version + 1,
                )
            )
        return released

    async def mark_purchased(
        self,
        e164: str,
        *,
        request_id: str,
        account_id: str,
        now: datetime,
        activate_at: datetime,
    ) -> bool:
        """reserved (held by this request) → in_service on the account."""
        check_number_move(e164, NumberState.RESERVED, NumberState.IN_SERVICE)
        result = await self.s.execute(
            update(m.Number)
            .where(
                m.Number.e164 == e164,
                m.Number.state == NumberState.RESERVED.value,
                m.Number.hold_request_id == request_id,
            )
            .values(
                state=NumberState.IN_SERVICE.value,
                account_id=account_id,
                hold_request_id=None,
                hold_expires_at=None,
                purchased_at=now,
                activate_at=activate_at,
                activated_at=None,
                updated_at=now,
                version=m.Number.version + 1,
            )
        )
        return rowcount(result) == 1

    async def _move(
        self,
        e164: str,
        *,
        expected_state: NumberState,
        expected_account: str,
        now: datetime,
        values: dict[str, object],
        also: Sequence[Any] = (),
    ) -> bool:
        """Conditional update of one owned number: applies only if it is still as expected
        (and `also`, further conditions, hold).

        The move is checked against `NUMBER_TRANSITIONS` first: a forbidden one is never
        written, whatever the row says.
        """
        new_state = values.get("state", expected_state.value)
        check_number_move(e164, expected_state, NumberState(str(new_state)))
        result = await self.s.execute(
            update(m.Number)
            .where(
                m.Number.e164 == e164,
                m.Number.state == expected_state.value,
                m.Number.account_id == expected_account,
                *also,
            )
            .values(updated_at=now, version=m.Number.version + 1, **values)
        )
        return rowcount(result) == 1

    async def move_account(self, e164: str, source: str, target: str, now: datetime) -> bool:
        """in service on `source` → in service on `target`."""
        return await self._move(
            e164,
            expected_state=NumberState.IN_SERVICE,
            expected_account=source,
            now=now,
            values={"account_id": target},
        )

    async def start_aging(self, e164: str, account_id: str, until: datetime, now: datetime) -> bool:
        """in service → aging until `until` (released; it can be restored until then)."""
        return await self._move(
            e164,
            expected_state=NumberState.IN_SERVICE,
            expected_account=account_id,
            now=now,
            values={"state": NumberState.AGING.value, "aging_until": until},
        )

    async def restore(self, e164: str, account_id: str, now: datetime) -> bool:
        """aging → in service on the same account, while its aging has not ended."""
        return await self._move(
            e164,
            expected_state=NumberState.AGING,
            expected_account=account_id,
            now=now,
            values={"state": NumberState.IN_SERVICE.value, "aging_until": None},
            also=(m.Number.aging_until > now,),
        )

    async def claim_return(self, e164: str, account_id: str, version: int, now: datetime) -> bool:
        """The sweep's claim, before it calls the carrier: aging (ended) → returning.

        A number already returning (a carrier call that failed) is claimed again by its
        version, so of two sweeps retrying it one calls the carrier.
        """
        if await self._move(
            e164,
            expected_state=NumberState.AGING,
            expected_account=account_id,
            now=now,
            values={"state": NumberState.RETURNING.value},
            also=(m.Number.aging_until <= now, m.Number.version == version),
        ):
            return True
        result = await self.s.execute(
            update(m.Number)
            .where(
                m.Number.e164 == e164,
                m.Number.state == NumberState.RETURNING.value,
                m.Number.account_id == account_id,
                m.Number.version == version,
            )
            .values(updated_at=now, version=m.Number.version + 1)
        )
        return rowcount(result) == 1

    async def return_to_stock(self, e164: str, account_id: str, now: datetime) -> bool:
        """returning → available: the carrier has it back; the account's claim is gone."""
        return await self._move(
            e164,
            expected_state=NumberState.RETURNING,
            expected_account=account_id,
            now=now,
            values={
                "state": NumberState.AVAILABLE.value,
                "account_id": None,
                "aging_until": None,
                "activated_at": None,
                "activate_at": None,
            },
        )

    # --- assignments -------------------------------------------------------------

    async def assign(
        self, e164: str, account_id: str, assignment: Assignment, actor: str, now: datetime
    ) -> None:
        stmt = upsert_insert(self.s, m.NumberAssignment).values(
            number=e164,
            account_id=account_id,
            kind=assignment.kind.value,
            user_id=assignment.user_id,
            assigned_by=actor,
            assigned_at=now,
        )
        await self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["number"],
                set_={
                    "account_id": account_id,
                    "kind": assignment.kind.value,
                    "user_id": assignment.user_id,
                    "assigned_by": actor,
                    "assigned_at": now,
                },
            )
        )

    async def unassign(self, e164: str) -> bool:
        result = await self.s.execute(
            delete(m.NumberAssignment).where(m.NumberAssignment.number == e164)
        )
        return rowcount(result) == 1

    async def count_assigned(self, account_id: str, kind: AssignmentKind) -> int:
        count = await self.s.scalar(
            select(func.count()).where(
                m.NumberAssignment.account_id == account_id,
                m.NumberAssignment.kind == kind.value,
            )
        )
        return int(count or 0)

    # --- e911 ---------------------------------------------------------------------

    async def set_e911(self, e164: str, address: E911Address, actor: str, now: datetime) -> None:
        assert address.status is not None
        fields = {
            "street_address": address.street_address,
            "extended_address": address.extended_address,
            "locality": address.locality,
            "region": address.region,
            "postal_code": address.postal_code,
            "caller_name": address.caller_name,
            "status": address.status.value,
            "latitude": address.latitude,
            "longitude": address.longitude,
            "plus_four": address.plus_four,
            "updated_by": actor,
            "updated_at": now,
        }
        stmt = upsert_insert(self.s, m.E911Record).values(number=e164, **fields)
        await self.s.execute(stmt.on_conflict_do_update(index_elements=["number"], set_=fields))

    async def remove_e911(self, e164: str) -> bool:
        result = await self.s.execute(delete(m.E911Record).where(m.E911Record.number == e164))
        return rowcount(result) == 1

    async def emergency_main_numbers(self, account_id: str) -> list[str]:
        rows = await self.s.scalars(
            select(m.Number.e164)
            .join(m.NumberAssignment, m.NumberAssignment.number == m.Number.e164)
            .join(m.E911Record, m.E911Record.number == m.Number.e164)
            .where(
                m.Number.account_id == account_id,
                m.Number.state == NumberState.IN_SERVICE.value,
                m.NumberAssignment.kind == AssignmentKind.MAIN.value,
                m.E911Record.status == E911Status.PROVISIONED.value,
            )
        )
        return list(rows)

    # --- listing ------------------------------------------------------------------

    async def page(
        self, account_id: str, flt: NumberFilter, *, after: str | None, limit: int
    ) -> list[NumberRecord]:
        """One page in E.164 order, starting after `after` (keyset pagination)."""
        if flt.assignment is not None and not flt.assignment.spare:
            return await self._page_by_assignment(account_id, flt, after=after, limit=limit)
        stmt = with_details().where(
            m.Number.account_id == account_id,
            m.Number.state.in_([s.value for s in flt.states]),
        )
        stmt = apply_filter(stmt, flt)
        if after:
            stmt = stmt.where(m.Number.e164 > after)
        rows = await self.s.execute(stmt.order_by(m.Number.e164).limit(limit))
        return [number_record(r[0], r[1], r[2]) for r in rows]

    async def _page_by_assignment(
        self, account_id: str, flt: NumberFilter, *, after: str | None, limit: int
    ) -> list[NumberRecord]:
        """Driven from `assignments`: a filter that matches few numbers of a big account
        (one user, the faxbox) must not walk all of the account's numbers to find them."""
        a = m.NumberAssignment
        stmt = (
            select(m.Number, a, m.E911Record)
            .select_from(a)
            .join(m.Number, m.Number.e164 == a.number)
            .outerjoin(m.E911Record, m.E911Record.number == a.number)
            .where(
                a.account_id == account_id,
                m.Number.account_id == account_id,
                m.Number.state.in_([s.value for s in flt.states]),
            )
        )
        stmt = apply_filter(stmt, flt)
        if after:
            stmt = stmt.where(a.number > after)
        rows = await self.s.execute(stmt.order_by(a.number).limit(limit))
        return [number_record(r[0], r[1], r[2]) for r in rows]

    async def spares(
        self, account_id: str, *, kind: Kind | None, prefix: str | None, limit: int
    ) -> list[NumberRecord]:
        stmt = with_details().where(
            m.Number.account_id == account_id,
            m.Number.state == NumberState.IN_SERVICE.value,
            m.NumberAssignment.number.is_(None),
        )
        # A prefix decides the kind; testing kind too would steer SQLite to the kind index.
        if kind is not None and not prefix:
            stmt = stmt.where(m.Number.kind == kind.value)
        if prefix:
            stmt = stmt.where(m.Number.npa == prefix[:3])
            if len(prefix) > 3:
                stmt = stmt.where(m.Number.e164.startswith("+1" + prefix))
        rows = await self.s.execute(stmt.order_by(m.Number.e164).limit(limit))
        return [number_record(r[0], r[1], r[2]) for r in rows]

    async def counts(self, account_id: str) -> NumberCounts:
        """In-service and aging counts by kind, assigned by target, emergency enabled."""
        owned = m.Number.account_id == account_id
        in_service = m.Number.state == NumberState.IN_SERVICE.value
        by_state: dict[str, dict[Kind, int]] = {
            NumberState.IN_SERVICE.value: dict.fromkeys(Kind, 0),
            NumberState.AGING.value: dict.fromkeys(Kind, 0),
        }
        rows = await self.s.execute(
            select(m.Number.state, m.Number.kind, func.count())
            .where(owned)
            .group_by(m.Number.state, m.Number.kind)
        )
        for state, kind, n in rows:
            if state in by_state:
                by_state[state][Kind(kind)] = int(n)
        assigned = dict.fromkeys(AssignmentKind, 0)
        by_assignment = await self.s.execute(
            select(m.NumberAssignment.kind, func.count())
            .join(m.Number, m.Number.e164 == m.NumberAssignment.number)
            .where(owned, in_service)
            .group_by(m.NumberAssignment.kind)
        )
        for kind, n in by_assignment:
            assigned[AssignmentKind(kind)] = int(n)
        e911 = await self.s.scalar(
            select(func.count())
            .select_from(m.Number)
            .join(m.E911Record, m.E911Record.number == m.Number.e164)
            .where(owned, in_service, m.E911Record.status == E911Status.PROVISIONED.value)
        )
        provisioned = (
            select(m.E911Record.number)
            .where(m.E911Record.status == E911Status.PROVISIONED.value)
            .scalar_subquery()
        )
        without = await self.s.scalar(
            select(func.count())
            .select_from(m.NumberAssignment)
            .join(m.Number, m.Number.e164 == m.NumberAssignment.number)
            .where(owned, in_service, m.Number.e164.not_in(provisioned))
        )
        return NumberCounts(
            in_service=by_state[NumberState.IN_SERVICE.value],
            aging=by_state[NumberState.AGING.value],
            assigned=assigned,
            emergency_enabled=int(e911 or 0),
            assigned_without_e911=int(without or 0),
        )

    async def due_activation(self, now: datetime, limit: int = 200) -> list[str]:
        rows = await self.s.scalars(
            select(m.Number.e164)
            .where(
                m.Number.state == NumberState.IN_SERVICE.value,
                m.Number.activated_at.is_(None),
                m.Number.activate_at <= now,
            )
            .limit(limit)
        )
        return list(rows)

    async def mark_activated(self, e164: str, now: datetime) -> bool:
        result = await self.s.execute(
            update(m.Number)
            .where(
                m.Number.e164 == e164,
                m.Number.state == NumberState.IN_SERVICE.value,
                m.Number.activated_at.is_(None),
            )
            .values(activated_at=now, updated_at=now)
        )
        return rowcount(result) == 1

    async def aged_out(self, now: datetime, limit: int = 500) -> list[str]:
        """Numbers whose aging ended, and those a failed carrier call left returning."""
        rows = await self.s.scalars(
            select(m.Number.e164)
            .where(
                or_(
                    and_(
                        m.Number.state == NumberState.AGING.value,
                        m.Number.aging_until <= now,
                    ),
                    m.Number.state == NumberState.RETURNING.value,
                )
            )
            .limit(limit)
        )
        return list(rows)


def _request(row: m.PurchaseRequest, items: Sequence[m.PurchaseItem]) -> PurchaseRequestRecord:
    cards = row.approval_cards.get("cards", []) if row.approval_cards else []
    return PurchaseRequestRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        account_id=row.account_id,
        requester_id=row.requester_id,
        target=Assignment.parse(row.target),
        kind=Kind(row.kind),
        state=RequestState(row.state),
        quote=Quote.from_json(row.quote),
        hold_expires_at=row.hold_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        items=tuple(
            PurchaseItemRecord(i.number, ItemOutcome(i.outcome), i.reason, i.spare)
            for i in sorted(items, key=lambda i: i.position)
        ),
        accepted_at=row.accepted_at,
        accepted_by=row.accepted_by,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        approval_cards=tuple((c[0], c[1]) for c in cards),
        activation_notified_at=row.activation_notified_at,
    )


class RequestsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def create(
        self,
        *,
        request_id: str,
        workspace_id: str,
        account_id: str,
        requester_id: str,
        target: Assignment,
        kind: Kind,
        quote: Quote,
        numbers: Sequence[str],
        spares: Sequence[str] = (),
        hold_expires_at: datetime,
        channel_id: str | None,
        now: datetime,
    ) -> None:
        self.s.add(
            m.PurchaseRequest(
                id=request_id,
                workspace_id=workspace_id,
                account_id=account_id,
                requester_id=requester_id,
                target=target.key,
                kind=kind.value,
                state=RequestState.QUOTED.value,
                quote=quote.to_json(),
                monthly_increase=quote.difference,
                hold_expires_at=hold_expires_at,
                created_at=now,
                updated_at=now,
                channel_id=channel_id,
                approval_cards={"cards": []},
            )
        )
        await self.s.flush()
        if numbers:
            await self.s.execute(
                insert(m.PurchaseItem),
                [
                    {
                        "request_id": request_id,
                        "number": n,
                        "position": i,
                        "spare": n in spares,
                        "outcome": ItemOutcome.PENDING.value,
                        "updated_at": now,
                    }
                    for i, n in enumerate(numbers)
                ],
            )

    async def get(self, request_id: str) -> PurchaseRequestRecord | None:
        row = await self.s.get(m.PurchaseRequest, request_id, populate_existing=True)
        if row is None:
            return None
        items = await self.s.scalars(
            select(m.PurchaseItem).where(m.PurchaseItem.request_id == request_id)
        )
        return _request(row, list(items))

    async def transition(
        self,
        request_id: str,
        expected: RequestState | Sequence[RequestState],
        new: RequestState,
        now: datetime,
        stamp: RequestStamp | None = None,
    ) -> bool:
        """Move a request only if it is still in `expected`; the row count says who won.

        Every move goes through here, and each expected state is checked against
        `REQUEST_TRANSITIONS` first, so a forbidden move cannot be written.
        """
        states = [expected] if isinstance(expected, RequestState) else list(expected)
        for state in states:
            check_request_move(state, new)
        result = await self.s.execute(
            update(m.PurchaseRequest)
            .where(
                m.PurchaseRequest.id == request_id,
                m.PurchaseRequest.state.in_([s.value for s in states]),
            )
            .values(state=new.value, updated_at=now, **(stamp.columns() if stamp else {}))
        )
        return rowcount(result) == 1

    async def set_hold_expiry(self, request_id: str, until: datetime | None, now: datetime) -> None:
        """When the request's hold ends; None holds its numbers until provisioning ends."""
        await self.s.execute(
            update(m.PurchaseRequest)
            .where(m.PurchaseRequest.id == request_id)
            .values(hold_expires_at=until, updated_at=now)
        )

    async def record_cards(
        self,
        request_id: str,
        now: datetime,
        *,
        message: tuple[str, str] | None = None,
        approval_cards: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        """Where the request's cards are: its message (channel, ts) and the approvers' ones."""
        values: dict[str, object] = {"updated_at": now}
        if message is not None:
            values.update(channel_id=message[0], message_ts=message[1])
        if approval_cards is not None:
            values["approval_cards"] = {"cards": [list(c) for c in approval_cards]}
        await self.s.execute(
            update(m.PurchaseRequest).where(m.PurchaseRequest.id == request_id).values(**values)
        )

    async def set_item(
        self,
        request_id: str,
        number: str,
        outcome: ItemOutcome,
        reason: str | None,
        now: datetime,
        *,
        only_if: ItemOutcome | None = ItemOutcome.PENDING,
    ) -> bool:
        where = [m.PurchaseItem.request_id == request_id, m.PurchaseItem.number == number]
        if only_if is not None:
            where.append(m.PurchaseItem.outcome == only_if.value)
        result = await self.s.execute(
            update(m.PurchaseItem)
            .where(*where)
            .values(outcome=outcome.value, reason=reason, updated_at=now)
        )
        return rowcount(result) == 1

    async def find(
        self,
        workspace_id: str,
        *,
        requester_id: str | None = None,
        states: Sequence[RequestState] | None = None,
        limit: int = 20,
    ) -> list[PurchaseRequestRecord]:
        stmt = select(m.PurchaseRequest).where(m.PurchaseRequest.workspace_id == workspace_id)
        if requester_id:
            stmt = stmt.where(m.PurchaseRequest.requester_id == requester_id)
        if states:
            stmt = stmt.where(m.PurchaseRequest.state.in_([s.value for s in states]))
        rows = list(
            await self.s.scalars(stmt.order_by(m.PurchaseRequest.created_at.desc()).limit(limit))
        )
        if not rows:
            return []
        items = await self.s.scalars(
            select(m.PurchaseItem).where(m.PurchaseItem.request_id.in_([r.id for r in rows]))
        )
        by_request: dict[str, list[m.PurchaseItem]] = {}
        for item in items:
            by_request.setdefault(item.request_id, []).append(item)
        return [_request(r, by_request.get(r.id, [])) for r in rows]

    async def pending_for_target(
        self, account_id: str, target: Assignment, *, excluding: str | None = None
    ) -> int:
        """Numbers that open or running requests still mean to give this target."""
        stmt = (
            select(func.count())
            .select_from(m.PurchaseItem)
            .join(m.PurchaseRequest, m.PurchaseRequest.id == m.PurchaseItem.request_id)
            .where(
                m.PurchaseRequest.account_id == account_id,
                m.PurchaseRequest.target == target.key,
                m.PurchaseRequest.state.in_(
                    [
                        RequestState.QUOTED.value,
                        RequestState.AWAITING_APPROVAL.value,
                        RequestState.PROVISIONING.value,
                    ]
                ),
                m.PurchaseItem.outcome == ItemOutcome.PENDING.value,
            )
        )
        if excluding:
            stmt = stmt.where(m.PurchaseRequest.id != excluding)
        return int(await self.s.scalar(stmt) or 0)

    async def ids_in_state(self, state: RequestState, limit: int = 100) -> list[str]:
        rows = await self.s.scalars(
            select(m.PurchaseRequest.id)
            .where(m.PurchaseRequest.state == state.value)
            .order_by(m.PurchaseRequest.updated_at)
            .limit(limit)
        )
        return list(rows)

    async def provisioning_activity(self, limit: int = 100) -> dict[str, datetime]:
        """Requests in provisioning, each with when it or any of its items last changed."""
        last_item = (
            select(func.max(m.PurchaseItem.updated_at))
            .where(m.PurchaseItem.request_id == m.PurchaseRequest.id)
            .correlate(m.PurchaseRequest)
            .scalar_subquery()
        )
        rows = await self.s.execute(
            select(m.PurchaseRequest.id, m.PurchaseRequest.updated_at, last_item)
            .where(m.PurchaseRequest.state == RequestState.PROVISIONING.value)
            .order_by(m.PurchaseRequest.updated_at)
            .limit(limit)
        )
        return {rid: max(updated, item or updated) for rid, updated, item in rows}

    async def expired_open(self, now: datetime, limit: int = 100) -> list[str]:
        rows = await self.s.scalars(
            select(m.PurchaseRequest.id)
            .where(
                m.PurchaseRequest.state.in_(
                    [RequestState.QUOTED.value, RequestState.AWAITING_APPROVAL.value]
                ),
                m.PurchaseRequest.hold_expires_at <= now,
            )
            .limit(limit)
        )
        return list(rows)

    async def awaiting_activation_notice(self, limit: int = 100) -> list[str]:
        rows = await self.s.scalars(
            select(m.PurchaseRequest.id)
            .where(
                m.PurchaseRequest.state.in_(
                    [RequestState.COMPLETED.value, RequestState.PARTIALLY_COMPLETED.value]
                ),
                m.PurchaseRequest.activation_notified_at.is_(None),
            )
            .limit(limit)
        )
        return list(rows)

    async def mark_activation_notified(self, request_id: str, now: datetime) -> bool:
        """Claim the "numbers are active" notice, once, whichever replica gets here first."""
        result = await self.s.execute(
            update(m.PurchaseRequest)
            .where(
                m.PurchaseRequest.id == request_id,
                m.PurchaseRequest.activation_notified_at.is_(None),
            )
            .values(activation_notified_at=now)
        )
        return rowcount(result) == 1

    async def open_for_workspace(self, workspace_id: str) -> int:
        n = await self.s.scalar(
            select(func.count()).where(
                m.PurchaseRequest.workspace_id == workspace_id,
                m.PurchaseRequest.state.in_(
                    [RequestState.QUOTED.value, RequestState.AWAITING_APPROVAL.value]
                ),
            )
        )
        return int(n or 0)


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, event: AuditEvent, at: datetime) -> None:
        self.s.add(
            m.AuditEvent(
                at=at,
                workspace_id=event.workspace_id,
                actor=event.actor,
                action=event.action,
                number=event.number,
                request_id=event.request_id,
                before=dict(event.before) if event.before is not None else None,
                after=dict(event.after) if event.after is not None else None,
                detail=event.detail,
            )
        )
        await self.s.flush()

    @staticmethod
    def _entry(row: m.AuditEvent) -> AuditEntry:
        return AuditEntry(
            row.id, row.at, row.actor, row.action, row.number, row.request_id,
            row.before, row.after, row.detail,
        )  # fmt: skip

    async def for_number(self, workspace_id: str, e164: str, limit: int = 50) -> list[AuditEntry]:
        """One workspace's events for a number: a number can pass through several
        workspaces (released, then bought elsewhere), and each sees only its own."""
        rows = await self.s.scalars(
            select(m.AuditEvent)
            .where(m.AuditEvent.workspace_id == workspace_id, m.AuditEvent.number == e164)
            .order_by(m.AuditEvent.id)
            .limit(limit)
        )
        return [self._entry(r) for r in rows]

    async def latest_id(self, workspace_id: str, e164: str) -> int:
        """The id of the number's latest event in the workspace (0: none yet)."""
        found = await self.s.scalar(
            select(func.max(m.AuditEvent.id)).where(
                m.AuditEvent.workspace_id == workspace_id, m.AuditEvent.number == e164
            )
        )
        return int(found or 0)

    async def since(
        self, workspace_id: str, e164: str, after_id: int, limit: int = 20
    ) -> list[AuditEntry]:
        """The number's events in the workspace after the event `after_id`, oldest first."""
        rows = await self.s.scalars(
            select(m.AuditEvent)
            .where(
                m.AuditEvent.workspace_id == workspace_id,
                m.AuditEvent.number == e164,
                m.AuditEvent.id > after_id,
            )
            .order_by(m.AuditEvent.id)
            .limit(limit)
        )
        return [self._entry(r) for r in rows]

    async def for_request(self, request_id: str, limit: int = 100) -> list[AuditEntry]:
        rows = await self.s.scalars(
            select(m.AuditEvent)
            .where(m.AuditEvent.request_id == request_id)
            .order_by(m.AuditEvent.id)
            .limit(limit)
        )
        return [self._entry(r) for r in rows]


class DeliveriesRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def claim(self, key: str, now: datetime) -> bool:
        """True the first time a key is seen: the caller may do the side effect."""
        result = await self.s.execute(
            upsert_insert(self.s, m.ProcessedDelivery)
            .values(key=key, at=now)
            .on_conflict_do_nothing()
        )
        return rowcount(result) == 1

    async def release(self, key: str) -> None:
        await self.s.execute(delete(m.ProcessedDelivery).where(m.ProcessedDelivery.key == key))

    async def prune(self, before: datetime) -> int:
        """Forget claims made before `before`; returns how many."""
        result = await self.s.execute(
            delete(m.ProcessedDelivery).where(m.ProcessedDelivery.at < before)
        )
        return rowcount(result)
