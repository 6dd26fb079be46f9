"""The change skeleton and its rules on in-memory ports (no SQL, no event loop tricks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.backends.carrier import Carrier, NumberConflict
from bot.config import Settings
from bot.domain.assignment import Assignment
from bot.domain.e911 import E911Address, E911Status
from bot.domain.records import AccountInfo
from bot.domain.refusals import ChangedMeanwhile, LastEmergencyMain
from bot.service.changes import apply_changes
from bot.service.context import Actor, Deps
from bot.service.numbers import Assign, Move, Release, Unassign
from tests.unit.fakes import FakeAccounts, FakeCarrier, FakeStore

MAIN = AccountInfo("acc-main", "T1", "Main")
BRANCH = AccountInfo("acc-branch", "T1", "Branch")
ADMIN = Actor("UADMIN", "T1", is_admin=True)
A, B = "+14156939183", "+14156939184"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PROVISIONED = E911Address(
    street_address="140 Main St",
    extended_address=None,
    locality="San Francisco",
    region="CA",
    postal_code="94103",
    caller_name="Acme Corp",
    status=E911Status.PROVISIONED,
)


def world(carrier: FakeCarrier | None = None) -> tuple[Deps, FakeStore, FakeCarrier, Any]:
    store, carrier = FakeStore(), carrier or FakeCarrier()
    # The fake rings and moves numbers: it is the phone system (and stands in as supplier).
    capabilities = Carrier(carrier, phone_system=carrier)  # type: ignore[arg-type]
    deps = Deps(uow=store, carrier=capabilities, settings=Settings(), clock=lambda: NOW)  # type: ignore[arg-type]
    return deps, store, carrier, FakeAccounts(MAIN)


async def test_a_settled_change_tells_no_one_and_writes_nothing() -> None:
    deps, store, carrier, accounts = world()
    store.own(MAIN, A, assignment=Assignment.main())
    [after] = await apply_changes(deps, accounts, ADMIN, [A], Assign(Assignment.main(), by="U"))
    assert after.assignment == Assignment.main()
    assert carrier.calls == [] and store.audit.events == []
    assert store.opened == [False]  # one read, no write transaction


async def test_a_change_tells_the_carrier_then_writes_one_audit_event() -> None:
    deps, store, carrier, accounts = world()
    store.own(MAIN, A, assignment=Assignment.main())
    await apply_changes(deps, accounts, ADMIN, [A], Move(BRANCH))
    assert carrier.calls == [("move:acc-main->acc-branch", A)]
    assert store.numbers.rows[A].account_id == BRANCH.id
    assert store.numbers.rows[A].assignment is None
    [event] = store.audit.events
    assert (event.action, event.number, event.detail) == ("number.moved", A, "Main → Branch")
    assert event.before is not None and event.before["account_id"] == MAIN.id
    assert event.after is not None and event.after["account_id"] == BRANCH.id


@pytest.mark.parametrize(
    "command",
    [Move(BRANCH), Assign(Assignment.parse("conference"), by="U"), Unassign(), Release(NOW)],
    ids=["move", "reassign", "unassign", "release"],
)
async def test_the_last_emergency_main_number_is_refused_before_the_carrier(
    command: Any,
) -> None:
    deps, store, carrier, accounts = world()
    store.own(MAIN, A, assignment=Assignment.main(), e911=PROVISIONED)
    with pytest.raises(LastEmergencyMain) as refused:
        await apply_changes(deps, accounts, ADMIN, [A], command)
    assert refused.value.number.startswith("(415) 693-9183")
    assert carrier.calls == [] and store.audit.events == []
    # Another emergency-enabled main number lifts the rule.
    store.own(MAIN, B, assignment=Assignment.main(), e911=PROVISIONED)
    await apply_changes(deps, accounts, ADMIN, [A], command)
    assert len(store.audit.events) == 1


async def test_a_number_changed_meanwhile_is_refused_and_the_carrier_put_back() -> None:
    store = FakeStore()

    class Racing(FakeCarrier):
        async def route(self, e164: str, target: object, *, account_id: str) -> None:
            await super().route(e164, target, account_id=account_id)
            if len(self.calls) == 1:  # someone else unassigns it meanwhile
                rows = store.numbers.rows
                rows[e164] = replace(rows[e164], assignment=None)

    deps, _, carrier, accounts = world(Racing())
    deps.uow = store
    store.own(MAIN, A, assignment=Assignment.main())
    with pytest.raises(ChangedMeanwhile):
        await apply_changes(
            deps, accounts, ADMIN, [A], Assign(Assignment.parse("conference"), by="U")
        )
    # Told once to route, then put back where the database said it rang.
    assert carrier.calls == [("route", A), ("route", A)]
    assert store.audit.events == []


async def test_a_carrier_refusal_writes_nothing() -> None:
    carrier = FakeCarrier(refuse=NumberConflict("The faxbox already answers on another."))
    deps, store, _, accounts = world(carrier)
    store.own(MAIN, A)
    with pytest.raises(NumberConflict):
        await apply_changes(deps, accounts, ADMIN, [A], Assign(Assignment.parse("faxbox"), by="U"))
    assert store.numbers.rows[A].assignment is None
    assert store.audit.events == [] and store.opened == [False]
