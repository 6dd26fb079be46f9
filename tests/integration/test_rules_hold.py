"""Rules that must hold for every way of changing a number, checked one path at a time.

The account's last emergency-enabled main number keeps that role whether it is
unassigned, released (tests/integration/test_numbers.py), moved or reassigned
(here); and a move is audited as a move, with where it went.
"""

from __future__ import annotations

import pytest

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.errors import Conflict
from bot.domain.records import AuditEntry
from bot.service.context import Actor
from tests.integration.helpers import buy

ADDRESS = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "caller_name": "Acme Corp",
}
LAST_MAIN = "last emergency-enabled main number"


async def _two_main_numbers(rt: Runtime, admin: Actor, manager: Actor) -> tuple[str, str]:
    done = await buy(rt, admin, manager, count=2)
    a, b = done.numbers
    return a, b


async def _entries(rt: Runtime, admin: Actor, number: str, action: str) -> list[AuditEntry]:
    return [e for e in await rt.services.numbers.history(admin, number) if e.action == action]


async def test_move_refuses_the_last_emergency_main_number(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    n = runtime.services.numbers
    a, b = await _two_main_numbers(runtime, admin, manager)
    await runtime.services.e911.set_address(admin, a, ADDRESS)
    home = (await n.get(admin, a)).account_id
    await runtime.services.accounts.create(admin, "Branch Office")

    with pytest.raises(Conflict, match=LAST_MAIN):
        await n.move(admin, a, "Branch Office")
    kept = await n.get(admin, a)
    assert kept.account_id == home and kept.assignment == Assignment.main()
    assert kept.emergency_enabled
    assert await _entries(runtime, admin, a, "number.moved") == []

    # A main number without e911 is not the one the rule protects: it moves.
    moved_b = await n.move(admin, b, "Branch Office")
    assert moved_b.account_id != home


async def test_move_allowed_once_another_main_number_has_e911(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    n = runtime.services.numbers
    a, b = await _two_main_numbers(runtime, admin, manager)
    await runtime.services.e911.set_address(admin, a, ADDRESS)
    await runtime.services.e911.set_address(admin, b, ADDRESS)
    branch = await runtime.services.accounts.create(admin, "Branch Office")

    moved = await n.move(admin, a, "Branch Office")
    assert moved.account_id == branch.id and moved.emergency_enabled
    # b is now the account's only emergency-enabled main number.
    with pytest.raises(Conflict, match=LAST_MAIN):
        await n.move(admin, b, "Branch Office")


@pytest.mark.parametrize("target", ["user:U123ABC", "user:W0ABC123", "conference", "faxbox"])
async def test_reassigning_the_last_emergency_main_number_is_refused(
    runtime: Runtime, admin: Actor, manager: Actor, target: str
) -> None:
    n = runtime.services.numbers
    a, _ = await _two_main_numbers(runtime, admin, manager)
    await runtime.services.e911.set_address(admin, a, ADDRESS)

    with pytest.raises(Conflict, match=LAST_MAIN):
        await n.assign(admin, a, target)
    kept = await n.get(admin, a)
    assert kept.assignment == Assignment.main()
    assert not [
        e
        for e in await _entries(runtime, admin, a, "number.assigned")
        if e.after and e.after.get("assignment") != "main"
    ]
    # Assigning it to main again changes nothing and is not refused.
    assert (await n.assign(admin, a, "main")).assignment == Assignment.main()


async def test_reassigning_a_main_number_allowed_while_another_keeps_e911(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    n = runtime.services.numbers
    a, b = await _two_main_numbers(runtime, admin, manager)
    await runtime.services.e911.set_address(admin, a, ADDRESS)
    await runtime.services.e911.set_address(admin, b, ADDRESS)

    after = await n.assign(admin, a, "user:U123ABC")
    assert after.assignment == Assignment.user("U123ABC")
    with pytest.raises(Conflict, match=LAST_MAIN):
        await n.assign(admin, b, "conference")
    assert (await n.get(admin, b)).assignment == Assignment(AssignmentKind.MAIN)


async def test_a_move_is_audited_as_a_move(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    n = runtime.services.numbers
    a, _ = await _two_main_numbers(runtime, admin, manager)
    home = (await n.get(admin, a)).account_id
    branch = await runtime.services.accounts.create(admin, "Branch Office")

    await n.move(admin, a, "Branch Office")

    history = await n.history(admin, a)
    landed = [e for e in history if e.after and e.after.get("account_id") == branch.id]
    assert len(landed) == 1, history
    event = landed[0]
    assert event.action == "number.moved"
    assert event.actor == admin.user_id
    assert event.number == a
    assert event.before is not None and event.before["account_id"] == home
    assert event.before["assignment"] == "main"
    assert event.after is not None and event.after["assignment"] is None
    assert event.detail is not None and "Branch Office" in event.detail
    assert [e.action for e in history].count("number.moved") == 1
