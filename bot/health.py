"""What `GET /health` says: whether the backend answers, as JSON, without secrets.

The embedded backend lives in this process, so it always answers. A carrier
that can be asked (`ping()`, as `KazooCarrier` has) is asked with a short
timeout: a load balancer's health check must not hang on a slow cluster.

The endpoint never amplifies (`cached_health`): the backend's answer is kept
for a few seconds, and requests arriving while a probe runs share it, so any
number of `GET /health` costs at most one probe per `HEALTH_CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends.carrier import CarrierAuthFailed, CarrierFailure, CarrierUnavailable

HEALTH_TIMEOUT_SECONDS = 2.0
HEALTH_CACHE_SECONDS = 5.0
# At start-up the carrier is asked once whether it takes the bot's credentials.
STARTUP_CHECK_SECONDS = 10.0

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@runtime_checkable
class Pingable(Protocol):
    name: str

    async def ping(self) -> None: ...


async def backend_health(
    carrier: object | None,
    *,
    within: float = HEALTH_TIMEOUT_SECONDS,
    backend_name: str | None = None,
) -> dict[str, Any]:
    """`{"ok": bool, "backend": name, "detail": words}`; never an exception, never a secret.

    `backend_name` is the `NUMBERS_BOT_BACKEND` word (`embedded`, `kazoo`): what an
    operator set is what they read back, whatever the carrier calls itself.
    """
    if not isinstance(carrier, Pingable):
        name = backend_name or getattr(carrier, "name", None) or "embedded"
        return {"ok": True, "backend": str(name), "detail": "in process"}
    try:
        await asyncio.wait_for(carrier.ping(), within)
    except TimeoutError:
        detail = f"did not answer within {within:g} s"
    except CarrierAuthFailed:
        detail = "refused the API key"
    except CarrierUnavailable:
        detail = "could not be reached"
    except CarrierFailure:
        # The carrier's own words may name paths or ids: a fixed phrase is enough here.
        detail = "answered with an error"
    except Exception:  # a health check reports; it never crashes the endpoint
        detail = "could not be reached"
    else:
        return {"ok": True, "backend": backend_name or carrier.name, "detail": "answers"}
    name = backend_name or carrier.name
    return {"ok": False, "backend": name, "detail": f"{carrier.name} {detail}"}


def health_check(
    carrier: object | None,
    *,
    timeout: float = HEALTH_TIMEOUT_SECONDS,
    backend_name: str | None = None,
) -> HealthCheck:
    """The probe behind `GET /health` (`web_app` caches it with `cached_health`)."""

    async def check() -> dict[str, Any]:
        return await backend_health(carrier, within=timeout, backend_name=backend_name)

    return check


def cached_health(
    check: HealthCheck,
    *,
    seconds: float = HEALTH_CACHE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> HealthCheck:
    """`check`, run at most once per `seconds`; callers during a run share its answer.

    A failing answer is kept as long as a good one: a struggling backend is the
    one that must not be asked more often. With `seconds` 0 every call after the
    running probe asks again (concurrent calls still share one probe).
    """
    answer: dict[str, Any] | None = None
    answered_at = 0.0
    running: asyncio.Future[dict[str, Any]] | None = None

    async def probe() -> dict[str, Any]:
        nonlocal answer, answered_at, running
        try:
            result = await check()
        finally:
            running = None
        answer, answered_at = result, clock()
        return result

    async def cached() -> dict[str, Any]:
        nonlocal running
        if answer is not None and clock() - answered_at < seconds:
            return dict(answer)
        if running is None:
            running = asyncio.ensure_future(probe())
        # Shielded: one caller going away (a load balancer's timeout) does not cancel
        # the probe the others wait for.
        return dict(await asyncio.shield(running))

    return cached


async def credentials_refused(
    carrier: object | None, *, within: float = STARTUP_CHECK_SECONDS
) -> str | None:
    """At start-up: the one line saying the carrier refused the bot's credentials, else None.

    Only a refused key stops start-up (it will not fix itself); a carrier that is down
    or slow does not: the sync retries, and `/health` says so meanwhile.
    """
    if not isinstance(carrier, Pingable):
        return None
    try:
        await asyncio.wait_for(carrier.ping(), within)
    except CarrierAuthFailed as exc:
        return exc.reason
    except Exception:  # reported by /health and the sync's log, not here
        return None
    return None


async def database_health(
    engine: AsyncEngine, *, within: float = HEALTH_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """`{"ok": bool, "detail": words}` for the bot's own database: does `SELECT 1` answer?

    Never the URL (it may carry a password) nor the driver's words.
    """
    try:
        async with asyncio.timeout(within):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return {"ok": False, "detail": f"the database did not answer within {within:g} s"}
    except Exception:  # a health check reports; it never crashes the endpoint
        return {"ok": False, "detail": "the database could not be reached"}
    return {"ok": True, "detail": "answers"}


def with_database(
    check: HealthCheck, engine: AsyncEngine, *, timeout: float = HEALTH_TIMEOUT_SECONDS
) -> HealthCheck:
    """`check` (the backend's) with the database's answer under `"database"`; ok needs both."""

    async def checked() -> dict[str, Any]:
        backend, database = await asyncio.gather(check(), database_health(engine, within=timeout))
        return {**backend, "ok": bool(backend.get("ok")) and database["ok"], "database": database}

    return checked
