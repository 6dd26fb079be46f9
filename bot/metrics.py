"""Prometheus metrics of one running app, served at `GET /metrics`.

Each `Metrics` has its own registry (not prometheus_client's global one), so
several apps in one process (the tests, the benchmarks) count apart. It is
the service layer's `Telemetry` (bot/service/telemetry.py), the carrier
guard's call observer (bot/backends/guard.py) and what the Slack middleware
in bot/app.py records requests with; nothing else imports prometheus_client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "LoopLagSampler", "Metrics"]

# Seconds; Slack gives an ack 3 s, so the buckets are finest below that.
LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0, 30.0)
LAG = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SYNC = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The process's CPU, memory and open files, and the garbage collector's passes.
        ProcessCollector(registry=r)
        GCCollector(registry=r)
        self.requests = Counter(
            "numbers_bot_requests",
            "Slack requests handled, by surface (command, action, view, event, options,"
            " shortcut) and outcome (ok, error).",
            ["surface", "outcome"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "numbers_bot_request_seconds",
            "From a Slack request's arrival to the end of its listener, work after the ack"
            " included.",
            ["surface"],
            buckets=LATENCY,
            registry=r,
        )
        self.ack_seconds = Histogram(
            "numbers_bot_ack_seconds",
            "From a Slack request's arrival to its acknowledgement (Slack waits 3 s).",
            ["surface"],
            buckets=LATENCY,
            registry=r,
        )
        self.purchases = Counter(
            "numbers_bot_purchases",
            "Purchase requests reaching a state (quoted, awaiting_approval, provisioning,"
            " completed, partially_completed, failed, rejected, cancelled, expired).",
            ["outcome"],
            registry=r,
        )
        self.hold_events = Counter(
            "numbers_bot_holds",
            "Holds on numbers placed, given back at the carrier, or expired.",
            ["event"],
            registry=r,
        )
        self.carrier_calls = Counter(
            "numbers_bot_carrier_calls",
            "Calls to the carrier, by operation.",
            ["operation"],
            registry=r,
        )
        self.carrier_errors = Counter(
            "numbers_bot_carrier_errors",
            "Carrier calls that raised, by operation and error class.",
            ["operation", "error"],
            registry=r,
        )
        self.carrier_seconds = Histogram(
            "numbers_bot_carrier_call_seconds",
            "How long carrier calls took, by operation.",
            ["operation"],
            buckets=LATENCY,
            registry=r,
        )
        self.sync_runs = Counter(
            "numbers_bot_sync_runs",
            "Full mirror syncs from the carrier, by outcome (ok, failed).",
            ["outcome"],
            registry=r,
        )
        self.sync_seconds = Histogram(
            "numbers_bot_sync_seconds", "How long full mirror syncs took.", buckets=SYNC, registry=r
        )
        self.queue = Gauge(
            "numbers_bot_worker_queue_depth",
            "Work the background worker found waiting on its last look, by queue"
            " (provisioning, expired_holds, resync).",
            ["queue"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "numbers_bot_event_loop_lag_seconds",
            "How late the event loop woke a sampler that asked to sleep a fixed interval.",
            buckets=LAG,
            registry=r,
        )
        self.http_in_flight = Gauge(
            "numbers_bot_http_requests_in_flight", "HTTP requests being served.", registry=r
        )
        self.http_refused = Counter(
            "numbers_bot_http_refused",
            "Slack requests refused with 503 because this replica is shutting down.",
            registry=r,
        )

    # --- the service layer's Telemetry ------------------------------------------------

    def purchase(self, outcome: str) -> None:
        self.purchases.labels(outcome).inc()

    def holds(self, event: str, count: int = 1) -> None:
        if count:
            self.hold_events.labels(event).inc(count)

    def queue_depth(self, queue: str, depth: int) -> None:
        self.queue.labels(queue).set(depth)

    def sync_run(self, outcome: str, seconds: float) -> None:
        self.sync_runs.labels(outcome).inc()
        self.sync_seconds.observe(seconds)

    # --- the Slack layer --------------------------------------------------------------

    def acked(self, surface: str, seconds: float) -> None:
        self.ack_seconds.labels(surface).observe(seconds)

    def handled(self, surface: str, seconds: float, *, ok: bool) -> None:
        self.requests.labels(surface, "ok" if ok else "error").inc()
        self.request_seconds.labels(surface).observe(seconds)

    # --- the carrier guard's observer -------------------------------------------------

    def carrier_call(self, operation: str, seconds: float, error: BaseException | None) -> None:
        self.carrier_calls.labels(operation).inc()
        self.carrier_seconds.labels(operation).observe(seconds)
        if error is not None:
            cancelled = isinstance(error, asyncio.CancelledError)
            kind = "Cancelled" if cancelled else type(error).__name__
            self.carrier_errors.labels(operation, kind).inc()

    def render(self) -> bytes:
        """The text exposition format (`CONTENT_TYPE_LATEST`)."""
        return generate_latest(self.registry)


class LoopLagSampler:
    """Sleeps `interval` again and again and records how much later than asked it woke.

    A lag of L means some callback held the loop for about L (give or take
    one interval). `worst` keeps the largest seen since the last `reset`.
    """

    def __init__(self, record: Callable[[float], None] | None = None, interval: float = 0.1):
        self.record = record
        self.interval = interval
        self.worst = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        self.worst = 0.0
        self.samples = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - began - self.interval)
            self.worst = max(self.worst, lag)
            self.samples += 1
            if self.record is not None:
                self.record(lag)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
