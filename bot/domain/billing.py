"""Money, the service plan and quotes. Money is `Decimal`, never float."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.phone import Kind

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money is Decimal, never float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str = "USD") -> str:
    rounded = money(amount)
    sign = "-" if rounded < 0 else ""
    symbol = "$" if currency == "USD" else ""
    text = f"{sign}{symbol}{abs(rounded):,.2f}"
    return text if symbol else f"{text} {currency}"


@dataclass(frozen=True, slots=True)
class Rate:
    monthly: Decimal
    activation: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class ServicePlan:
    currency: str
    numbers: Mapping[Kind, Rate]
    e911: Rate

    def rate(self, kind: Kind) -> Rate:
        return self.numbers[kind]

    def monthly_total(self, counts: Mapping[Kind, int], e911_enabled: int) -> Decimal:
        total = sum((self.numbers[k].monthly * n for k, n in counts.items()), start=Decimal("0"))
        return money(total + self.e911.monthly * e911_enabled)


@dataclass(frozen=True, slots=True)
class E911Price:
    """What setting an e911 address adds to the bill, shown before it is saved.

    `already_billed`: the number is emergency enabled, so a corrected address
    adds nothing. `quoted`: the price is the carrier's own quote, not the plan's.
    `carrier_confirms`: the carrier bills by its own plan and asks at *Save*.
    """

    rate: Rate
    currency: str
    already_billed: bool = False
    quoted: bool = False
    # The carrier states its own charges when the address is saved, to be accepted then.
    carrier_confirms: bool = False


@dataclass(frozen=True, slots=True)
class QuoteItem:
    name: str
    quantity: int
    rate: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    items: tuple[QuoteItem, ...]
    activation_today: Decimal
    monthly_before: Decimal
    monthly_after: Decimal
    spare_count: int = 0

    @property
    def difference(self) -> Decimal:
        return money(self.monthly_after - self.monthly_before)

    def to_json(self) -> dict[str, object]:
        return {
            "currency": self.currency,
            "items": [
                {"name": i.name, "quantity": i.quantity, "rate": str(i.rate), "total": str(i.total)}
                for i in self.items
            ],
            "activation_today": str(self.activation_today),
            "monthly_before": str(self.monthly_before),
            "monthly_after": str(self.monthly_after),
            "spare_count": self.spare_count,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Quote:
        raw_items = data.get("items", [])
        assert isinstance(raw_items, list)
        return cls(
            currency=str(data["currency"]),
            items=tuple(
                QuoteItem(
                    name=str(i["name"]),
                    quantity=int(i["quantity"]),
                    rate=Decimal(str(i["rate"])),
                    total=Decimal(str(i["total"])),
                )
                for i in raw_items
            ),
            activation_today=Decimal(str(data["activation_today"])),
            monthly_before=Decimal(str(data["monthly_before"])),
            monthly_after=Decimal(str(data["monthly_after"])),
            spare_count=int(str(data.get("spare_count", 0))),
        )


ITEM_NAMES = {Kind.LOCAL: "Local numbers", Kind.TOLLFREE: "Toll-free numbers"}


def quote_purchase(plan: ServicePlan, monthly_before: Decimal, new: Mapping[Kind, int]) -> Quote:
    """The bill change of buying `new` numbers on an account billed `monthly_before` a month."""
    items = tuple(
        QuoteItem(
            ITEM_NAMES[kind], qty, plan.rate(kind).monthly, money(plan.rate(kind).monthly * qty)
        )
        for kind, qty in sorted(new.items())
        if qty
    )
    activation = money(sum((plan.rate(k).activation * q for k, q in new.items()), Decimal("0")))
    added = sum((i.total for i in items), Decimal("0"))
    return Quote(
        currency=plan.currency,
        items=items,
        activation_today=activation,
        monthly_before=money(monthly_before),
        monthly_after=money(monthly_before + added),
    )


class ApprovalMode:
    ALWAYS = "always"
    NEVER = "never"
    OVER_AMOUNT = "over_amount"


def needs_approval(mode: str, threshold: Decimal, increase: Decimal, has_approvers: bool) -> bool:
    """Product rule: approval by policy, and never when nobody could approve."""
    if not has_approvers or mode == ApprovalMode.NEVER:
        return False
    if mode == ApprovalMode.OVER_AMOUNT:
        return increase > threshold
    return True
