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


def test_only_the_items_a_purchase_changes_count_as_new_charges() -> None:
    """4.3 lists every item of the plan; `changes` marks the ones this change touches
    (kz_services_item.erl:395-413). Unchanged items are already on the bill (H4b)."""
    body = [
        {
            "items": [
                {"category": "user", "item": "user", "quantity": 2, "rate": 5.0, "total": 10.0},
                {
                    "category": "phone_numbers",
                    "item": "tollfree_us",
                    "quantity": 3,
                    "rate": 4.5,
                    "total": 13.5,
                    "changes": {"type": "modified", "difference": {"quantity": 1}},
                },
                {
                    "category": "number_services",
                    "item": "cnam",
                    "name": "Caller ID name",
                    "quantity": 1,
                    "rate": 1.0,
                    "total": 1.0,
                    "changes": {"type": "added"},
                },
            ],
            "summary": {"today": 1.25, "recurring": 24.5},
            "bookkeeper": {"type": "default"},
        }
    ]

    quote = parse_quote(body)

    assert [(i.name, i.quantity, i.total) for i in quote.items] == [
        ("Toll-free numbers", 1, Decimal("4.50")),
        ("Caller ID name", 1, Decimal("1.00")),
    ]
    assert (quote.monthly_before, quote.monthly_after) == (Decimal("19.00"), Decimal("24.50"))
    assert quote.activation_today == Decimal("1.25")


def test_each_bookkeepers_invoice_is_named_and_summed() -> None:
    def invoice(keeper: str, recurring: float) -> dict[str, object]:
        return {
            "items": [
                {
                    "category": "phone_numbers",
                    "item": "did_us",
                    "quantity": 2,
                    "rate": 1.0,
                    "total": 2.0,
                    "changes": {"difference": {"quantity": 1}},
                }
            ],
            "summary": {"today": 0.5, "recurring": recurring},
            "bookkeeper": {"type": keeper},
        }

    quote = parse_quote([invoice("braintree", 2.0), invoice("default", 7.0)])

    assert [i.name for i in quote.items] == [
        "Local numbers (billed by braintree)",
        "Local numbers (invoice 2)",
    ]
    assert (quote.activation_today, quote.monthly_after) == (Decimal("1.00"), Decimal("9.00"))
    assert quote.difference == Decimal("2.00")


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
