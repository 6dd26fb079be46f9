"""Kazoo's documented bodies (tests/data/kazoo/examples) read by the backend's parsers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.backends.carrier import RouteTarget
from bot.backends.kazoo_callflows import FaxboxTaken, target_of, with_number, without_number
from bot.backends.kazoo_quote import QuoteShapeError, parse_quote
from bot.domain.assignment import AssignmentKind

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kazoo" / "examples"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def test_the_documented_invoices_402_becomes_a_quote() -> None:
    quote = parse_quote(example("402-accept-charges--invoices")["data"])

    assert [(i.name, i.quantity, i.rate, i.total) for i in quote.items] == [
        ("Local numbers", 2, Decimal("1.00"), Decimal("2.00"))
    ]
    assert (quote.monthly_before, quote.monthly_after) == (Decimal("0.00"), Decimal("2.00"))
    assert quote.activation_today == Decimal("0.00")


def test_the_documented_legacy_402_becomes_a_quote() -> None:
    quote = parse_quote(example("402-accept-charges--legacy")["data"])

    assert [(i.name, i.quantity, i.rate, i.total) for i in quote.items] == [
        ("{CATEGORY} {ITEM}", 1, Decimal("2.00"), Decimal("2.00"))
    ]
    assert quote.activation_today == Decimal("1.00")
    assert quote.difference == Decimal("2.00")


def test_a_402_body_of_neither_shape_is_refused() -> None:
    with pytest.raises(QuoteShapeError):
        parse_quote("accept charges")
    with pytest.raises(QuoteShapeError):
        parse_quote({})


def test_an_invoice_item_without_a_difference_counts_whole() -> None:
    body = [
        {
            "items": [
                {"category": "phone_numbers", "item": "tollfree_us", "quantity": 1, "rate": 4.5}
            ],
            "summary": {"today": 1.25, "recurring": 10.5},
        }
    ]

    quote = parse_quote(body)

    assert quote.items[0].total == Decimal("4.50")
    assert (quote.monthly_before, quote.monthly_after) == (Decimal("6.00"), Decimal("10.50"))
    assert quote.activation_today == Decimal("1.25")


MAIN = {
    "id": "m",
    "type": "main",
    "name": "MainCallflow",
    "numbers": ["undefinedMainNumber"],
    "flow": {"x": 1},
}


def test_callflow_edits_touch_only_numbers() -> None:
    added = with_number(MAIN, RouteTarget.main(), "+14155550100")
    removed = without_number(added, "+14155550100")

    assert added == {**MAIN, "numbers": ["0", "+14155550100"]}
    assert removed == MAIN


def test_numbers_stored_without_plus_or_country_code_are_recognised() -> None:
    doc = {**MAIN, "numbers": ["0", "14155550100", "4155550101"]}

    out = without_number(without_number(doc, "+14155550100"), "+14155550101")

    assert out["numbers"] == ["undefinedMainNumber"]


def test_the_faxbox_takes_one_number() -> None:
    fax = {"id": "f", "type": "faxing", "numbers": ["+14155550100"], "flow": {}}

    with pytest.raises(FaxboxTaken):
        with_number(fax, RouteTarget(AssignmentKind.FAXBOX), "+14155550101")
    assert without_number(fax, "+14155550100")["numbers"] == ["undefinedfaxing"]


def test_group_and_unknown_callflows_are_not_targets() -> None:
    assert target_of({"type": "main", "group_id": "g"}) is None
    assert target_of({"type": "custom"}) is None
    assert target_of({"owner_id": "u1"}) == RouteTarget.user("u1")
    assert target_of({"owner_id": "u1", "type": "mainUserCallflow"}) == RouteTarget.user("u1")
    assert target_of({"owner_id": "u1", "type": "mobile"}) is None  # the person's mobile
