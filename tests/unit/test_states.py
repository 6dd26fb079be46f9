"""Number and purchase-request state machines (product.md sections 2 and 5)."""

from __future__ import annotations

from itertools import product

import pytest

from bot.domain.errors import Conflict
from bot.domain.states import (
    FINAL_REQUEST_STATES,
    OPEN_REQUEST_STATES,
    ItemOutcome,
    NumberState,
    RequestState,
    can_move_number,
    can_move_request,
    check_number_move,
    check_request_move,
    outcome_state,
)

N = NumberState
R = RequestState
O = ItemOutcome  # noqa: E741

# Written from the spec, not copied from the module.
NUMBER_MOVES = {
    (N.AVAILABLE, N.RESERVED),  # held for a purchase request
    (N.RESERVED, N.IN_SERVICE),  # bought
    (N.RESERVED, N.AVAILABLE),  # cancelled, expired or refused by the carrier
    (N.IN_SERVICE, N.IN_SERVICE),  # moved to another account
    (N.IN_SERVICE, N.AGING),  # released
    (N.AGING, N.IN_SERVICE),  # restored
    (N.AGING, N.RETURNING),  # aging over: the sweep claims it for the carrier
    (N.RETURNING, N.AVAILABLE),  # the carrier has it back
}
REQUEST_MOVES = {
    (R.QUOTED, R.AWAITING_APPROVAL),
    (R.QUOTED, R.PROVISIONING),
    (R.QUOTED, R.CANCELLED),
    (R.QUOTED, R.EXPIRED),
    (R.AWAITING_APPROVAL, R.PROVISIONING),
    (R.AWAITING_APPROVAL, R.REJECTED),
    (R.AWAITING_APPROVAL, R.CANCELLED),
    (R.AWAITING_APPROVAL, R.EXPIRED),
    (R.PROVISIONING, R.COMPLETED),
    (R.PROVISIONING, R.PARTIALLY_COMPLETED),
    (R.PROVISIONING, R.FAILED),
}


def test_state_names_are_kazoos_and_the_specs() -> None:
    # Kazoo's names for the states the bot's database uses (Kazoo's full list, `deleted`
    # and all, is the carrier's: CarrierNumberState).
    # `returning` is the bot's own: aging ended, being given back to the carrier.
    assert {s.value for s in N} == {"available", "reserved", "in_service", "aging", "returning"}
    assert {s.value for s in R} == {
        "quoted",
        "awaiting_approval",
        "provisioning",
        "completed",
        "partially_completed",
        "failed",
        "rejected",
        "cancelled",
        "expired",
    }


@pytest.mark.parametrize(("current", "target"), list(product(N, N)), ids=str)
def test_number_moves(current: NumberState, target: NumberState) -> None:
    allowed = (current, target) in NUMBER_MOVES
    assert can_move_number(current, target) is allowed
    if allowed:
        check_number_move("+14155552671", current, target)
        return
    with pytest.raises(Conflict) as info:
        check_number_move("+14155552671", current, target)
    assert "+14155552671" in info.value.message
    assert f"is {current.value}" in info.value.message
    assert f"cannot become {target.value}" in info.value.message


@pytest.mark.parametrize(("current", "target"), list(product(R, R)), ids=str)
def test_request_moves(current: RequestState, target: RequestState) -> None:
    allowed = (current, target) in REQUEST_MOVES
    assert can_move_request(current, target) is allowed
    if allowed:
        check_request_move(current, target)
        return
    with pytest.raises(Conflict) as info:
        check_request_move(current, target)
    assert f"is {current.value}" in info.value.message
    assert f"cannot become {target.value}" in info.value.message


def test_open_and_final_request_states() -> None:
    assert {R.QUOTED, R.AWAITING_APPROVAL} == OPEN_REQUEST_STATES
    assert {
        R.COMPLETED,
        R.PARTIALLY_COMPLETED,
        R.FAILED,
        R.REJECTED,
        R.CANCELLED,
        R.EXPIRED,
    } == FINAL_REQUEST_STATES
    for final in FINAL_REQUEST_STATES:
        assert not any(can_move_request(final, target) for target in R)


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [
        ([O.BOUGHT], R.COMPLETED),
        ([O.BOUGHT, O.BOUGHT, O.BOUGHT], R.COMPLETED),
        ([O.BOUGHT, O.FAILED], R.PARTIALLY_COMPLETED),
        ([O.FAILED, O.BOUGHT, O.BOUGHT], R.PARTIALLY_COMPLETED),
        ([O.BOUGHT, O.PENDING], R.PARTIALLY_COMPLETED),
        ([O.BOUGHT, O.RELEASED], R.PARTIALLY_COMPLETED),
        ([O.FAILED], R.FAILED),
        ([O.FAILED, O.FAILED], R.FAILED),
        ([O.FAILED, O.RELEASED, O.PENDING], R.FAILED),
        ([O.RELEASED], R.FAILED),
    ],
)
def test_outcome_state(outcomes: list[ItemOutcome], state: RequestState) -> None:
    assert outcome_state(outcomes) is state
    assert can_move_request(R.PROVISIONING, state)
