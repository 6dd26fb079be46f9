"""Owned numbers: search, assignment, spares, move, release/restore, listing, e911."""

from __future__ import annotations

from decimal import Decimal

import pytest

import bot.service.numbers as numbers_module
from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.phone import Kind
from bot.domain.records import AssignmentFilter, NumberFilter
from bot.domain.states import NumberState
from bot.service.context import Actor
from tests.conftest import FakeClock
from tests.integration.helpers import buy

ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "caller_name": "Acme Corp",
}


async def _owned(rt: Runtime, admin: Actor, manager: Actor, count: int = 3) -> list[str]:
    done = await buy(rt, admin, manager, count=count)
    return list(done.numbers)


@pytest.mark.parametrize(
    ("kind", "text", "field"),
    [
        ("local", "abc", "area_code"),
        ("local", "911", "area_code"),
        ("local", "999", "area_code"),
        ("local", "800", "area_code"),
        ("local", "41", "area_code"),
        ("local", "415-011", "area_code"),
        ("tollfree", "801", "prefix"),
        ("fax", "", "kind"),
        ("fax", "415", "kind"),
    ],
)
async def test_search_refuses_bad_input(
    runtime: Runtime, admin: Actor, kind: str, text: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        await runtime.services.numbers.search(admin, kind, text)
    assert err.value.field == field
    assert err.value.message


@pytest.mark.parametrize("text", ["415", "(415)", "415-629", "+1 415", " 1 415 "])
async def test_search_accepts_what_people_type(runtime: Runtime, admin: Actor, text: str) -> None:
    result = await runtime.services.numbers.search(admin, "local", text, quantity=5)
    assert len(result.available) == 5
    assert all(n.e164.startswith("+1415") for n in result.available)
    assert all(n.place == "San Francisco, CA" or n.place for n in result.available)
    assert all(n.monthly == Decimal("1.00") for n in result.available)


async def test_search_is_deterministic_and_tollfree(runtime: Runtime, admin: Actor) -> None:
    one = await runtime.services.numbers.search(admin, "tollfree", "888", quantity=4)
    two = await runtime.services.numbers.search(admin, "tollfree", "888", quantity=4)
    assert [n.e164 for n in one.available] == [n.e164 for n in two.available]
    assert {n.kind for n in one.available} == {Kind.TOLLFREE}
    assert {n.place for n in one.available} == {"Toll-free"}
    assert {n.monthly for n in one.available} == {Decimal("2.00")}
    with pytest.raises(InvalidInput):
        await runtime.services.numbers.search(admin, "local", "415", quantity=51)


async def test_spares_come_first_and_free(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    numbers = await _owned(runtime, admin, manager, count=2)
    await runtime.services.numbers.unassign(admin, numbers[0])
    result = await runtime.services.numbers.search(admin, "local", "415", quantity=3)
    assert [s.e164 for s in result.spares] == [numbers[0]]
    assert result.spares[0].monthly == Decimal("0") and result.spares[0].spare
    assert result.all[0].e164 == numbers[0]
    assert numbers[0] not in {n.e164 for n in result.available}
    # A spare in a purchase selection is assigned at no charge.
    request = await runtime.services.purchases.request_purchase(
        admin, [numbers[0], result.available[0].e164], Assignment.parse("conference")
    )
    assert request.quote.items[0].quantity == 1 and request.quote.spare_count == 1
    await runtime.services.purchases.accept(admin, request.id)
    await runtime.services.purchases.approve(manager, request.id)
    done = await runtime.services.purchases.provision(request.id)
    assert done.state.value == "completed"
    conf = await runtime.services.numbers.list_numbers(
        admin, NumberFilter(assignment=AssignmentFilter.parse("conference"))
    )
    assert sorted(r.e164 for r in conf.rows) == sorted([numbers[0], result.available[0].e164])


async def test_assign_unassign_and_add_spares(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    n = runtime.services.numbers
    numbers = await _owned(runtime, admin, manager, count=3)
    spare = await n.unassign(admin, numbers[0])
    assert spare.is_spare
    assert (await n.unassign(admin, numbers[0])).is_spare  # repeating changes nothing
    assert [s.e164 for s in await n.spares(admin)] == [numbers[0]]
    added = await n.add_spares(admin, [numbers[0]], Assignment.user("U42"))
    assert added[0].assignment == Assignment.user("U42")
    with pytest.raises(Conflict, match="no longer spare"):
        await n.add_spares(admin, [numbers[0]], Assignment.main())
    users = await n.list_numbers(admin, NumberFilter(assignment=AssignmentFilter.parse("users")))
    assert [r.e164 for r in users.rows] == [numbers[0]]
    assigned = await n.assign(admin, numbers[1], "faxbox")
    assert assigned.assignment == Assignment.parse("faxbox")
    with pytest.raises(Conflict, match="Faxbox"):
        await n.assign(admin, numbers[2], "faxbox")
    with pytest.raises(NotAllowed):
        await n.assign(member, numbers[2], "conference")
    with pytest.raises(InvalidInput):
        await n.assign(admin, numbers[2], "kitchen")
    with pytest.raises(NotFound):
        await n.assign(admin, "+14155552671", "main")
    history = await n.history(admin, numbers[0])
    assert [e.action for e in history][-2:] == ["number.unassigned", "number.assigned"]


async def test_list_filters_and_keyset_pages(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    numbers = sorted(await _owned(runtime, admin, manager, count=5))
    n = runtime.services.numbers
    first = await n.list_numbers(member, limit=2)  # anyone may read
    assert [r.e164 for r in first.rows] == numbers[:2]
    second = await n.list_numbers(member, after=first.next_after, limit=2)
    third = await n.list_numbers(member, after=second.next_after, limit=2)
    assert [r.e164 for r in second.rows + third.rows] == numbers[2:]
    assert third.next_after is None
    await n.unassign(admin, numbers[0])
    spare = await n.list_numbers(admin, NumberFilter(assignment=AssignmentFilter.parse("spare")))
    assert [r.e164 for r in spare.rows] == [numbers[0]]
    assert (
        len(
            (
                await n.list_numbers(admin, NumberFilter(assignment=AssignmentFilter.parse("main")))
            ).rows
        )
        == 4
    )
    assert (await n.list_numbers(admin, NumberFilter(kind=Kind.TOLLFREE))).rows == ()
    assert len((await n.list_numbers(admin, NumberFilter(e911=False))).rows) == 5


async def test_e911_outcomes(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    e = runtime.services.e911
    number = (await _owned(runtime, admin, manager, count=1))[0]
    with pytest.raises(InvalidInput) as bad_state:
        await e.set_address(admin, number, {**ADDRESS, "region": "California"})
    assert bad_state.value.field == "region"
    with pytest.raises(InvalidInput) as bad_zip:
        await e.set_address(admin, number, {**ADDRESS, "postal_code": "9410"})
    assert bad_zip.value.field == "postal_code"
    with pytest.raises(InvalidInput) as not_found:
        await e.set_address(admin, number, {**ADDRESS, "postal_code": "00012"})
    assert not_found.value.field == "postal_code"
    with pytest.raises(InvalidInput) as no_house:
        await e.set_address(admin, number, {**ADDRESS, "street_address": "0 Main St"})
    assert no_house.value.field == "street_address"
    choices = await e.set_address(admin, number, {**ADDRESS, "street_address": "140 Main"})
    assert not choices.saved
    assert [c.street_address for c in choices.candidates] == [
        "140 Main St",
        "140 Main Ave",
        "140 Main Blvd",
    ]
    unchanged = await runtime.services.numbers.get(admin, number)
    assert unchanged.e911 is None
    picked = choices.candidates[1]
    saved = await e.set_address(
        admin,
        number,
        {
            "street_address": picked.street_address,
            "locality": picked.locality,
            "region": picked.region,
            "postal_code": picked.postal_code,
            "caller_name": picked.caller_name,
        },
    )
    assert saved.saved and saved.number.emergency_enabled
    assert saved.number.e911 is not None and saved.number.e911.latitude is not None
    summary = await runtime.services.numbers.summary(admin)
    assert summary.counts.emergency_enabled == 1 and summary.main_emergency_enabled
    assert summary.monthly_total == Decimal("3.00")  # number + e911


async def test_last_emergency_main_number_keeps_it(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    e = runtime.services.e911
    a, b = await _owned(runtime, admin, manager, count=2)
    await e.set_address(admin, a, ADDRESS)
    for refused in (
        e.remove_address(admin, a),
        runtime.services.numbers.unassign(admin, a),
        runtime.services.numbers.release(admin, a),
    ):
        with pytest.raises(Conflict, match="last emergency-enabled main number"):
            await refused
    await e.set_address(admin, b, ADDRESS)
    removed = await e.remove_address(admin, a)
    assert removed.e911 is None
    with pytest.raises(Conflict):
        await e.remove_address(admin, b)


async def test_move_between_accounts(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    a, b = await _owned(runtime, admin, manager, count=2)
    await runtime.services.e911.set_address(admin, b, ADDRESS)
    await runtime.services.e911.set_address(admin, a, ADDRESS)
    branch = await runtime.services.accounts.create(admin, "Branch Office")
    with pytest.raises(Conflict):
        await runtime.services.accounts.create(admin, "branch office")
    with pytest.raises(NotFound):
        await runtime.services.numbers.move(admin, a, "Nowhere")
    with pytest.raises(InvalidInput):
        await runtime.services.numbers.move(admin, a, "Main")
    moved = await runtime.services.numbers.move(admin, a, "Branch Office")
    assert moved.account_id == branch.id and moved.assignment is None
    assert moved.emergency_enabled  # e911 kept
    await runtime.services.accounts.use(admin, "C2", "Branch Office")
    there = await runtime.services.numbers.list_numbers(admin, channel_id="C2")
    assert [r.e164 for r in there.rows] == [a]
    here = await runtime.services.numbers.list_numbers(admin)
    assert [r.e164 for r in here.rows] == [b]
    with pytest.raises(NotAllowed):
        await runtime.services.accounts.use(member, "C3", "Branch Office")


async def test_release_ages_and_restore(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    n = runtime.services.numbers
    a, b = await _owned(runtime, admin, manager, count=2)
    released = await n.release(admin, a)
    assert released.state is NumberState.AGING and released.assignment is None
    assert (await n.release(admin, a)).state is NumberState.AGING  # double click
    summary = await n.summary(admin)
    assert summary.counts.total_aging == 1 and summary.monthly_total == Decimal("1.00")
    restored = await n.restore(admin, a)
    # Restore brings its assignment back too (release cleared it).
    assert restored.state is NumberState.IN_SERVICE and restored.assignment == Assignment.main()
    await n.release(admin, b)
    clock.advance(days=31)
    await runtime.services.lifecycle.activation_sweep()
    with pytest.raises(NotFound):
        await n.restore(admin, b)
    async with runtime.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(b)
        assert record is not None and record.state is NumberState.AVAILABLE
        assert record.account_id is None  # back on the carrier's shelf
        assert await uow.numbers.unavailable_among([b], clock()) == set()


async def test_spares_alone_need_no_approval(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    a, _ = await _owned(runtime, admin, manager, count=2)
    await runtime.services.numbers.unassign(admin, a)
    request = await runtime.services.purchases.request_purchase(
        admin, [a], Assignment.parse("conference")
    )
    assert request.quote.items == () and request.quote.difference == Decimal("0.00")
    accepted = await runtime.services.purchases.accept(admin, request.id)
    assert not accepted.needs_approval
    done = await runtime.services.purchases.provision(request.id)
    assert done.state.value == "completed"


async def test_activation_notice_once_and_not_stuck_on_released_numbers(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    done = await buy(runtime, admin, manager, count=2)
    assert await runtime.services.lifecycle.activation_sweep() == []  # not active yet
    await runtime.services.numbers.release(admin, done.numbers[0])
    clock.advance(minutes=31 * 24 * 60)  # aged out: activation reset, back to the carrier
    ready = await runtime.services.lifecycle.activation_sweep()
    assert [r.id for r in ready] == [done.id]
    assert await runtime.services.lifecycle.activation_sweep() == []  # told once


async def test_database_refuses_a_second_faxbox_number(
    runtime: Runtime, admin: Actor, manager: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The partial unique index holds even if the count check were skipped or raced."""
    a, b = await _owned(runtime, admin, manager, count=2)
    await runtime.services.numbers.assign(admin, a, "faxbox")

    async def no_check(*_: object, **__: object) -> None:
        return None

    # The service's count check and the carrier's own one-faxbox rule both skipped.
    monkeypatch.setattr(numbers_module, "check_assignable", no_check)
    assert runtime.carrier is not None
    monkeypatch.setattr(runtime.carrier, "route", no_check)
    with pytest.raises(Conflict, match="Faxbox"):
        await runtime.services.numbers.assign(admin, b, "faxbox")
    record = await runtime.services.numbers.get(admin, b)
    assert record.assignment == Assignment.main()  # unchanged, nothing half-done
