"""Row mappers and query builders every repository shares, by public name.

Each repository module (`storage/repositories.py`, `listing.py`, `overview.py`,
`inventory.py`) turns rows into domain records with these, and builds its number
queries on `with_details` and `apply_filter`: one list query, one way to map a row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import E911Address, E911Status
from bot.domain.phone import Kind
from bot.domain.records import NumberFilter, NumberRecord
from bot.domain.states import NumberState
from storage import models as m


def rowcount(result: Any) -> int:
    """How many rows a conditional statement changed: who won."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT that supports ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def e911_address(row: m.E911Record | None) -> E911Address | None:
    if row is None:
        return None
    return E911Address(
        street_address=row.street_address,
        extended_address=row.extended_address,
        locality=row.locality,
        region=row.region,
        postal_code=row.postal_code,
        caller_name=row.caller_name,
        status=E911Status(row.status),
        latitude=row.latitude,
        longitude=row.longitude,
        plus_four=row.plus_four,
    )


def assignment_of(row: m.NumberAssignment | None) -> Assignment | None:
    if row is None:
        return None
    return Assignment(AssignmentKind(row.kind), row.user_id)


def number_record(
    row: m.Number, a: m.NumberAssignment | None = None, e: m.E911Record | None = None
) -> NumberRecord:
    return NumberRecord(
        e164=row.e164,
        state=NumberState(row.state),
        kind=Kind(row.kind),
        account_id=row.account_id,
        assignment=assignment_of(a),
        e911=e911_address(e),
        hold_request_id=row.hold_request_id,
        hold_expires_at=row.hold_expires_at,
        aging_until=row.aging_until,
        purchased_at=row.purchased_at,
        activate_at=row.activate_at,
        activated_at=row.activated_at,
        version=row.version,
    )


def with_details() -> Any:
    return (
        select(m.Number, m.NumberAssignment, m.E911Record)
        .outerjoin(m.NumberAssignment, m.NumberAssignment.number == m.Number.e164)
        .outerjoin(m.E911Record, m.E911Record.number == m.Number.e164)
    )


def apply_filter(stmt: Any, flt: NumberFilter) -> Any:
    a, wanted = m.NumberAssignment, flt.assignment
    if wanted is not None and wanted.spare:
        stmt = stmt.where(a.number.is_(None))
    elif wanted is not None and wanted.kind is not None:
        stmt = stmt.where(a.kind == wanted.kind.value)
        if wanted.user_id is not None:
            stmt = stmt.where(a.user_id == wanted.user_id)
    if flt.kind is not None and not flt.npa:  # an area code already decides the kind
        stmt = stmt.where(m.Number.kind == flt.kind.value)
    if flt.npa:
        stmt = stmt.where(m.Number.npa == flt.npa)
    if flt.e911 is True:
        stmt = stmt.where(m.E911Record.status == E911Status.PROVISIONED.value)
    elif flt.e911 is False:
        stmt = stmt.where(
            or_(m.E911Record.number.is_(None), m.E911Record.status != E911Status.PROVISIONED.value)
        )
    return stmt
