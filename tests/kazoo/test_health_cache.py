"""`GET /health` never amplifies: one Kazoo probe per cache period, shared by concurrent requests.

Counted on the stand-in Kazoo; the cache's expiry is checked with a hand-moved
clock, never by waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp

from bot.backends.kazoo import KazooCarrier
from bot.health import cached_health, health_check
from bot.server import web_app
from tests.kazoo.conftest import RecordedSleep, make_carrier
from tests.kazoo_standin import ROOT, KazooStandIn

REQUESTS = 50


def _probes(standin: KazooStandIn) -> int:
    return len(standin.calls("GET", f"/v2/accounts/{ROOT}"))


async def _many_gets(carrier: KazooCarrier, *, cache_seconds: float) -> list[tuple[int, Any]]:
    app = web_app(
        AsyncApp(signing_secret="secret", token="xoxb-health"),
        health_check(carrier, timeout=1.0),
        health_cache_seconds=cache_seconds,
    )
    async with TestClient(TestServer(app)) as client:

        async def get() -> tuple[int, Any]:
            response = await client.get("/health")
            return response.status, await response.json()

        together = await asyncio.gather(*(get() for _ in range(REQUESTS)))
        one_by_one = [await get() for _ in range(REQUESTS)]
    return [*together, *one_by_one]


async def test_many_requests_cost_one_kazoo_probe(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    before = _probes(standin)
    # An hour's cache, so the sequential half cannot outlive it on a slow machine.
    answers = await _many_gets(carrier, cache_seconds=3600)
    assert _probes(standin) - before == 1
    assert set(map(str, answers)) == {
        str((200, {"ok": True, "backend": "kazoo", "detail": "answers"}))
    }


async def test_kazoo_answering_5xx_is_not_asked_once_per_request(
    standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    kazoo = make_carrier(standin, sleeps)
    standin.fail_next(500, 1000, method="GET", path=f"/v2/accounts/{ROOT}")
    try:
        answers = await _many_gets(kazoo, cache_seconds=3600)
    finally:
        await kazoo.close()
    # One probe, however many tries the client itself makes of it (at most 4 here).
    assert 1 <= _probes(standin) <= 4
    assert {status for status, _ in answers} == {503}


async def test_callers_during_a_probe_share_it_and_one_leaving_does_not_cancel_it() -> None:
    release = asyncio.Event()
    asked: list[int] = []

    async def probe() -> dict[str, Any]:
        asked.append(1)
        await release.wait()
        return {"ok": True, "backend": "kazoo", "detail": "answers"}

    check = cached_health(probe, seconds=0)
    waiting = [asyncio.ensure_future(check()) for _ in range(10)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # a load balancer giving up on its request
    await asyncio.sleep(0)
    release.set()
    answers = await asyncio.gather(*waiting[1:])
    assert len(asked) == 1
    assert all(a == {"ok": True, "backend": "kazoo", "detail": "answers"} for a in answers)


async def test_the_answer_is_kept_for_the_period_then_asked_again() -> None:
    now = [0.0]
    asked: list[int] = []

    async def probe() -> dict[str, Any]:
        asked.append(1)
        return {"ok": len(asked) == 1, "backend": "kazoo", "detail": str(len(asked))}

    check = cached_health(probe, seconds=5.0, clock=lambda: now[0])
    assert (await check())["detail"] == "1"
    now[0] = 4.9
    assert (await check())["detail"] == "1"
    now[0] = 5.0
    failing = await check()
    assert failing == {"ok": False, "backend": "kazoo", "detail": "2"}
    now[0] = 9.9  # a failing answer is kept as long
    assert await check() == failing
    assert len(asked) == 2
