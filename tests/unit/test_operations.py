"""Operations rules: carrier calls observed once for every carrier, the worker's stop,
the database in `/health`, the metric labels of Slack surfaces."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp

from bot.app import surface_of
from bot.backends.carrier import CarrierUnavailable
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import CarrierGuard
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings
from bot.domain.phone import Kind, SearchQuery
from bot.health import database_health, health_check, with_database
from bot.metrics import Metrics
from bot.server import web_app
from bot.worker import Tick, Worker
from storage.db import create_engine


def _carrier() -> SimCarrier:
    return SimCarrier(SimulatedCarrier(CarrierSettings()), PlanSettings().to_plan())


async def test_the_guard_tells_its_observer_of_every_call_and_error() -> None:
    seen: list[tuple[str, str | None]] = []
    inner = _carrier()

    def observe(operation: str, _: float, error: BaseException | None) -> None:
        seen.append((operation, type(error).__name__ if error else None))

    guard = CarrierGuard(observe=observe).wrap(inner)

    async def down(*args: Any, **kwargs: Any) -> None:
        raise CarrierUnavailable("down")

    await guard.search(SearchQuery(kind=Kind.LOCAL, npa="415"), quantity=3)
    inner.reserve = down  # type: ignore[method-assign]
    with pytest.raises(CarrierUnavailable):
        await guard.reserve("+14155550100", account_id="a")
    assert seen == [("search", None), ("reserve", "CarrierUnavailable")]


def test_metrics_name_carrier_errors_by_operation_in_their_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.carrier_call("order", 0.2, CarrierUnavailable("down"))
    one.carrier_call("order", 0.1, asyncio.CancelledError())
    text = one.render().decode()
    assert 'numbers_bot_carrier_calls_total{operation="order"} 2.0' in text
    assert (
        'numbers_bot_carrier_errors_total{error="CarrierUnavailable",operation="order"} 1.0' in text
    )
    assert 'numbers_bot_carrier_errors_total{error="Cancelled",operation="order"} 1.0' in text
    assert "operation=" not in two.render().decode()


@pytest.mark.parametrize(
    ("body", "surface"),
    [
        ({"command": "/numbers", "text": "help"}, "command"),
        ({"type": "block_actions"}, "action"),
        ({"type": "view_submission"}, "view"),
        ({"type": "view_closed"}, "view"),
        ({"type": "event_callback", "event": {"type": "app_home_opened"}}, "event"),
        ({"type": "block_suggestion"}, "options"),
        ({"type": "something new"}, "other"),
    ],
)
def test_every_request_falls_in_one_of_a_few_surfaces(body: dict[str, Any], surface: str) -> None:
    assert surface_of(body) == surface


# --- the worker's stop --------------------------------------------------------------


class _Worker(Worker):
    """A worker whose pass waits for `release`, with nothing else to do."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = 0
        self.done = asyncio.Event()
        services = SimpleNamespace(deps=SimpleNamespace(), deliveries=None)
        super().__init__(services, interval=3600)  # type: ignore[arg-type]

    async def resume(self, *, quiet_only: bool = False) -> list[str]:
        return []

    async def run_once(self) -> Tick:
        self.entered.set()
        await self.release.wait()
        self.finished += 1
        self.done.set()
        return Tick()


async def test_stopping_lets_a_pass_under_way_finish() -> None:
    worker = _Worker()
    worker.start()
    await worker.entered.wait()
    stopping = asyncio.create_task(worker.stop(grace=60))
    await asyncio.sleep(0)
    assert not stopping.done()
    worker.release.set()
    await stopping
    assert worker.finished == 1


async def test_stopping_a_resting_worker_does_not_wait_for_its_next_pass() -> None:
    worker = _Worker()
    worker.release.set()
    worker.start()
    await worker.done.wait()
    # Asleep for an hour: the grace is for a pass under way, not for the rest.
    await asyncio.wait_for(worker.stop(grace=3600), 30)
    assert worker.finished == 1


# --- the database in /health --------------------------------------------------------


async def _health(engine: Any) -> tuple[int, dict[str, Any]]:
    app = AsyncApp(signing_secret="secret", token="xoxb-health")
    server = TestServer(web_app(app, with_database(health_check(None), engine, timeout=5)))
    async with TestClient(server) as client:
        response = await client.get("/health")
        return response.status, await response.json()


async def test_health_says_the_database_answers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    try:
        status, body = await _health(engine)
    finally:
        await engine.dispose()
    assert status == 200
    assert body["ok"] is True and body["backend"] == "embedded"
    assert body["database"] == {"ok": True, "detail": "answers"}


async def test_health_says_the_database_does_not_answer_without_naming_it(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-dir" / "secret-name.db"
    engine = create_engine(f"sqlite+aiosqlite:///{missing}")
    try:
        status, body = await _health(engine)
        alone = await database_health(engine)
    finally:
        await engine.dispose()
    assert status == 503
    assert body["ok"] is False and body["backend"] == "embedded"
    assert body["database"] == {"ok": False, "detail": "the database could not be reached"}
    assert alone == body["database"]
    assert "secret-name" not in str(body)


async def test_ready_and_metrics_answer_for_a_bare_app() -> None:
    server = TestServer(web_app(AsyncApp(signing_secret="secret", token="xoxb-health")))
    async with TestClient(server) as client:
        ready = await client.get("/ready")
        assert (ready.status, await ready.json()) == (200, {"ready": True})
        # A bolt app `build_app` did not make has no metrics to show.
        assert (await client.get("/metrics")).status == 404


def test_serving_freezes_the_start_up_heap() -> None:
    """Full collections skip what start-up built (bench/loop_lag.py: 60-200 ms stalls)."""
    from bot.server import freeze_start_up_heap

    gc.unfreeze()
    try:
        freeze_start_up_heap()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_metrics_show_the_process_and_the_garbage_collector() -> None:
    text = Metrics().render().decode()
    assert "python_gc_collections_total" in text


async def test_sync_runs_are_counted_with_their_outcome_and_the_resync_queue() -> None:
    from bot.service.resync import MirrorDue

    metrics = Metrics()
    due = MirrorDue()
    due.mark("+14155550100")
    due.mark("+14155550101")
    outcomes = iter([None, RuntimeError("kazoo down")])

    async def mirror() -> None:
        failure = next(outcomes)
        if failure is not None:
            raise failure

    services = SimpleNamespace(deps=SimpleNamespace(telemetry=metrics, due=due), deliveries=None)
    worker = Worker(services, mirror=mirror)  # type: ignore[arg-type]
    assert await worker.sync_mirror() is True
    text = metrics.render().decode()
    assert 'numbers_bot_worker_queue_depth{queue="resync"} 2.0' in text
    assert await worker.sync_mirror() is False
    text = metrics.render().decode()
    assert 'numbers_bot_sync_runs_total{outcome="ok"} 1.0' in text
    assert 'numbers_bot_sync_runs_total{outcome="failed"} 1.0' in text
    assert "numbers_bot_sync_seconds_count 2.0" in text
    assert 'numbers_bot_worker_queue_depth{queue="resync"} 0.0' in text
