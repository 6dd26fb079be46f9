"""The order memory every carrier shares: repeating an order's key never buys twice.

A carrier sends an order once (`send`) and says what became of numbers that got
no answer (`settle`); this keeps the answers by idempotency key. One order per key
runs at a time, so a concurrent repeat waits and gets the same answer. A repeat
of an order with unknown outcomes settles them first, and sends again only what
the carrier did not take and may take on a retry: its answer then decides.

After a restart (or once a key is dropped) the carrier's own state keeps the
promise: an order for a number already the account's is settled as bought.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.backends.carrier import NumberOrderResult, OrderOutcome, OrderResult
from bot.keyed_locks import KeyedLocks

# (numbers, account id, idempotency key) -> one attempt at buying them.
SendOrder = Callable[[Sequence[str], str, str], Awaitable[OrderResult]]


class SettleOrder(Protocol):
    """What became of numbers that got no answer: bought, or failed (retryable or not)."""

    def __call__(self, numbers: Sequence[str], *, account_id: str) -> Awaitable[OrderResult]: ...


REMEMBERED_ORDERS = 10_000


class OrderMemory:
    """Orders by idempotency key, the newest last, at most `keep` of them."""

    def __init__(self, send: SendOrder, settle: SettleOrder, *, keep: int = REMEMBERED_ORDERS):
        self._send = send
        self._settle = settle
        self._keep = keep
        self._orders: OrderedDict[str, OrderResult] = OrderedDict()
        self._locks = KeyedLocks()

    async def order(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        async with self._locks.hold(key):
            result = await self._answer(numbers, account_id, key)
            self._orders[key] = result
            self._orders.move_to_end(key)
            while len(self._orders) > self._keep:
                self._orders.popitem(last=False)
            return result

    async def _answer(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        previous = self._orders.get(key)
        if previous is None:
            return await self._send(list(numbers), account_id, key)
        unknown = previous.numbers(OrderOutcome.UNKNOWN)
        if not unknown:
            return previous
        settled = await self._settle(unknown, account_id=account_id)
        merged: dict[str, NumberOrderResult] = {**previous.by_number(), **settled.by_number()}
        retry = [
            r.e164 for r in settled.results if r.outcome is OrderOutcome.FAILED and r.retryable
        ]
        if retry:
            merged.update((await self._send(retry, account_id, key)).by_number())
        return OrderResult(key, tuple(merged[n] for n in previous.by_number()))
