"""What `GET /health` says: whether the backend answers, as JSON, without secrets.

The embedded backend lives in this process, so it always answers. A carrier
out of process (`Pingable`, as `KazooCarrier` is; chosen in `bot/bootstrap.py`) is
asked with a short timeout: a load balancer's health check must not hang on a slow cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

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
    carrier: Pingable | None, *, within: float = HEALTH_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """`{"ok": bool, "backend": name, "detail": words}`; never an exception, never a secret."""
    if carrier is None:
        return {"ok": True, "backend": "embedded", "detail": "in process"}
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


def health_check(
    carrier: Pingable | None, *, timeout: float = HEALTH_TIMEOUT_SECONDS
) -> HealthCheck:
    """The check `web_app(..., health=...)` runs on each `GET /health`."""

    async def check() -> dict[str, Any]:
        return await backend_health(carrier, within=timeout)

    return check


async def credentials_refused(
    carrier: Pingable | None, *, within: float = STARTUP_CHECK_SECONDS
) -> str | None:
    """At start-up: the one line saying the carrier refused the bot's credentials, else None.

    Only a refused key stops start-up (it will not fix itself); a carrier that is down
    or slow does not: the sync retries, and `/health` says so meanwhile.
    """
    if carrier is None:
        return None
    try:
        await asyncio.wait_for(carrier.ping(), within)
    except CarrierAuthFailed as exc:
        return exc.reason
    except Exception:  # reported by /health and the sync's log, not here
        return None
    return None
