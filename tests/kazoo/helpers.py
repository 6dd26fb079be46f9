"""Small steps the Kazoo tests share."""

from __future__ import annotations

from bot.backends.kazoo import KazooCarrier
from bot.domain.phone import Kind, SearchQuery


async def offered(carrier: KazooCarrier, prefix: str = "415", quantity: int = 5) -> list[str]:
    page = await carrier.search(
        SearchQuery(Kind.LOCAL, prefix[:3], prefix[3:] or None), quantity=quantity
    )
    return [o.e164 for o in page.offers]


async def bought(
    carrier: KazooCarrier, account: str, prefix: str = "415", quantity: int = 1, key: str = "k"
) -> list[str]:
    numbers = await offered(carrier, prefix, quantity)
    result = await carrier.order(numbers, account_id=account, idempotency_key=key)
    assert [r.outcome.value for r in result.results] == ["bought"] * quantity
    return numbers
