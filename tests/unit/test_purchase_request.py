"""The purchase request's own rules (bot/domain/purchase.py): one place each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.assignment import Assignment
from bot.domain.billing import Quote
from bot.domain.phone import Kind
from bot.domain.purchase import Decider, PurchaseRequest, Refusal, Room, target_room
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import (
    NUMBER_TRANSITIONS,
    REQUEST_MOVES,
    NumberState,
    RequestMove,
    RequestState,
    SyncMove,
    can_move_number,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
N = NumberState


def request(state: RequestState, **values: object) -> PurchaseRequest:
    quote = Quote("USD", (), Decimal(0), Decimal(0), Decimal(0))
    record = PurchaseRequestRecord(
        "r1", "T1", "acc", "UREQ", Assignment.main(), Kind.LOCAL, state, quote,
        NOW + timedelta(minutes=10), NOW, NOW, **values,  # type: ignore[arg-type]
    )  # fmt: skip
    return PurchaseRequest(record)


def test_the_accepter_is_offered_no_approve_and_may_not_approve() -> None:
    waiting = request(RequestState.AWAITING_APPROVAL, accepted_by="UACC")
    accepter = Decider("UACC", is_admin=True, is_approver=True)
    other = Decider("UMGR", is_approver=True)
    assert not waiting.offers_decision(accepter, allow_self_approval=False)
    assert waiting.refusal(accepter, RequestMove.APPROVE, allow_self_approval=False) == (
        Refusal.ACCEPTED_IT
    )
    assert waiting.offers_decision(other, allow_self_approval=False)
    assert waiting.refusal(other, RequestMove.APPROVE, allow_self_approval=False) is None
    # Nobody is offered a decision on a request that does not await one.
    assert not request(RequestState.QUOTED).offers_decision(other, allow_self_approval=False)


@pytest.mark.parametrize("move", list(RequestMove))
def test_each_named_move_leads_from_its_sources_only(move: RequestMove) -> None:
    rule = REQUEST_MOVES[move]
    for state in RequestState:
        assert request(state).can(move) is (state in rule.sources)


def test_a_hold_lapses_only_while_the_request_is_open() -> None:
    later = NOW + timedelta(minutes=11)
    assert request(RequestState.QUOTED).hold_lapsed(later)
    assert not request(RequestState.QUOTED).hold_lapsed(NOW)
    assert not request(RequestState.PROVISIONING).hold_lapsed(later)


def test_the_faxbox_room_counts_what_open_requests_hold() -> None:
    fax = Assignment.parse("faxbox")
    assert target_room(fax, assigned=0, held=0, adding=1) is Room.FREE
    assert target_room(fax, assigned=0, held=0, adding=2) is Room.TOO_MANY
    assert target_room(fax, assigned=1, held=0, adding=1) is Room.ASSIGNED
    assert target_room(fax, assigned=0, held=1, adding=1) is Room.HELD
    assert target_room(Assignment.main(), assigned=9, held=9, adding=9) is Room.FREE


def test_the_mirrors_moves_are_named_and_apart_from_the_bots_own() -> None:
    # What Kazoo says wins: a number it has on the account is in service here.
    assert can_move_number(N.RETURNING, N.IN_SERVICE, sync=SyncMove.OWNED)
    assert not can_move_number(N.RETURNING, N.IN_SERVICE)
    assert can_move_number(N.IN_SERVICE, N.AVAILABLE, sync=SyncMove.GONE)
    assert N.AVAILABLE not in NUMBER_TRANSITIONS[N.IN_SERVICE]
    assert not can_move_number(N.AGING, N.AVAILABLE, sync=SyncMove.GONE)
