"""Assignment through SmartPBX's callflows: placeholders and other fields survive."""

from __future__ import annotations

import copy

import pytest

from bot.backends.carrier import NumberConflict, RouteTarget
from bot.backends.kazoo import KazooCarrier
from bot.domain.assignment import AssignmentKind
from tests.kazoo.helpers import bought
from tests.kazoo_standin import CHILD_A, KazooStandIn

MAIN = f"{CHILD_A}-main"
CONF = f"{CHILD_A}-conf"
FAX = f"{CHILD_A}-fax"
ALICE_CF = f"{CHILD_A}-alice"
ALICE = f"{CHILD_A}-user-alice"
BOB = f"{CHILD_A}-user-bob"


def callflow(standin: KazooStandIn, cf_id: str) -> dict[str, object]:
    return standin.model.callflows[CHILD_A][cf_id]


def without_numbers(doc: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in doc.items() if k != "numbers"}


@pytest.mark.parametrize(
    ("target", "cf_id", "expected"),
    [
        (RouteTarget.main(), MAIN, ["0", "{n}"]),
        (RouteTarget(AssignmentKind.CONFERENCE), CONF, ["{n}"]),
        (RouteTarget(AssignmentKind.FAXBOX), FAX, ["{n}"]),
        (RouteTarget.user(ALICE), ALICE_CF, ["1001", "{n}"]),
    ],
)
async def test_route_puts_the_number_in_the_target_callflow_and_keeps_every_other_field(
    carrier: KazooCarrier,
    standin: KazooStandIn,
    target: RouteTarget,
    cf_id: str,
    expected: list[str],
) -> None:
    [number] = await bought(carrier, CHILD_A)
    before = copy.deepcopy(callflow(standin, cf_id))

    await carrier.route(number, target, account_id=CHILD_A)

    after = callflow(standin, cf_id)
    assert after["numbers"] == [e.format(n=number) for e in expected]
    assert without_numbers(after) == without_numbers(before)
    assert standin.model.numbers[number].used_by == "callflow"
    routes = await carrier.routes(account_id=CHILD_A)
    assert routes == {number: target}


@pytest.mark.parametrize(
    ("target", "cf_id", "placeholder"),
    [
        (RouteTarget.main(), MAIN, ["0"]),
        (RouteTarget(AssignmentKind.CONFERENCE), CONF, ["undefinedconf"]),
        (RouteTarget(AssignmentKind.FAXBOX), FAX, ["undefinedfaxing"]),
        (RouteTarget.user(ALICE), ALICE_CF, ["1001"]),
    ],
)
async def test_unroute_leaves_the_placeholder_and_makes_the_number_spare(
    carrier: KazooCarrier,
    standin: KazooStandIn,
    target: RouteTarget,
    cf_id: str,
    placeholder: list[str],
) -> None:
    [number] = await bought(carrier, CHILD_A)
    before = copy.deepcopy(callflow(standin, cf_id))
    await carrier.route(number, target, account_id=CHILD_A)

    await carrier.unroute(number, account_id=CHILD_A)

    assert callflow(standin, cf_id) == before
    assert callflow(standin, cf_id)["numbers"] == placeholder
    status = await carrier.number_status(number, account_id=CHILD_A)
    assert status.spare


async def test_rerouting_moves_the_number_so_it_is_in_one_callflow_only(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2)
    await carrier.route(numbers[0], RouteTarget.main(), account_id=CHILD_A)
    await carrier.route(numbers[1], RouteTarget.main(), account_id=CHILD_A)

    await carrier.route(numbers[0], RouteTarget(AssignmentKind.CONFERENCE), account_id=CHILD_A)
    await carrier.route(numbers[0], RouteTarget.user(ALICE), account_id=CHILD_A)

    routed = standin.model.routed_numbers(CHILD_A)
    assert routed == {MAIN: [numbers[1]], CONF: [], FAX: [], ALICE_CF: [numbers[0]]}
    assert callflow(standin, CONF)["numbers"] == ["undefinedconf"]


async def test_routing_to_a_full_faxbox_is_a_conflict_and_changes_nothing(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2)
    await carrier.route(numbers[0], RouteTarget(AssignmentKind.FAXBOX), account_id=CHILD_A)

    with pytest.raises(NumberConflict, match="faxbox already answers"):
        await carrier.route(numbers[1], RouteTarget(AssignmentKind.FAXBOX), account_id=CHILD_A)

    assert callflow(standin, FAX)["numbers"] == [numbers[0]]


async def test_a_user_with_no_callflow_gets_a_clear_answer(carrier: KazooCarrier) -> None:
    [number] = await bought(carrier, CHILD_A)

    with pytest.raises(NumberConflict, match="no callflow of their own"):
        await carrier.route(number, RouteTarget.user(BOB), account_id=CHILD_A)


async def test_users_are_matched_by_email_ignoring_case(carrier: KazooCarrier) -> None:
    users = await carrier.users(account_id=CHILD_A)  # two pages of one each? page_size 2

    assert {u.email for u in users} == {"alice@example.com", "bob@example.com"}
    alice = await carrier.user_by_email("ALICE@example.com ", account_id=CHILD_A)
    assert alice is not None and alice.id == ALICE
    assert await carrier.user_by_email("nobody@example.com", account_id=CHILD_A) is None


async def test_a_placeholder_removed_in_smartpbx_is_put_back_first(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    callflow(standin, MAIN)["numbers"] = []

    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    assert callflow(standin, MAIN)["numbers"] == ["0", number]


async def test_a_number_routed_elsewhere_in_smartpbx_is_taken_out_first(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    callflow(standin, CONF)["numbers"] = [number]  # changed behind the bot's back
    standin.model.refresh_used_by(CHILD_A)

    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    assert callflow(standin, CONF)["numbers"] == ["undefinedconf"]
    assert callflow(standin, MAIN)["numbers"] == ["0", number]
