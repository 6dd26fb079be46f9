"""The mirror sync from the stand-in Kazoo into a real SQLite file.

Kazoo is the system of record: numbers, states, accounts, routes and e911
land in the bot's database; a change made behind the bot's back appears after
the next sync, audited once; a sync with nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.backends.carrier import CarrierUser, OwnedPage
from bot.backends.guard import in_write_unit_of_work
from bot.backends.kazoo import KazooCarrier
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import E911Status
from bot.domain.mirror import SyncReport
from bot.domain.phone import Kind
from bot.domain.states import NumberState
from bot.service.mirror import MirrorSync
from storage import models as m
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.mirror import mirror_units
from storage.uow import UnitOfWorkFactory
from tests.kazoo_standin import CHILD_A, CHILD_B, ROOT, KazooStandIn, Number

WORKSPACE = "T1"
SLACK = {"alice@example.com": "UALICE"}


class Watched:
    """The carrier, refusing any call made while a write unit of work is open."""

    def __init__(self, inner: KazooCarrier) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            assert not in_write_unit_of_work(), f"{name} called inside a write transaction"
            self.calls.append(name)
            return await method(*args, **kwargs)

        return call


@pytest.fixture
async def uows(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'mirror.db'}")
    await upgrade(engine)
    yield UnitOfWorkFactory(session_factory(engine))
    await engine.dispose()


async def slack_for(user: CarrierUser) -> str | None:
    return SLACK.get(user.email or "")


def sync(carrier: Any, uows: UnitOfWorkFactory, page_size: int = 2) -> MirrorSync:
    return MirrorSync(
        carrier,
        mirror_units(uows),
        workspace_id=WORKSPACE,
        root_account_id=ROOT,
        root_name="Main",
        slack_user_for=slack_for,
        page_size=page_size,
    )


def own(standin: KazooStandIn, account: str, *numbers: str, features: tuple[str, ...] = ()) -> None:
    for e164 in numbers:
        standin.model.numbers[e164] = Number(
            e164, "in_service", assigned_to=account, features=list(features)
        )


def route(standin: KazooStandIn, account: str, callflow: str, e164: str) -> None:
    doc = standin.model.callflows[account][f"{account}-{callflow}"]
    doc["numbers"] = [n for n in doc["numbers"] if not n.startswith("undefined")] + [e164]
    standin.model.refresh_used_by(account)


def give_e911(standin: KazooStandIn, e164: str) -> None:
    number = standin.model.numbers[e164]
    number.features.append("e911")
    number.public["e911"] = {
        "street_address": "116 Natoma St",
        "locality": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "caller_name": "Acme West",
        "status": "PROVISIONED",
        "latitude": "37.786",
        "longitude": "-122.397",
        "plus_four": "1234",
    }


async def state(uows: UnitOfWorkFactory) -> dict[str, tuple[str, str | None, str | None]]:
    """e164 -> (state, Kazoo account id, assignment key)."""
    async with uows(write=False) as uow:
        rows = await uow.session.execute(
            select(m.Number.e164, m.Number.state, m.Account.external_id, m.NumberAssignment)
            .outerjoin(m.Account, m.Account.id == m.Number.account_id)
            .outerjoin(m.NumberAssignment, m.NumberAssignment.number == m.Number.e164)
        )
        return {
            e164: (st, ext, Assignment(AssignmentKind(a.kind), a.user_id).key if a else None)
            for e164, st, ext, a in rows
        }


async def audits(uows: UnitOfWorkFactory) -> list[tuple[str | None, Any, Any]]:
    async with uows(write=False) as uow:
        rows = await uow.session.execute(
            select(m.AuditEvent.number, m.AuditEvent.before, m.AuditEvent.after)
            .where(m.AuditEvent.action == "number.synced")
            .order_by(m.AuditEvent.id)
        )
        return [tuple(r) for r in rows]


A1, A2, A3, A4, A5 = "+14155550101", "+14155550102", "+14155550103", "+14155550104", "+18005550105"
B1 = "+12125550201"


@pytest.fixture
def kazoo_numbers(standin: KazooStandIn) -> KazooStandIn:
    own(standin, CHILD_A, A1, A2, A3, A4, A5)
    own(standin, CHILD_B, B1)
    route(standin, CHILD_A, "main", A1)
    route(standin, CHILD_A, "conf", A2)
    route(standin, CHILD_A, "alice", A3)
    route(standin, CHILD_A, "fax", A5)
    give_e911(standin, A1)
    return standin


async def test_a_first_sync_mirrors_numbers_accounts_routes_and_e911(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    report = await sync(carrier, uows).run()

    assert await state(uows) == {
        A1: ("in_service", CHILD_A, "main"),
        A2: ("in_service", CHILD_A, "conference"),
        A3: ("in_service", CHILD_A, "user:UALICE"),
        A4: ("in_service", CHILD_A, None),
        A5: ("in_service", CHILD_A, "faxbox"),
        B1: ("in_service", CHILD_B, None),
    }
    # KAZOO_ACCOUNT_ID's own account (the default) and its two sub-accounts.
    assert (report.accounts, report.accounts_created) == (3, 3)
    assert (report.seen, report.added, report.changed, report.gone) == (6, 6, 0, 0)
    assert report.pages >= 4  # page size 2: paged with start_key
    assert report.unmatched_users == 0 and report.e911_read == 1
    async with uows(write=False) as uow:
        names = {a.name: a.external_id for a in await uow.accounts.all(WORKSPACE)}
        record = await uow.numbers.get(A1)
        tollfree = await uow.numbers.get(A5)
    assert names == {"Reseller": ROOT, "Acme West": CHILD_A, "Acme East": CHILD_B}
    async with uows(write=False) as uow:
        default = await uow.accounts.default_of(WORKSPACE)
    assert default is not None and default.external_id == ROOT
    assert record is not None and record.e911 is not None
    assert record.e911.street_address == "116 Natoma St"
    assert record.e911.status is E911Status.PROVISIONED
    assert str(record.e911.latitude) == "37.786000"
    assert tollfree is not None and tollfree.kind is Kind.TOLLFREE
    history = await audits(uows)
    assert sorted(n for n, _, _ in history) == sorted([A1, A2, A3, A4, A5, B1])
    assert all(before is None for _, before, _ in history)
    assert history[0][2] == {
        "state": "in_service",
        "account_id": history[0][2]["account_id"],
        "assignment": "main",
        "e911": "PROVISIONED",
    }


async def test_a_second_sync_with_nothing_new_changes_and_audits_nothing(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    await sync(carrier, uows).run()
    before = (await state(uows), len(await audits(uows)))
    again = await sync(carrier, uows).run()
    assert again.changes == 0 and again.unchanged == 6 and again.accounts_created == 0
    assert (await state(uows), len(await audits(uows))) == before


async def test_changes_made_in_smartpbx_appear_after_the_next_sync_audited_once(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    standin = kazoo_numbers
    await sync(carrier, uows).run()
    first = len(await audits(uows))
    # Behind the bot's back: A1 released, A2 moved to Acme East, A4 routed to main,
    # A3 unrouted, B1 gains e911, and a new number bought on Acme West.
    standin.model.leave_callflows(CHILD_A, A1)
    standin.model.release(A1, ROOT)
    standin.model.leave_callflows(CHILD_A, A2)
    standin.change_number(A2, assigned_to=CHILD_B, used_by="")
    route(standin, CHILD_A, "main", A4)
    standin.model.leave_callflows(CHILD_A, A3)
    standin.model.refresh_used_by(CHILD_A)
    give_e911(standin, B1)
    new = "+14155550199"
    own(standin, CHILD_A, new)

    report = await sync(carrier, uows).run()

    assert await state(uows) == {
        A1: ("available", None, None),
        A2: ("in_service", CHILD_B, None),
        A3: ("in_service", CHILD_A, None),
        A4: ("in_service", CHILD_A, "main"),
        A5: ("in_service", CHILD_A, "faxbox"),
        B1: ("in_service", CHILD_B, None),
        new: ("in_service", CHILD_A, None),
    }
    assert (report.added, report.changed, report.gone) == (1, 4, 1)
    history = (await audits(uows))[first:]
    assert sorted(n for n, _, _ in history) == sorted([A1, A2, A3, A4, B1, new])
    gone = next(h for h in history if h[0] == A1)
    assert gone[1]["assignment"] == "main" and gone[1]["e911"] == "PROVISIONED"
    assert gone[2] == {"state": "available", "account_id": None, "assignment": None, "e911": None}
    async with uows(write=False) as uow:
        released = await uow.numbers.get(A1)
        b1 = await uow.numbers.get(B1)
    assert released is not None and released.e911 is None
    assert b1 is not None and b1.e911 is not None
    assert (await sync(carrier, uows).run()).changes == 0


async def test_no_carrier_call_runs_inside_a_write_transaction(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    watched = Watched(carrier)
    report = await sync(watched, uows).run()
    assert report.added == 6
    assert {"accounts", "routes", "users", "list_numbers", "e911_of"} <= set(watched.calls)


async def test_an_account_emptied_at_kazoo_is_emptied_in_the_mirror(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    await sync(carrier, uows).run()
    for e164 in (A1, A2, A3, A4, A5):
        kazoo_numbers.model.leave_callflows(CHILD_A, e164)
        kazoo_numbers.model.release(e164, ROOT)
    report = await sync(carrier, uows).run()
    assert report.gone == 5
    assert {e: s for e, s in (await state(uows)).items() if s[0] == "in_service"} == {
        B1: ("in_service", CHILD_B, None)
    }


async def test_a_number_held_by_the_bots_own_request_is_left_to_the_request(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    async with uows() as uow:
        await uow.numbers.hold(
            [A4],
            request_id="req-1",
            account_id="ignored",
            until=datetime.now(UTC),
            now=datetime.now(UTC),
            kinds={A4: Kind.LOCAL},
        )
        await uow.commit()
    report = await sync(carrier, uows).run()
    assert report.skipped == 1
    assert (await state(uows))[A4] == ("reserved", None, None)


async def test_a_kazoo_user_without_a_slack_user_is_kept_and_counted(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    SLACK.pop("alice@example.com")
    try:
        report = await sync(carrier, uows).run()
    finally:
        SLACK["alice@example.com"] = "UALICE"
    assert report.unmatched_users == 1
    assert (await state(uows))[A3] == ("in_service", CHILD_A, f"user:{CHILD_A}-user-alice")


async def test_the_root_account_is_the_workspace_default_named_as_kazoo_names_it(
    standin: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    """The default made before Kazoo was connected is adopted by KAZOO_ACCOUNT_ID's
    account, sub-accounts or not: an unbound channel works on it."""
    standin.model.accounts[ROOT].name = "Acme (East), Inc."
    own(standin, ROOT, A1)
    async with uows() as uow:
        await uow.accounts.ensure_workspace(WORKSPACE, datetime.now(UTC))
        main = await uow.accounts.create("acct-main", WORKSPACE, "Main", datetime.now(UTC))
        await uow.accounts.set_default(WORKSPACE, main.id)
        await uow.commit()
    report = await sync(carrier, uows).run()
    again = await sync(carrier, uows).run()
    assert (report.accounts, report.accounts_created, report.added) == (3, 2, 1)
    assert (again.accounts_created, again.added) == (0, 0)
    async with uows(write=False) as uow:
        record = await uow.numbers.get(A1)
        default = await uow.accounts.default_of(WORKSPACE)
    assert record is not None and record.account_id == main.id
    assert default is not None and (default.id, default.name, default.external_id) == (
        main.id,
        "Acme (East), Inc.",
        ROOT,
    )


async def test_a_page_out_of_order_marks_nothing_gone(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    await sync(carrier, uows).run()
    kazoo_numbers.model.release(A4, ROOT)

    class Repeating(Watched):
        """Every later page starts again with the account's first number: out of order."""

        def __getattr__(self, name: str) -> Any:
            if name != "list_numbers":
                return super().__getattr__(name)

            async def pages(**kwargs: Any) -> OwnedPage:
                page = await self.inner.list_numbers(**kwargs)
                if kwargs.get("start_key") is None:
                    return page
                first = await self.inner.list_numbers(account_id=kwargs["account_id"], page_size=1)
                return OwnedPage(first.numbers + page.numbers, page.next_start_key)

            return pages

    shuffled = Repeating(carrier)
    report = await sync(shuffled, uows).run()
    assert report.gone == 0 and CHILD_A in report.gone_check_skipped
    assert (await state(uows))[A4][0] == NumberState.IN_SERVICE.value


async def test_open_port_requests_are_not_spares_and_gone_detection_still_works(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    """M4: Kazoo merges open port requests into every listing page (even a rejected one):
    they are not the account's numbers, and they must not break the key order gone-detection
    relies on across pages."""
    standin = kazoo_numbers
    porting, rejected = "+14155550150", "+14155550160"
    standin.model.port_requests["port1"] = {
        "account": CHILD_A,
        "state": "submitted",
        "numbers": [porting],
    }
    standin.model.port_requests["port2"] = {
        "account": CHILD_A,
        "state": "rejected",
        "numbers": [rejected],
    }
    await sync(carrier, uows).run()
    standin.model.leave_callflows(CHILD_A, A4)
    standin.model.release(A4, ROOT)

    report = await sync(carrier, uows).run()

    mirrored = await state(uows)
    assert porting not in mirrored and rejected not in mirrored
    assert report.gone == 1 and report.gone_check_skipped == []
    assert mirrored[A4] == ("available", None, None)
    listings = [c for c in standin.calls("GET") if c.path.endswith(f"{CHILD_A}/phone_numbers")]
    assert listings and all(c.query.get("include_ports") == "false" for c in listings)


async def test_a_port_request_row_is_skipped_even_if_kazoo_lists_it(
    standin: KazooStandIn, carrier: KazooCarrier
) -> None:
    own(standin, CHILD_A, A1)
    standin.model.port_requests["port1"] = {
        "account": CHILD_A,
        "state": "submitted",
        "numbers": [A2],
    }
    standin.fail_next(
        200,
        method="GET",
        path=f"{CHILD_A}/phone_numbers",
        data={
            "numbers": {A1: {"state": "in_service"}, A2: {"state": "port_in", "port_id": "port1"}}
        },
    )

    page = await carrier.list_numbers(account_id=CHILD_A)

    assert [n.e164 for n in page.numbers] == [A1]


def test_the_report_line_counts() -> None:
    report = SyncReport(accounts=2, pages=3, seen=5, added=1, changed=2, gone=1, unchanged=2)
    assert report.changes == 4
    assert report.line() == (
        "2 accounts, 3 pages, 5 numbers seen: 1 added, 2 changed, 1 gone, 2 unchanged, 0 skipped"
    )


async def test_the_faxbox_moving_to_another_number_is_audited_once_per_number(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    await sync(carrier, uows).run()
    first = len(await audits(uows))
    fax = kazoo_numbers.model.callflows[CHILD_A][f"{CHILD_A}-fax"]
    fax["numbers"] = [A4]  # A4 sorts before A5, on the same page: A5 is displaced first
    kazoo_numbers.model.refresh_used_by(CHILD_A)
    report = await sync(carrier, uows, page_size=50).run()
    current = await state(uows)
    assert (current[A4], current[A5]) == (
        ("in_service", CHILD_A, "faxbox"),
        ("in_service", CHILD_A, None),
    )
    assert sorted(n for n, _, _ in (await audits(uows))[first:]) == sorted([A4, A5])
    assert report.changed == 1  # A4; A5's change is the displacement


async def test_a_number_in_a_callflow_the_bot_does_not_manage_is_counted(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    kazoo_numbers.model.callflows[CHILD_A]["ivr"] = {
        "id": "ivr",
        "name": "After hours",
        "type": "ring_group_tree",
        "numbers": [A4],
        "flow": {"module": "menu", "data": {}, "children": {}},
    }
    kazoo_numbers.model.refresh_used_by(CHILD_A)
    report = await sync(carrier, uows).run()
    assert report.in_use_elsewhere == 1
    assert (await state(uows))[A4] == ("in_service", CHILD_A, None)


async def test_several_fax_numbers_made_in_smartpbx_sync_without_churn(
    kazoo_numbers: KazooStandIn, carrier: KazooCarrier, uows: UnitOfWorkFactory
) -> None:
    """M5: SmartPBX lets MainFaxing hold several numbers; the first is the faxbox's (the one
    SmartPBX shows), the others are left to SmartPBX, and syncs do not flip between them."""
    route(kazoo_numbers, CHILD_A, "fax", A4)  # MainFaxing: [A5, A4]

    report = await sync(carrier, uows).run()

    current = await state(uows)
    assert (current[A5][2], current[A4][2]) == ("faxbox", None)
    assert report.in_use_elsewhere == 1
    before = len(await audits(uows))
    assert (await sync(carrier, uows).run()).changes == 0
    assert len(await audits(uows)) == before
