"""Number states (Kazoo's names) and purchase-request states, with the only allowed moves."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import Conflict


class NumberState(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    IN_SERVICE = "in_service"
    AGING = "aging"
    # Aging ended and the sweep claimed it: being given back to the carrier. Nobody can
    # restore it any more; a carrier failure leaves it here for the next sweep to retry.
    RETURNING = "returning"


NUMBER_TRANSITIONS: dict[NumberState, frozenset[NumberState]] = {
    NumberState.AVAILABLE: frozenset({NumberState.RESERVED}),
    # A hold ends by purchase, by cancel/expiry, or by the carrier refusing the order.
    NumberState.RESERVED: frozenset({NumberState.IN_SERVICE, NumberState.AVAILABLE}),
    # Release puts a number into aging; move keeps it in service on another account.
    # Every change storage writes is checked against this table (NumbersRepo._move).
    NumberState.IN_SERVICE: frozenset({NumberState.AGING, NumberState.IN_SERVICE}),
    # Restore brings it back; the sweep claims it for the carrier once aging ended.
    NumberState.AGING: frozenset({NumberState.IN_SERVICE, NumberState.RETURNING}),
    NumberState.RETURNING: frozenset({NumberState.AVAILABLE}),
}


class SyncMove(StrEnum):
    """The mirror's moves. With Kazoo the carrier is the system of record and the
    database its mirror: the sync writes what Kazoo says a number is, whatever the bot's
    own lifecycle above would allow, so these are named apart and checked by the same
    function (`check_number_move(..., sync=...)`)."""

    OWNED = "owned"  # Kazoo has it on the account: in service there, whatever it was here
    GONE = "gone"  # no longer the account's at Kazoo: back to the carrier's pool


SYNC_TRANSITIONS: dict[SyncMove, tuple[frozenset[NumberState], NumberState]] = {
    SyncMove.OWNED: (frozenset(NumberState), NumberState.IN_SERVICE),
    SyncMove.GONE: (frozenset({NumberState.IN_SERVICE}), NumberState.AVAILABLE),
}


def can_move_number(
    current: NumberState, target: NumberState, *, sync: SyncMove | None = None
) -> bool:
    if sync is not None:
        sources, to = SYNC_TRANSITIONS[sync]
        return current in sources and target is to
    return target in NUMBER_TRANSITIONS[current]


def check_number_move(
    number: str, current: NumberState, target: NumberState, *, sync: SyncMove | None = None
) -> None:
    """The one check of a number's move, before storage (SQL or the fakes) writes it."""
    if not can_move_number(current, target, sync=sync):
        raise Conflict(f"{number} is {current.value}; it cannot become {target.value}.")


class RequestState(StrEnum):
    QUOTED = "quoted"
    AWAITING_APPROVAL = "awaiting_approval"
    PROVISIONING = "provisioning"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class RequestMove(StrEnum):
    """The named moves of a purchase request: who makes them is the domain's
    (`bot/domain/purchase.py`); storage writes only these."""

    ACCEPT_FOR_APPROVAL = "accept_for_approval"
    ACCEPT_AND_BUY = "accept_and_buy"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    EXPIRE = "expire"
    COMPLETE = "complete"
    COMPLETE_PARTLY = "complete_partly"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Move:
    sources: frozenset[RequestState]
    target: RequestState


_OPEN = frozenset({RequestState.QUOTED, RequestState.AWAITING_APPROVAL})
_BUYING = frozenset({RequestState.PROVISIONING})

# The truth: every allowed move of a request, by name. REQUEST_TRANSITIONS is derived.
REQUEST_MOVES: dict[RequestMove, Move] = {
    RequestMove.ACCEPT_FOR_APPROVAL: Move(
        frozenset({RequestState.QUOTED}), RequestState.AWAITING_APPROVAL
    ),
    RequestMove.ACCEPT_AND_BUY: Move(frozenset({RequestState.QUOTED}), RequestState.PROVISIONING),
    RequestMove.APPROVE: Move(
        frozenset({RequestState.AWAITING_APPROVAL}), RequestState.PROVISIONING
    ),
    RequestMove.REJECT: Move(frozenset({RequestState.AWAITING_APPROVAL}), RequestState.REJECTED),
    RequestMove.CANCEL: Move(_OPEN, RequestState.CANCELLED),
    RequestMove.EXPIRE: Move(_OPEN, RequestState.EXPIRED),
    RequestMove.COMPLETE: Move(_BUYING, RequestState.COMPLETED),
    RequestMove.COMPLETE_PARTLY: Move(_BUYING, RequestState.PARTIALLY_COMPLETED),
    RequestMove.FAIL: Move(_BUYING, RequestState.FAILED),
}

REQUEST_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    state: frozenset(m.target for m in REQUEST_MOVES.values() if state in m.sources)
    for state in RequestState
}

OPEN_REQUEST_STATES = frozenset({RequestState.QUOTED, RequestState.AWAITING_APPROVAL})
FINAL_REQUEST_STATES = frozenset(s for s, nxt in REQUEST_TRANSITIONS.items() if not nxt)


def can_move_request(current: RequestState, target: RequestState) -> bool:
    return target in REQUEST_TRANSITIONS[current]


def check_request_move(current: RequestState, target: RequestState) -> None:
    if not can_move_request(current, target):
        raise Conflict(f"The request is {current.value}; it cannot become {target.value}.")


class ItemOutcome(StrEnum):
    """What happened to one number of a purchase request."""

    PENDING = "pending"
    BOUGHT = "bought"
    FAILED = "failed"
    RELEASED = "released"


def outcome_state(outcomes: list[ItemOutcome]) -> RequestState:
    """The final state of a provisioned request from its numbers' outcomes."""
    bought = sum(o is ItemOutcome.BOUGHT for o in outcomes)
    if bought == len(outcomes):
        return RequestState.COMPLETED
    return RequestState.PARTIALLY_COMPLETED if bought else RequestState.FAILED
