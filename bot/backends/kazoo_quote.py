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
the change adds: for invoices, each changed item's added quantity times its
rate (items without `changes` are already on the bill and are left out);
`summary.recurring` is the bill after the change. The legacy shape gives only
the change, so the bill before is shown as 0 and after as the increase.
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


def _label(category: str, item: str, name: Any = None) -> str:
    if item in ITEM_LABELS:
        return ITEM_LABELS[item]
    if isinstance(name, str) and name.strip():
        return name.strip()
    return f"{category} {item}".replace("_", " ").strip()


def is_quote(data: Any) -> bool:
    return isinstance(data, list) or (isinstance(data, dict) and bool(data))


def parse_quote(data: Any, *, currency: str = "USD") -> Quote:
    if isinstance(data, list):
        return _from_invoices(data, currency)
    if isinstance(data, dict):
        return _from_legacy(data, currency)
    raise QuoteShapeError("Kazoo's charges were neither a list of invoices nor an object.")


def _from_invoices(invoices: list[Any], currency: str) -> Quote:
    """4.3's invoices list every item of the plan with its quantity and total after the
    change; only the items the change touches carry `changes` (4.3:core/kazoo_services/
    src/kz_services_invoice.erl:172-186, kz_services_item.erl:395-413, where `changes`
    is `undefine_empty`). Only those are shown and counted; one invoice per bookkeeper.
    """
    items: list[QuoteItem] = []
    increase = Decimal("0")
    today = Decimal("0")
    recurring = Decimal("0")
    has_recurring = False
    several = sum(1 for i in invoices if isinstance(i, dict)) > 1
    for number, invoice in enumerate(invoices, start=1):
        if not isinstance(invoice, dict):
            raise QuoteShapeError("An invoice in Kazoo's charges is not an object.")
        payer = _bookkeeper(invoice, number) if several else ""
        for raw in invoice.get("items") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("changes"), dict):
                continue  # unchanged by this purchase: already on the bill
            rate = _dec(raw.get("rate"))
            difference = raw["changes"].get("difference")
            if isinstance(difference, dict) and "quantity" in difference:
                added = int(_dec(difference["quantity"]))
            else:
                added = int(_dec(raw.get("quantity")))
            if added <= 0:
                continue
            name = _label(str(raw.get("category", "")), str(raw.get("item", "")), raw.get("name"))
            items.append(
                QuoteItem(
                    f"{name} ({payer})" if payer else name,
                    added,
                    money(rate),
                    money(rate * added),
                )
            )
            increase += rate * added
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


def _bookkeeper(invoice: Mapping[str, Any], number: int) -> str:
    """Who bills an invoice (its `bookkeeper`), for a purchase billed by several."""
    keeper = invoice.get("bookkeeper")
    if isinstance(keeper, dict):
        kind = str(keeper.get("type") or "")
        if kind and kind != "default":
            return f"billed by {kind}"
    return f"invoice {number}"


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
