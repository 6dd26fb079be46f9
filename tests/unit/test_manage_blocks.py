"""Builders of the requests view, history, release prompt and accounts: words and limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.blocks.history import change_text
from bot.blocks.requests import STATE_WORDS, decision_text, requests_view
from bot.blocks.text import MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT, echo
from bot.domain.assignment import Assignment
from bot.domain.billing import Quote, QuoteItem
from bot.domain.phone import Kind
from bot.domain.records import AuditEntry, PurchaseItemRecord, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, RequestState

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _request(
    n: int = 2, state: RequestState = RequestState.QUOTED, **kw: Any
) -> PurchaseRequestRecord:
    quote = Quote("USD", (QuoteItem("Local numbers", n, Decimal(1), Decimal(n)),),
                  Decimal(0), Decimal(0), Decimal(n))  # fmt: skip
    items = tuple(
        PurchaseItemRecord(f"+1415555{2000 + i:04d}", ItemOutcome.PENDING) for i in range(n)
    )
    base: dict[str, Any] = dict(
        id="r1", workspace_id="T1", account_id="a1", requester_id="UADMIN",
        target=Assignment.main(), kind=Kind.LOCAL, state=state, quote=quote,
        hold_expires_at=NOW, created_at=NOW, updated_at=NOW, items=items,
    )  # fmt: skip
    base.update(kw)
    return PurchaseRequestRecord(**base)


def test_every_state_has_words_and_no_raw_name_is_shown() -> None:
    assert set(STATE_WORDS) == set(RequestState)
    for state in RequestState:
        _, blocks = requests_view(
            [_request(1, state, decided_by="UBOB", decided_at=NOW, accepted_at=NOW)],
            which="all", viewer_id="UADMIN", may_decide=lambda _: True, account_names={},
        )  # fmt: skip
        shown = " ".join(b.to_dict().get("text", {}).get("text", "") for b in blocks)
        assert state.value not in shown.replace(STATE_WORDS[state].lower(), ""), state
        assert "1 number for" in shown and "1 numbers" not in shown


def test_a_rejection_names_who_and_why_escaped_and_clipped() -> None:
    reason = "<!channel> " + "x" * 1000
    text = decision_text(
        _request(state=RequestState.REJECTED, decided_by="UBOB", decided_at=NOW, reason=reason)
    )
    assert text.startswith("Rejected by <@UBOB> at 2026-11-26 09:00 UTC: “&lt;!channel&gt;")
    assert "<!channel>" not in text and len(text) < 400


@pytest.mark.parametrize("which", ["mine", "pending", "all"])
def test_twenty_requests_of_fifty_numbers_fit_one_message(which: str) -> None:
    requests = [
        _request(50, RequestState.AWAITING_APPROVAL, id=f"r{i}", accepted_at=NOW) for i in range(20)
    ]
    _, blocks = requests_view(
        requests, which=which, viewer_id="UADMIN", may_decide=lambda _: True,
        account_names={"a1": "Main"},
    )  # fmt: skip
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    for block in blocks:
        data = block.to_dict()
        assert len(data.get("text", {}).get("text", "")) <= MAX_SECTION_TEXT
    assert "and 40 more" in json.dumps([b.to_dict() for b in blocks])


def test_history_change_words() -> None:
    entry = AuditEntry(
        1, NOW, "UADMIN", "number.moved", "+14155552000", None,
        {"state": "in_service", "account_id": "a1", "assignment": "user:U123", "e911": None},
        {"state": "in_service", "account_id": "a2", "assignment": None, "e911": None},
    )  # fmt: skip
    text = change_text(entry, {"a1": "Main", "a2": "Branch <b>"})
    assert text == "assignment: <@U123> → none; account: *Main* → *Branch &lt;b&gt;*"


def test_echo_escapes_then_clips_never_halving_an_entity() -> None:
    # One order everywhere: what Slack limits is the escaped text.
    assert echo("<" * 500, 10) == "&lt;" * 2 + "…"
    assert echo("a & b") == "a &amp; b"
