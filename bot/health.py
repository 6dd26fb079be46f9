"""What `GET /health` says: whether the backend answers, as JSON, without secrets.

The embedded backend lives in this process, so it always answers. A carrier
that can be asked (`ping()`, as `KazooCarrier` has) is asked with a short
timeout: a load balancer's health check must not hang on a slow cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends.carrier import CarrierAuthFailed, CarrierFailure, CarrierUnavailable

HEALTH_TIMEOUT_SECONDS = 2.0
# At start-up the carrier is asked once whether it takes the bot's credentials.
STARTUP_CHECK_SECONDS = 10.0

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


@runtime_checkable
class Pingable(Protocol):
    name: str

    async def ping(self) -> None: ...


async def backend_health(
    carrier: object | None, *, within: float = HEALTH_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """`{"ok": bool, "backend": name, "detail": words}`; never an exception, never a secret."""
    if not isinstance(carrier, Pingable):
        name = getattr(carrier, "name", None) or "embedded"
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
        return {"ok": True, "backend": carrier.name, "detail": "answers"}
    return {"ok": False, "backend": carrier.name, "detail": f"{carrier.name} {detail}"}


def health_check(carrier: object | None, *, timeout: float = HEALTH_TIMEOUT_SECONDS) -> HealthCheck:
    """The check `web_app(..., health=...)` runs on each `GET /health`."""

    async def check() -> dict[str, Any]:
        return await backend_health(carrier, within=timeout)

    return check


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
