"""What the service layer tells operations about (purchases, holds, the worker's queue).

A port the service owns: `bot.metrics.Metrics` implements it with Prometheus;
`NoTelemetry` (the default) drops everything, so tests and tools that build
`Deps` themselves need nothing. Calls are cheap and never raise.
"""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def purchase(self, outcome: str) -> None:
        """A purchase request reached `outcome` (a request state: quoted, cancelled, ...)."""

    def holds(self, event: str, count: int = 1) -> None:
        """`count` holds were `placed` at the carrier or `given_back`."""

    def queue_depth(self, queue: str, depth: int) -> None:
        """Work the background worker found waiting in `queue` on its last look."""

    def sync_run(self, outcome: str, seconds: float) -> None:
        """A mirror sync ended (`ok` or `failed`) after `seconds`."""


class NoTelemetry:
    def purchase(self, outcome: str) -> None:
        pass

    def holds(self, event: str, count: int = 1) -> None:
        pass

    def queue_depth(self, queue: str, depth: int) -> None:
        pass

    def sync_run(self, outcome: str, seconds: float) -> None:
        pass
