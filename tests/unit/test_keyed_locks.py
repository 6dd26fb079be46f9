"""Per-key locks: one key takes turns, other keys never wait, and nothing is kept."""

from __future__ import annotations

import asyncio

from bot.keyed_locks import KeyedLocks


async def test_one_key_takes_turns_and_others_do_not_wait() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("first in")
            entered.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        async with locks.hold("a"):
            order.append("second in")

    async def other() -> None:
        async with locks.hold("b"):
            order.append("other in")

    task = asyncio.create_task(first())
    await entered.wait()
    waiting = asyncio.create_task(second())
    await other()  # another key: no wait while "a" is held
    await asyncio.sleep(0)
    assert order == ["first in", "other in"]
    release.set()
    await asyncio.gather(task, waiting)
    assert order == ["first in", "other in", "first out", "second in"]
    assert len(locks) == 0  # nothing kept once nobody holds or waits


async def test_hold_all_takes_keys_in_one_order_so_callers_never_deadlock() -> None:
    locks = KeyedLocks()

    async def take(keys: list[str]) -> None:
        async with locks.hold_all(keys):
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(*(take(["x", "y"]), take(["y", "x"])) * 5), 2)
    assert len(locks) == 0
