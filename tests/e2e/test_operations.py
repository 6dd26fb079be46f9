"""Operations through the real HTTP endpoint: `/metrics`, `/ready`, `/health`, draining."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.backends.carrier import CarrierUnavailable, OrderResult
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, BotFactory, Harness, result_labels, says


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def buy_two(bot: Harness) -> None:
    """Search, pick two numbers, submit and Accept (no approval: bought at once)."""
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:2])
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Bought 2 numbers"), channel=CHANNEL)


async def test_metrics_count_requests_purchases_holds_and_carrier_calls(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    other = await make_bot()  # a second app in the same process counts apart
    await bot.driver.app_home_opened(ADMIN)
    await buy_two(bot)

    status, text = await _get(bot.server.url + "/metrics")
    assert status == 200
    found = samples(text)
    for surface in ("command", "action", "view", "event"):
        assert value(found, "numbers_bot_requests_total", surface=surface, outcome="ok") >= 1
        assert value(found, "numbers_bot_ack_seconds_count", surface=surface) >= 1
        assert value(found, "numbers_bot_request_seconds_count", surface=surface) >= 1
    assert value(found, "numbers_bot_purchases_total", outcome="quoted") == 1
    assert value(found, "numbers_bot_purchases_total", outcome="provisioning") == 1
    assert value(found, "numbers_bot_purchases_total", outcome="completed") == 1
    assert value(found, "numbers_bot_holds_total", event="placed") == 2
    assert value(found, "numbers_bot_carrier_calls_total", operation="order") >= 1
    assert value(found, "numbers_bot_carrier_calls_total", operation="search") >= 1
    assert value(found, "numbers_bot_carrier_call_seconds_count", operation="order") >= 1
    assert value(found, "numbers_bot_worker_queue_depth", queue="provisioning") == 0
    assert "numbers_bot_event_loop_lag_seconds" in text

    _, untouched = await _get(other.server.url + "/metrics")
    assert value(samples(untouched), "numbers_bot_purchases_total", outcome="quoted") == 0


async def test_carrier_errors_are_counted_by_operation(make_bot: BotFactory) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    sim = bot.runtime.carrier
    assert sim is not None

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise CarrierUnavailable("the carrier could not be reached")

    sim.search = down  # type: ignore[method-assign]
    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Area code", "415")
    await bot.driver.click(ADMIN, "Search")
    await bot.settle()

    _, text = await _get(bot.server.url + "/metrics")
    found = samples(text)
    errors = [k for k in found if k[0] == "numbers_bot_carrier_errors_total" and found[k] >= 1]
    assert any(dict(labels).get("operation") == "search" for _, labels in errors), errors


async def test_the_worker_queue_depth_counts_purchases_in_provisioning(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    gate = asyncio.Event()
    sim = bot.runtime.carrier
    assert sim is not None
    order = sim.order

    async def held_order(*args: Any, **kwargs: Any) -> OrderResult:
        await gate.wait()
        return await order(*args, **kwargs)

    sim.order = held_order  # type: ignore[method-assign]
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    await bot.driver.click(ADMIN, "Accept", channel=CHANNEL)
    await bot.worker.run_once()
    gate.set()
    await bot.settle()

    _, text = await _get(bot.server.url + "/metrics")
    assert value(samples(text), "numbers_bot_worker_queue_depth", queue="provisioning") == 1


# --- /ready and draining --------------------------------------------------------------


async def test_draining_refuses_new_requests_and_lets_a_purchase_in_hand_finish(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    assert (await _get(bot.server.url + "/ready"))[0] == 200
    entered, release = asyncio.Event(), asyncio.Event()
    sim = bot.runtime.carrier
    assert sim is not None
    order = sim.order

    async def held_order(*args: Any, **kwargs: Any) -> OrderResult:
        entered.set()
        await release.wait()
        return await order(*args, **kwargs)

    sim.order = held_order  # type: ignore[method-assign]
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    await bot.driver.click(ADMIN, "Accept", channel=CHANNEL)
    await entered.wait()  # the purchase is in hand, provisioning

    draining = asyncio.create_task(bot.server.drain(60))
    await asyncio.sleep(0)
    status, body = await _get(bot.server.url + "/ready")
    assert status == 503 and json.loads(body) == {"ready": False, "detail": "shutting down"}
    refused = await bot.driver.slash(ADMIN, CHANNEL, text="help")
    assert refused.status == 503
    # Probes still answer while draining.
    assert (await _get(bot.server.url + "/metrics"))[0] == 200
    assert (await _get(bot.server.url + "/health"))[0] == 200
    assert not draining.done()

    release.set()
    assert await draining is True
    assert says(CHANNEL, "Bought 1 number")(bot.state)
    _, text = await _get(bot.server.url + "/metrics")
    assert value(samples(text), "numbers_bot_http_refused_total") == 1


async def test_a_purchase_cut_off_by_the_drain_is_handed_back_and_resumed(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    entered, release = asyncio.Event(), asyncio.Event()
    sim = bot.runtime.carrier
    assert sim is not None
    order = sim.order

    async def held_order(*args: Any, **kwargs: Any) -> OrderResult:
        entered.set()
        await release.wait()
        return await order(*args, **kwargs)

    sim.order = held_order  # type: ignore[method-assign]
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    await bot.driver.click(ADMIN, "Accept", channel=CHANNEL)
    await entered.wait()

    # The carrier never answers within the drain: the listener is cancelled.
    assert await bot.server.drain(0.01) is False
    await bot.settle()  # nothing left running
    (request,) = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    assert request.state.value == "provisioning"
    assert sim.sales == []

    # Another replica starting up takes it over and finishes it.
    release.set()
    resumed = await bot.worker.resume()
    assert resumed == [request.id]
    done = await bot.runtime.services.purchases.get(bot.actor(), request.id)
    assert done.state.value == "completed"
    assert len(sim.sales) == 1


async def test_a_cancelled_request_counts_its_holds_given_back(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:2])
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Cancel", says(CHANNEL, "Cancelled"), channel=CHANNEL)

    _, text = await _get(bot.server.url + "/metrics")
    found = samples(text)
    assert value(found, "numbers_bot_purchases_total", outcome="cancelled") == 1
    assert value(found, "numbers_bot_holds_total", event="placed") == 2
    assert value(found, "numbers_bot_holds_total", event="given_back") == 2


async def test_an_expired_hold_is_counted(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    bot.clock.advance(minutes=16)  # past the 15-minute quote hold
    tick = await bot.worker.run_once()
    assert len(tick.expired) == 1

    _, text = await _get(bot.server.url + "/metrics")
    found = samples(text)
    assert value(found, "numbers_bot_purchases_total", outcome="expired") == 1
    assert value(found, "numbers_bot_holds_total", event="expired") == 1
    assert value(found, "numbers_bot_worker_queue_depth", queue="expired_holds") == 1
