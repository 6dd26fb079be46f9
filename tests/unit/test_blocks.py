"""Block builders: Slack's limits, the seed's labels, escaping."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.blocks.buy import BuyForm, Results, buy_modal
from bot.blocks.cards import approval_card, billing_card, reject_modal, stale_text
from bot.blocks.ids import ActionId
from bot.blocks.lists import help_message, search_message
from bot.blocks.payloads import BuyMeta, CardRef, RejectMeta
from bot.blocks.text import escape
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.billing import Quote, QuoteItem
from bot.domain.phone import Kind
from bot.domain.records import AvailableNumber, PurchaseItemRecord, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, RequestState

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _offers(n: int, spare: int = 0) -> tuple[AvailableNumber, ...]:
    return tuple(
        AvailableNumber(f"+1415555{2000 + i:04d}", Kind.LOCAL, "San Francisco, CA",
                        Decimal("0") if i < spare else Decimal("1.00"), spare=i < spare)
        for i in range(n)
    )  # fmt: skip


def _request(
    n: int = 2, state: RequestState = RequestState.QUOTED, **kw: Any
) -> PurchaseRequestRecord:
    quote = Quote(
        "USD", (QuoteItem("Local numbers", n, Decimal("1.00"), Decimal(n)),),
        Decimal("0.50") * n, Decimal("10.00"), Decimal("10.00") + n,
    )  # fmt: skip
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


def _texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _checkbox_groups(view: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [
        b["element"]["options"]
        for b in view["blocks"]
        if b["type"] == "input" and b["element"]["type"] == "checkboxes"
    ]


def test_buy_modal_has_the_seed_labels() -> None:
    view = buy_modal(BuyForm(meta=BuyMeta(channel_id="C1"))).to_dict()
    text = _texts([view])
    for label in ("Buy Numbers", "Main Company Numbers", "Main Conference Number",
                  "Main Faxbox Number", "Local", "Toll-free", "Area code", "Search",
                  "Add from Spare Numbers"):  # fmt: skip
        assert f'"{label}"' in text, label
    assert view["title"]["text"] == view["submit"]["text"] == "Buy Numbers"
    assert BuyMeta.model_validate_json(view["private_metadata"]).channel_id == "C1"


def test_tollfree_shows_a_prefix_select_instead_of_the_area_code() -> None:
    view = buy_modal(BuyForm(meta=BuyMeta(), kind=Kind.TOLLFREE, prefix="888")).to_dict()
    text = _texts([view])
    assert '"Area code"' not in text and '"Prefix"' in text
    prefix = next(b for b in view["blocks"] if b.get("block_id") == "buy.prefix")
    assert [o["value"] for o in prefix["element"]["options"]] == [
        "800", "833", "844", "855", "866", "877", "888"
    ]  # fmt: skip
    assert prefix["element"]["initial_option"]["value"] == "888"


def test_results_are_split_into_groups_of_ten_spares_first() -> None:
    results = Results("local415", "area code 415", _offers(50, spare=3))
    view = buy_modal(BuyForm(meta=BuyMeta(), results=results)).to_dict()
    groups = _checkbox_groups(view)
    assert all(1 <= len(g) <= 10 for g in groups)
    values = [o["value"] for g in groups for o in g]
    assert values == [o.e164 for o in results.offers]
    first = groups[0][0]["text"]["text"]
    assert first.endswith("spare · free")
    assert groups[1][0]["text"]["text"].endswith("$1.00/mo")
    assert len(view["blocks"]) <= 100


def test_a_new_search_gets_new_block_ids_so_old_ticks_do_not_carry_over() -> None:
    one = buy_modal(BuyForm(meta=BuyMeta(), results=Results("local415", "415", _offers(3))))
    two = buy_modal(BuyForm(meta=BuyMeta(), results=Results("local212", "212", _offers(3))))
    ids_one = {b["block_id"] for b in one.to_dict()["blocks"] if "block_id" in b}
    ids_two = {b["block_id"] for b in two.to_dict()["blocks"] if "block_id" in b}
    assert {i for i in ids_one if "results" in i}.isdisjoint(ids_two)


def test_spares_listing_has_the_add_button() -> None:
    form = BuyForm(meta=BuyMeta(), spares=())
    assert "no spare numbers" in _texts([buy_modal(form).to_dict()])
    from bot.domain.records import NumberRecord
    from bot.domain.states import NumberState

    spare = NumberRecord("+14155552000", NumberState.IN_SERVICE, Kind.LOCAL, "a1")
    view = buy_modal(replace(form, spares=(spare,))).to_dict()
    assert '"Add selected numbers"' in _texts([view])


def test_billing_card_buttons_follow_the_state() -> None:
    def buttons(request: PurchaseRequestRecord) -> list[str]:
        _, blocks = billing_card(request, "Main")
        return [
            e["text"]["text"]
            for b in (x.to_dict() for x in blocks) if b["type"] == "actions"
            for e in b["elements"]
        ]  # fmt: skip

    assert buttons(_request()) == ["Accept", "Cancel"]
    assert buttons(_request(state=RequestState.AWAITING_APPROVAL)) == ["Cancel"]
    assert buttons(_request(state=RequestState.PROVISIONING)) == []
    assert buttons(_request(state=RequestState.COMPLETED)) == []
    assert buttons(_request(state=RequestState.PARTIALLY_COMPLETED)) == ["Retry"]


def test_card_buttons_carry_a_small_model_not_text() -> None:
    _, blocks = approval_card(_request(state=RequestState.AWAITING_APPROVAL), "Main")
    actions = next(b.to_dict() for b in blocks if b.to_dict()["type"] == "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [ActionId.CARD_APPROVE, ActionId.CARD_REJECT]
    ref = CardRef.model_validate_json(actions["elements"][0]["value"])
    assert ref == CardRef(request_id="r1", expected_state=RequestState.AWAITING_APPROVAL)


def test_billing_card_shows_the_quote() -> None:
    _, blocks = billing_card(_request(2), "Main")
    shown = _texts([b.to_dict() for b in blocks])
    assert "$10.00 → $12.00 (+$2.00)" in shown
    assert "Activation charges today:* $1.00" in shown
    assert "Local numbers: 2 × $1.00 = $2.00/mo" in shown


def test_fifty_numbers_fit_in_one_message() -> None:
    request = _request(50, state=RequestState.PARTIALLY_COMPLETED, items=tuple(
        PurchaseItemRecord(f"+1415555{2000 + i:04d}", ItemOutcome.FAILED, "x" * 80)
        for i in range(50)
    ))  # fmt: skip
    for build in (billing_card, approval_card):
        _, blocks = build(request, "Main")
        dicts = [b.to_dict() for b in blocks]
        assert len(dicts) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in dicts)


def test_user_text_is_escaped() -> None:
    assert escape("<@U1> & <!here>") == "&lt;@U1&gt; &amp; &lt;!here&gt;"
    request = _request(
        state=RequestState.REJECTED, decided_by="UMANAGER", decided_at=NOW, reason="<!channel> & co"
    )
    _, blocks = billing_card(request, "Acme <Corp>")
    shown = _texts([b.to_dict() for b in blocks])
    assert "&lt;!channel&gt; &amp; co" in shown and "<!channel>" not in shown
    assert "Acme &lt;Corp&gt;" in shown
    assert "<@UMANAGER>" in shown  # our own mentions stay mentions


def test_user_target_is_a_real_mention() -> None:
    request = _request(target=Assignment(AssignmentKind.USER, "U123ABC"))
    _, blocks = billing_card(request, "Main")
    assert "*<@U123ABC>*" in _texts([b.to_dict() for b in blocks])


def test_stale_clicks_name_who_decided() -> None:
    approved = _request(state=RequestState.COMPLETED, decided_by="UMANAGER", decided_at=NOW)
    assert stale_text(approved) == (
        "This request was already approved by <@UMANAGER> at 2026-11-26 09:00 UTC."
    )
    rejected = replace(approved, state=RequestState.REJECTED)
    assert "already rejected by <@UMANAGER>" in stale_text(rejected)
    assert "already expired" in stale_text(replace(approved, state=RequestState.EXPIRED))


def test_reject_modal_and_lists_build() -> None:
    view = reject_modal(RejectMeta(request_id="r1")).to_dict()
    assert view["submit"]["text"] == "Reject"
    assert RejectMeta.model_validate_json(view["private_metadata"]).request_id == "r1"
    _, blocks = help_message("“x” is not a /numbers command.")
    assert "/numbers buy" in _texts([b.to_dict() for b in blocks])
    _, blocks = search_message("area code 415", _offers(50))
    assert len(blocks) <= 50
