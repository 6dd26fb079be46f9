"""Move, release, the owned-number listing for the mirror, and sub-accounts."""

from __future__ import annotations

import pytest

from bot.backends.carrier import (
    CarrierAccount,
    CarrierNumberState,
    NotFoundAtCarrier,
    NumberConflict,
    RouteTarget,
)
from bot.backends.kazoo import KazooCarrier
from bot.domain.assignment import AssignmentKind
from tests.kazoo.helpers import bought
from tests.kazoo_standin import CHILD_A, CHILD_B, ROOT, KazooStandIn


async def test_move_leaves_the_old_callflows_then_activates_on_the_destination(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    await carrier.move(number, from_account_id=CHILD_A, to_account_id=CHILD_B)

    assert standin.model.routed_numbers(CHILD_A)[f"{CHILD_A}-main"] == []
    assert standin.model.callflows[CHILD_A][f"{CHILD_A}-main"]["numbers"] == ["undefinedMainNumber"]
    status = await carrier.number_status(number, account_id=CHILD_B)
    assert status.owned_by(CHILD_B) and status.spare
    # Kazoo answers through A's path too (H2): the owner is what says it moved.
    through_a = await carrier.number_status(number, account_id=CHILD_A)
    assert through_a.account_id == CHILD_B and not through_a.owned_by(CHILD_A)
    move_call = standin.calls("PUT", f"{CHILD_B}/phone_numbers/")[-1]
    assert move_call.path.endswith("/activate") and move_call.body["accept_charges"] is True


async def test_release_takes_the_number_out_of_every_callflow_then_deletes(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    await carrier.route(number, RouteTarget(AssignmentKind.CONFERENCE), account_id=CHILD_A)
    before = len(standin.seen)

    result = await carrier.release(number, account_id=CHILD_A)

    # Kazoo's default `released_state` is available (knm_config.erl:35-37).
    assert result.state is CarrierNumberState.AVAILABLE
    assert result.unrouted_from == (RouteTarget(AssignmentKind.CONFERENCE),)
    assert all(n == [] for n in standin.model.routed_numbers(CHILD_A).values())
    assert standin.model.callflows[CHILD_A][f"{CHILD_A}-conf"]["numbers"] == ["undefinedconf"]
    changes = [(s.method, s.path) for s in standin.seen[before:] if s.method != "GET"]
    assert changes == [
        ("PATCH", f"/v2/accounts/{CHILD_A}/callflows/{CHILD_A}-conf"),
        ("DELETE", f"/v2/accounts/{CHILD_A}/phone_numbers/{number}"),
    ]


@pytest.mark.parametrize(
    ("released_state", "ages", "ends"),
    [
        ("available", False, CarrierNumberState.AVAILABLE),
        ("available", True, CarrierNumberState.AGING),
        # Only an `available` number ages (knm_numbers.erl:972-985).
        ("released", True, CarrierNumberState.RELEASED),
    ],
)
async def test_release_ends_as_kazoos_configuration_says(
    carrier: KazooCarrier,
    standin: KazooStandIn,
    released_state: str,
    ages: bool,
    ends: CarrierNumberState,
) -> None:
    """L1: `released_state` (default `available`) or `aging` when `should_age` is set
    (knm_config.erl:27-37); the bot records what Kazoo reports."""
    standin.model.released_state = released_state
    standin.model.should_age = ages
    [number] = await bought(carrier, CHILD_A)

    result = await carrier.release(number, account_id=CHILD_A)

    assert result.state is ends
    assert standin.model.numbers[number].state == ends.value
    assert number not in {n.e164 for n in (await carrier.list_numbers(account_id=CHILD_A)).numbers}


async def test_a_local_number_kazoo_deletes_on_release_is_reported_deleted(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """L1: numbers of Kazoo's local carrier are deleted, not made available
    (knm_numbers.erl:951-970); the answer's state says so."""
    [number] = await bought(carrier, CHILD_A)
    standin.model.numbers[number].module = "knm_local"

    result = await carrier.release(number, account_id=CHILD_A)

    assert result.state is CarrierNumberState.DELETED
    assert standin.model.numbers[number].state == "deleted"


async def test_a_number_moved_to_another_account_is_never_released(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """DELETE releases a number wherever it is below the key's account (H2)."""
    [number] = await bought(carrier, CHILD_A)
    await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)
    standin.change_number(number, assigned_to=CHILD_B)

    with pytest.raises(NumberConflict) as refused:
        await carrier.release(number, account_id=CHILD_A)
    with pytest.raises(NumberConflict):
        await carrier.move(number, from_account_id=CHILD_A, to_account_id=ROOT)

    assert "another account" in refused.value.carrier_message
    assert standin.model.numbers[number].state == "in_service"
    assert standin.model.numbers[number].assigned_to == CHILD_B
    assert standin.calls("DELETE") == []
    assert [c for c in standin.calls("PUT") if c.path.endswith(f"{number}/activate")] == []


async def test_releasing_a_number_kazoo_has_back_is_not_found(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.change_number(number, assigned_to=None, state="available")

    with pytest.raises(NotFoundAtCarrier):
        await carrier.release(number, account_id=CHILD_A)

    assert standin.calls("DELETE") == []


async def test_owned_numbers_are_listed_in_pages_with_start_key(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=5)
    await carrier.route(numbers[0], RouteTarget.main(), account_id=CHILD_A)

    seen: list[str] = []
    start: str | None = None
    pages = 0
    while True:
        page = await carrier.list_numbers(account_id=CHILD_A, start_key=start, page_size=2)
        pages += 1
        seen.extend(n.e164 for n in page.numbers)
        if page.next_start_key is None:
            break
        start = page.next_start_key
        assert not start.startswith("+")  # Crossbar's keys are opaque; passed back as given

    assert seen == sorted(numbers) and pages == 3
    first = (await carrier.list_numbers(account_id=CHILD_A, page_size=10)).numbers
    by_number = {n.e164: n for n in first}
    assert by_number[numbers[0]].used_by == "callflow"
    assert by_number[numbers[1]].spare and by_number[numbers[1]].account_id == CHILD_A


async def test_sub_accounts_come_from_children_across_pages(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    from tests.kazoo_standin.model import Account

    child_c = "100000000000000000000000000000cc"
    standin.model.accounts[child_c] = Account(child_c, "Acme North", ROOT)
    standin.page_size = 2  # Crossbar's default is 50: make it page

    accounts = await carrier.accounts()

    assert accounts == [
        CarrierAccount(ROOT, "Reseller"),
        CarrierAccount(CHILD_A, "Acme West"),
        CarrierAccount(CHILD_B, "Acme East"),
        CarrierAccount(child_c, "Acme North"),
    ]
    assert len(standin.calls("GET", "/children")) == 2
