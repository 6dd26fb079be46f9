"""Kazoo's billing confirmation (HTTP 402 "accept charges") turned into a `Quote`.

Two shapes exist (docs/decisions/kazoo.md):

- 4.3 sends a list of invoices; each has `items` (`category`, `item`,
  `quantity`, `rate`, `total`, and `changes.difference.quantity` for what
  this change adds), `activation_charges` (a list of items) and `summary`
  (`today`, `recurring`).
- Older releases send an object keyed by category, then item, each with
  `quantity`, `rate` and `activation_charges`, plus a top-level
  `activation_charges` number.

The card shows Kazoo's own items and prices. The monthly increase is what
the change adds: for invoices, each item's added quantity times its rate (the
whole item when Kazoo gives no difference); `summary.recurring` is the bill
after the change. The legacy shape gives only the change, so the bill before
is shown as 0 and after as the increase.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.billing import Quote, QuoteItem, money

# Kazoo's service-plan item names for numbers, in the words the card uses.
ITEM_LABELS: Mapping[str, str] = {
    "did_us": "Local numbers",
    "tollfree_us": "Toll-free numbers",
    "e911": "Emergency (e911)",
}
_LEGACY_NOT_CATEGORIES = frozenset({"activation_charges"})


class QuoteShapeError(ValueError):
    """Kazoo's 402 body matched neither documented shape."""


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        return Decimal("0")
    try:
        # Kazoo sends JSON numbers; str() keeps 1.1 as "1.1", never a binary float tail.
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("0")


def _label(category: str, item: str) -> str:
    return ITEM_LABELS.get(item) or f"{category} {item}".replace("_", " ").strip()


def is_quote(data: Any) -> bool:
    return isinstance(data, list) or (isinstance(data, dict) and bool(data))


def parse_quote(data: Any, *, currency: str = "USD") -> Quote:
    if isinstance(data, list):
        return _from_invoices(data, currency)
    if isinstance(data, dict):
        return _from_legacy(data, currency)
    raise QuoteShapeError("Kazoo's charges were neither a list of invoices nor an object.")


def _from_invoices(invoices: list[Any], currency: str) -> Quote:
    items: list[QuoteItem] = []
    increase = Decimal("0")
    today = Decimal("0")
    recurring = Decimal("0")
    has_recurring = False
    for invoice in invoices:
        if not isinstance(invoice, dict):
            raise QuoteShapeError("An invoice in Kazoo's charges is not an object.")
        for raw in invoice.get("items") or []:
            if not isinstance(raw, dict):
                continue
            rate = _dec(raw.get("rate"))
            quantity = int(_dec(raw.get("quantity")))
            total = _dec(raw.get("total")) if "total" in raw else rate * quantity
            items.append(
                QuoteItem(
                    _label(str(raw.get("category", "")), str(raw.get("item", ""))),
                    quantity,
                    money(rate),
                    money(total),
                )
            )
            changes = raw.get("changes")
            difference = changes.get("difference") if isinstance(changes, dict) else None
            if isinstance(difference, dict) and "quantity" in difference:
                increase += rate * _dec(difference["quantity"])
            else:
                increase += total
        activation = invoice.get("activation_charges")
        summary = invoice.get("summary")
        if isinstance(summary, dict) and "today" in summary:
            today += _dec(summary.get("today"))
        elif isinstance(activation, list):
            today += sum(
                (_dec(a.get("total")) for a in activation if isinstance(a, dict)), Decimal("0")
            )
        if isinstance(summary, dict) and "recurring" in summary:
            has_recurring = True
            recurring += _dec(summary["recurring"])
    after = recurring if has_recurring else increase
    return Quote(
        currency=currency,
        items=tuple(items),
        activation_today=money(today),
        monthly_before=money(after - increase),
        monthly_after=money(after),
    )


def _from_legacy(data: Mapping[str, Any], currency: str) -> Quote:
    items: list[QuoteItem] = []
    increase = Decimal("0")
    item_activation = Decimal("0")
    for category, by_item in data.items():
        if category in _LEGACY_NOT_CATEGORIES or not isinstance(by_item, dict):
            continue
        for item, raw in by_item.items():
            if not isinstance(raw, dict):
                continue
            rate = _dec(raw.get("rate"))
            quantity = int(_dec(raw.get("quantity")))
            total = rate * quantity
            increase += total
            item_activation += _dec(raw.get("activation_charges"))
            items.append(
                QuoteItem(
                    _label(str(raw.get("category", category)), str(raw.get("item", item))),
                    quantity,
                    money(rate),
                    money(total),
                )
            )
    if not items and "activation_charges" not in data:
        raise QuoteShapeError("Kazoo's charges named no category or item.")
    today = _dec(data["activation_charges"]) if "activation_charges" in data else item_activation
    return Quote(
        currency=currency,
        items=tuple(items),
        activation_today=money(today),
        monthly_before=money(0),
        monthly_after=money(increase),
    )
