"""The e911 modal's price line and simulator hint (bot/blocks/e911.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.blocks.e911 import SIMULATOR_HINT, e911_modal, price_text
from bot.blocks.payloads import E911Meta
from bot.domain.billing import E911Price, Rate
from bot.domain.phone import Kind
from bot.domain.records import NumberRecord
from bot.domain.states import NumberState


@pytest.mark.parametrize(
    ("price", "says"),
    [
        (
            E911Price(Rate(Decimal("2.00")), "USD"),
            "Saving an address adds $2.00 a month to the bill (the service plan's e911 price).",
        ),
        (
            E911Price(Rate(Decimal("1.5"), Decimal("0.5")), "USD", quoted=True),
            "Saving an address adds $1.50 a month, plus $0.50 once, to the bill"
            " (the carrier's price).",
        ),
        (
            E911Price(Rate(Decimal("3")), "EUR"),
            "adds 3.00 EUR a month",
        ),
        (E911Price(Rate(Decimal("0")), "USD"), "e911 costs nothing on this account's plan."),
        (
            E911Price(Rate(Decimal("2")), "USD", carrier_confirms=True),
            "when the carrier asks, its charges are shown for you to accept before anything",
        ),
        (
            E911Price(Rate(Decimal("2")), "USD", already_billed=True),
            "The e911 charge of $2.00 a month is already on the bill for this number",
        ),
    ],
)
def test_price_text(price: E911Price, says: str) -> None:
    assert says in price_text(price)


def test_the_simulator_hint_only_with_the_simulated_geocoder() -> None:
    number = NumberRecord("+14155552671", NumberState.IN_SERVICE, Kind.LOCAL, "a1")
    meta = E911Meta(number=number.e164)
    with_hint = str(e911_modal(number, meta, simulated=True).to_dict())
    without = str(e911_modal(number, meta, simulated=False).to_dict())
    assert "geocoder refuses a house number 0" in with_hint
    assert "geocoder refuses" not in without and SIMULATOR_HINT.startswith("Trying it out")
