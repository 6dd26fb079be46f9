"""Assignment through SmartPBX's callflows, as SmartPBX does it: the main placeholder
swapped for "0", a faxbox for the fax number, a person's `mainUserCallflow`, and PATCHes
that leave every other field alone."""

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
    assert standin.model.smartpbx_problems(CHILD_A) == []
    # Only `numbers` is sent, by PATCH: nothing read (`metadata`) is written back.
    [patch] = standin.calls("PATCH", "/callflows/")
    assert patch.body == {"data": {"numbers": after["numbers"]}}
    assert not standin.calls("POST", "/callflows/")


@pytest.mark.parametrize(
    ("target", "cf_id", "placeholder"),
    [
        (RouteTarget.main(), MAIN, ["undefinedMainNumber"]),
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
    assert standin.model.smartpbx_problems(CHILD_A) == []
    assert standin.model.faxboxes[CHILD_A] == {}  # a fax number's faxbox went with it


async def test_rerouting_moves_the_number_so_it_is_in_one_callflow_only(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2)
    await carrier.route(numbers[0], RouteTarget.main(), account_id=CHILD_A)
    await carrier.route(numbers[1], RouteTarget.main(), account_id=CHILD_A)

    await carrier.route(numbers[0], RouteTarget(AssignmentKind.CONFERENCE), account_id=CHILD_A)
    await carrier.route(numbers[0], RouteTarget.user(ALICE), account_id=CHILD_A)

    routed = {k: v for k, v in standin.model.routed_numbers(CHILD_A).items() if v}
    assert routed == {MAIN: [numbers[1]], ALICE_CF: [numbers[0]]}
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

    with pytest.raises(NumberConflict, match="no SmartPBX callflow of their own"):
        await carrier.route(number, RouteTarget.user(BOB), account_id=CHILD_A)


async def test_users_are_matched_by_email_ignoring_case(carrier: KazooCarrier) -> None:
    users = await carrier.users(account_id=CHILD_A)  # two pages of one each? page_size 2

    assert {u.email for u in users} == {"alice@example.com", "bob@example.com"}
    alice = await carrier.user_by_email("ALICE@example.com ", account_id=CHILD_A)
    assert alice is not None and alice.id == ALICE
    assert await carrier.user_by_email("nobody@example.com", account_id=CHILD_A) is None


async def test_the_first_main_number_swaps_the_placeholder_for_0_and_the_last_swaps_back(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """M5: SmartPBX's MainCallflow holds "undefinedMainNumber" until it has a number; the
    first makes it "0" so dialling 0 reaches the company; with none left "0" goes."""
    first, second = await bought(carrier, CHILD_A, quantity=2)

    await carrier.route(first, RouteTarget.main(), account_id=CHILD_A)
    assert callflow(standin, MAIN)["numbers"] == ["0", first]
    await carrier.route(second, RouteTarget.main(), account_id=CHILD_A)
    await carrier.unroute(first, account_id=CHILD_A)
    assert callflow(standin, MAIN)["numbers"] == ["0", second]
    await carrier.release(second, account_id=CHILD_A)

    assert callflow(standin, MAIN)["numbers"] == ["undefinedMainNumber"]
    assert standin.model.smartpbx_problems(CHILD_A) == []


async def test_a_lone_0_left_by_smartpbx_is_not_kept_routed(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    callflow(standin, MAIN)["numbers"] = ["0"]  # an older SmartPBX's empty main callflow

    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)
    assert callflow(standin, MAIN)["numbers"] == ["0", number]
    await carrier.unroute(number, account_id=CHILD_A)

    assert callflow(standin, MAIN)["numbers"] == ["undefinedMainNumber"]


async def test_a_fax_number_gets_a_faxbox_as_smartpbx_makes_one(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    assert callflow(standin, FAX)["flow"]["data"] == {}  # as SmartPBX creates MainFaxing

    await carrier.route(number, RouteTarget(AssignmentKind.FAXBOX), account_id=CHILD_A)

    fax = callflow(standin, FAX)
    [box] = standin.model.faxboxes[CHILD_A].values()
    assert fax["numbers"] == [number] and fax["flow"]["data"] == {"id": box["id"]}
    assert fax["flow"]["module"] == "faxbox"
    assert box["caller_id"] == number and box["name"] == "Acme West's Main Faxbox"
    assert box["owner_id"] == CHILD_A
    assert standin.model.smartpbx_problems(CHILD_A) == []
    assert await carrier.routes(account_id=CHILD_A) == {number: RouteTarget(AssignmentKind.FAXBOX)}


async def test_a_faxbox_left_answering_as_an_old_number_takes_the_new_one(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.model.faxboxes[CHILD_A]["box1"] = {"id": "box1", "name": "Fax", "caller_id": "+1999"}
    callflow(standin, FAX)["flow"]["data"] = {"id": "box1"}

    await carrier.route(number, RouteTarget(AssignmentKind.FAXBOX), account_id=CHILD_A)

    assert standin.model.faxboxes[CHILD_A]["box1"]["caller_id"] == number
    assert callflow(standin, FAX)["flow"]["data"] == {"id": "box1"}
    assert standin.model.smartpbx_problems(CHILD_A) == []


async def test_several_fax_numbers_made_in_smartpbx_are_left_as_they_are(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    first, second = await bought(carrier, CHILD_A, quantity=2)
    standin.model.faxboxes[CHILD_A]["box1"] = {"id": "box1", "name": "Fax", "caller_id": first}
    fax = callflow(standin, FAX)
    fax["numbers"], fax["flow"]["data"] = [first, second], {"id": "box1"}
    standin.model.refresh_used_by(CHILD_A)

    # The first is the faxbox's number (SmartPBX shows it); the other is SmartPBX's own.
    assert await carrier.routes(account_id=CHILD_A) == {first: RouteTarget(AssignmentKind.FAXBOX)}
    await carrier.unroute(second, account_id=CHILD_A)

    assert callflow(standin, FAX)["numbers"] == [first]
    assert "box1" in standin.model.faxboxes[CHILD_A]  # still answering on the first


async def test_a_persons_number_goes_to_their_smartpbx_callflow_not_their_mobile_one(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """M5: the mobile callflow also carries the person's `owner_id` and may be listed first."""
    [number] = await bought(carrier, CHILD_A)
    mobile = standin.model.callflows[CHILD_A].pop(f"{ALICE_CF}-mobile")
    standin.model.callflows[CHILD_A] = {
        f"{CHILD_A}-0-mobile": {**mobile, "id": f"{CHILD_A}-0-mobile"},
        **standin.model.callflows[CHILD_A],
    }

    await carrier.route(number, RouteTarget.user(ALICE), account_id=CHILD_A)

    assert callflow(standin, ALICE_CF)["numbers"] == ["1001", number]
    assert callflow(standin, f"{CHILD_A}-0-mobile")["numbers"] == ["5550001"]


async def test_a_concurrent_smartpbx_edit_of_the_callflow_is_kept(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """M9: Kazoo keeps no revision to refuse a stale save; the bot PATCHes only `numbers`,
    so a SmartPBX change made between its read and its write survives."""
    [number] = await bought(carrier, CHILD_A)

    async def edited_meanwhile() -> None:
        callflow(standin, MAIN)["flow"]["children"]["_"]["data"]["id"] = "edited-in-smartpbx"

    standin.before_next("PATCH", "/callflows/", edited_meanwhile)
    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    doc = callflow(standin, MAIN)
    assert doc["numbers"] == ["0", number]
    assert doc["flow"]["children"]["_"]["data"]["id"] == "edited-in-smartpbx"
    assert "metadata" not in doc


async def test_a_number_routed_elsewhere_in_smartpbx_is_taken_out_first(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    callflow(standin, CONF)["numbers"] = [number]  # changed behind the bot's back
    standin.model.refresh_used_by(CHILD_A)

    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    assert callflow(standin, CONF)["numbers"] == ["undefinedconf"]
    assert callflow(standin, MAIN)["numbers"] == ["0", number]
