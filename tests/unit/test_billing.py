"""Money, service plan, quotes and the approval rule (product.md sections 2 and 5)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from itertools import product

import pytest

from bot.domain.billing import (
    ApprovalMode,
    Quote,
    QuoteItem,
    Rate,
    ServicePlan,
    format_money,
    money,
    needs_approval,
    quote_purchase,
)
from bot.domain.phone import Kind

PLAN = ServicePlan(
    currency="USD",
    numbers={Kind.LOCAL: Rate(D("1.50"), D("2.00")), Kind.TOLLFREE: Rate(D("3.00"), D("5"))},
    e911=Rate(D("0.75"), D("1.00")),
)


def amounts(quote: Quote) -> list[D]:
    return [
        quote.activation_today,
        quote.monthly_before,
        quote.monthly_after,
        quote.difference,
        *(i.rate for i in quote.items),
        *(i.total for i in quote.items),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, "3.00"), ("1.5", "1.50"), (D("2.675"), "2.68"), ("0.005", "0.01"), ("-0.005", "-0.01")],
)
def test_money_is_decimal_cents_rounded_half_up(value: D | int | str, expected: str) -> None:
    result = money(value)
    assert type(result) is D
    assert str(result) == expected


def test_money_refuses_float() -> None:
    with pytest.raises(TypeError):
        money(1.005)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (D("0"), "USD", "$0.00"),
        (D("7.5"), "USD", "$7.50"),
        (D("1234.5"), "USD", "$1,234.50"),
        (D("1000000"), "USD", "$1,000,000.00"),
        (D("0.005"), "USD", "$0.01"),
        (D("2.675"), "USD", "$2.68"),
        (D("-3"), "USD", "-$3.00"),
        (D("-1234.567"), "USD", "-$1,234.57"),
        (D("-0.00"), "USD", "$0.00"),
        (D("12"), "EUR", "12.00 EUR"),
        (D("-1234.5"), "CAD", "-1,234.50 CAD"),
    ],
)
def test_format_money(amount: D, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_format_money_no_negative_zero() -> None:
    assert format_money(D("-0.004")) == "$0.00"


def test_quote_mixed_kinds() -> None:
    quote = quote_purchase(PLAN, D("10"), {Kind.TOLLFREE: 1, Kind.LOCAL: 3})
    assert quote.currency == "USD"
    assert quote.items == (
        QuoteItem("Local numbers", 3, D("1.50"), D("4.50")),
        QuoteItem("Toll-free numbers", 1, D("3.00"), D("3.00")),
    )
    assert quote.activation_today == D("11.00")  # 3 x 2.00 + 1 x 5
    assert (quote.monthly_before, quote.monthly_after) == (D("10.00"), D("17.50"))
    assert quote.difference == D("7.50")
    assert all(type(a) is D for a in amounts(quote))
    assert format_money(quote.difference) == "$7.50"


@pytest.mark.parametrize(
    ("new", "names", "activation", "after"),
    [
        ({Kind.LOCAL: 2}, ["Local numbers"], "4.00", "13.00"),
        ({Kind.LOCAL: 2, Kind.TOLLFREE: 0}, ["Local numbers"], "4.00", "13.00"),
        ({Kind.TOLLFREE: 4}, ["Toll-free numbers"], "20.00", "22.00"),
        ({}, [], "0.00", "10.00"),
        ({Kind.LOCAL: 0}, [], "0.00", "10.00"),
    ],
)
def test_quote_single_kind_and_nothing(
    new: dict[Kind, int], names: list[str], activation: str, after: str
) -> None:
    quote = quote_purchase(PLAN, D("10"), new)
    assert [i.name for i in quote.items] == names
    assert quote.activation_today == D(activation)
    assert quote.monthly_after == D(after)
    assert quote.difference == D(after) - D("10")


def test_quote_rounds_to_cents_and_keeps_before_after_difference_consistent() -> None:
    plan = ServicePlan("CAD", {Kind.LOCAL: Rate(D("0.333"), D("0.125"))}, Rate(D("0")))
    quote = quote_purchase(plan, D("19.999"), {Kind.LOCAL: 3})
    assert quote.currency == "CAD"
    assert quote.items[0].total == D("1.00")
    assert quote.activation_today == D("0.38")
    assert (quote.monthly_before, quote.monthly_after) == (D("20.00"), D("21.00"))
    assert quote.difference == quote.monthly_after - quote.monthly_before


def test_monthly_total_counts_kinds_and_e911() -> None:
    assert PLAN.monthly_total({Kind.LOCAL: 2, Kind.TOLLFREE: 1}, 3) == D("8.25")
    assert PLAN.monthly_total({}, 0) == D("0.00")
    assert PLAN.rate(Kind.TOLLFREE) == Rate(D("3.00"), D("5"))


def test_quote_json_round_trip_keeps_every_amount_exact() -> None:
    quote = quote_purchase(PLAN, D("10"), {Kind.LOCAL: 3, Kind.TOLLFREE: 1})
    quote = Quote(
        quote.currency, quote.items, quote.activation_today, quote.monthly_before,
        quote.monthly_after, spare_count=2,
    )  # fmt: skip
    stored = json.dumps(quote.to_json())
    assert "1.50" in stored and "17.50" in stored
    assert not any(isinstance(v, float) for v in json.loads(stored).values())
    back = Quote.from_json(json.loads(stored))
    assert back == quote
    assert back.spare_count == 2
    assert [str(a) for a in amounts(back)] == [str(a) for a in amounts(quote)]


def test_quote_from_json_defaults() -> None:
    back = Quote.from_json(
        {"currency": "USD", "activation_today": "0", "monthly_before": "1", "monthly_after": "1"}
    )
    assert (back.items, back.spare_count, back.difference) == ((), 0, D("0.00"))


def test_approval_mode_names() -> None:
    modes = (ApprovalMode.ALWAYS, ApprovalMode.NEVER, ApprovalMode.OVER_AMOUNT)
    assert modes == ("always", "never", "over_amount")


@pytest.mark.parametrize(
    ("mode", "threshold", "increase", "expected"),
    [
        ("always", "100", "0", True),
        ("always", "100", "1000", True),
        ("always", "0", "-5", True),
        ("never", "0", "1000", False),
        ("never", "100", "0", False),
        ("over_amount", "50", "50.01", True),
        ("over_amount", "50", "1000", True),
        ("over_amount", "50", "50", False),  # equal to the threshold: no approval
        ("over_amount", "50", "50.00", False),
        ("over_amount", "50", "49.99", False),
        ("over_amount", "0", "0", False),
        ("over_amount", "0", "0.01", True),
        ("over_amount", "0", "-3", False),
    ],
)
def test_needs_approval_by_mode(mode: str, threshold: str, increase: str, expected: bool) -> None:
    assert needs_approval(mode, D(threshold), D(increase), has_approvers=True) is expected


@pytest.mark.parametrize(
    ("mode", "increase"), list(product(["always", "never", "over_amount"], ["0", "50", "9999"]))
)
def test_no_approvers_means_no_approval(mode: str, increase: str) -> None:
    assert needs_approval(mode, D("10"), D(increase), has_approvers=False) is False
