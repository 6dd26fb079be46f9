"""Four eyes and the room rule are decided in bot/domain; the service only asks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.domain.assignment import Assignment, AssignmentKind, has_room, is_limited
from bot.domain.billing import Quote
from bot.domain.phone import Kind
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import RequestState

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _request(accepted_by: str | None) -> PurchaseRequestRecord:
    quote = Quote("USD", (), Decimal(0), Decimal(0), Decimal(0))
    return PurchaseRequestRecord(
        "R1",
        "T1",
        "A1",
        "UASKER",
        Assignment.main(),
        Kind.LOCAL,
        RequestState.AWAITING_APPROVAL,
        quote,
        None,
        NOW,
        NOW,
        accepted_by=accepted_by,
    )


@pytest.mark.parametrize(
    ("user", "accepted_by", "allowed"),
    [
        ("UASKER", None, False),  # the requester
        ("UACCEPTER", "UACCEPTER", False),  # who accepted the billing change
        ("UOTHER", "UACCEPTER", True),
    ],
)
def test_neither_requester_nor_accepter_decides(
    user: str, accepted_by: str | None, allowed: bool
) -> None:
    request = _request(accepted_by)
    assert request.may_decide(user, allow_self_approval=False) is allowed
    assert request.may_decide(user, allow_self_approval=True)


def test_the_faxbox_takes_one_number_and_the_others_any() -> None:
    assert is_limited(AssignmentKind.FAXBOX) and not is_limited(AssignmentKind.MAIN)
    assert has_room(AssignmentKind.FAXBOX, 0) and not has_room(AssignmentKind.FAXBOX, 1)
    assert not has_room(AssignmentKind.FAXBOX, 0, adding=2)
    assert has_room(AssignmentKind.MAIN, 500, adding=50)
    assert replace(_request(None), accepted_by="U2").may_decide("U3", allow_self_approval=False)
