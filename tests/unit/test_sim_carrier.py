"""What only the simulated carrier does; the shared promises are in tests/contract/."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from bot.backends.carrier import (
    CarrierUser,
    Holds,
    NotFoundAtCarrier,
    NumberConflict,
    NumberSupplier,
    OrderOutcome,
    PhoneSystem,
    RouteTarget,
)
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings
from bot.domain.phone import Kind, SearchQuery

ACCOUNT = "acct-a"


def make(**settings: object) -> SimCarrier:
    knobs = {"seed": "sim", "inventory_per_prefix": 10, **settings}
    stock = SimulatedCarrier(CarrierSettings.model_validate(knobs))
    return SimCarrier(stock, PlanSettings().to_plan())


async def offered(carrier: SimCarrier, quantity: int = 1) -> list[str]:
    page = await carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=quantity)
    return [o.e164 for o in page.offers]


def test_sim_carrier_has_every_method_of_its_capabilities_with_the_same_parameters() -> None:
    for name, member in [
        item
        for capability in (NumberSupplier, Holds, PhoneSystem)
        for item in vars(capability).items()
    ]:
        if inspect.iscoroutinefunction(member):
            assert inspect.signature(getattr(SimCarrier, name)).parameters.keys() == (
                inspect.signature(member).parameters.keys()
            ), name


async def test_concurrent_repeats_of_one_order_sell_once() -> None:
    carrier = make(latency_ms=1)
    numbers = await offered(carrier, 2)

    results = await asyncio.gather(
        *(carrier.order(numbers, account_id=ACCOUNT, idempotency_key="k") for _ in range(3))
    )

    assert all(r.numbers(OrderOutcome.BOUGHT) == numbers for r in results)
    assert [carrier.times_sold(n) for n in numbers] == [1, 1]
    assert len(carrier._orders._locks) == 0  # no lock kept once the orders are done


async def test_two_accounts_racing_for_one_number_sell_it_once() -> None:
    carrier = make(latency_ms=1)
    [number] = await offered(carrier)

    first, second = await asyncio.gather(
        carrier.order([number], account_id=ACCOUNT, idempotency_key="a"),
        carrier.order([number], account_id="acct-b", idempotency_key="b"),
    )

    outcomes = sorted(r.results[0].outcome.value for r in (first, second))
    assert outcomes == ["bought", "failed"]
    assert carrier.times_sold(number) == 1


async def test_one_account_racing_itself_with_two_keys_is_billed_once() -> None:
    carrier = make(latency_ms=1)
    [number] = await offered(carrier)

    results = await asyncio.gather(
        carrier.order([number], account_id=ACCOUNT, idempotency_key="a"),
        carrier.order([number], account_id=ACCOUNT, idempotency_key="b"),
    )

    assert [r.results[0].outcome for r in results] == [OrderOutcome.BOUGHT] * 2
    assert carrier.times_sold(number) == 1


async def test_the_stocks_failure_rate_fails_orders_as_retryable() -> None:
    carrier = make(failure_rate=1.0)
    [number] = await offered(carrier)

    [result] = (await carrier.order([number], account_id=ACCOUNT, idempotency_key="k")).results

    assert result.outcome is OrderOutcome.FAILED and result.retryable
    assert carrier.times_sold(number) == 0


async def test_a_number_outside_the_stock_cannot_be_held_or_bought() -> None:
    carrier = make()
    outside = "+14150000001"

    with pytest.raises(NotFoundAtCarrier):
        await carrier.reserve(outside, account_id=ACCOUNT)
    [result] = (await carrier.order([outside], account_id=ACCOUNT, idempotency_key="k")).results

    assert result.outcome is OrderOutcome.FAILED and not result.retryable
    priced = await carrier.quote([outside], account_id=ACCOUNT)
    assert [n for n, _ in priced.refused] == [outside] and priced.quote.items == ()


async def test_without_a_directory_any_user_id_can_be_rung() -> None:
    carrier = make()
    [number] = await offered(carrier)
    await carrier.order([number], account_id=ACCOUNT, idempotency_key="k")

    await carrier.route(number, RouteTarget.user("U123"), account_id=ACCOUNT)

    assert await carrier.routes(account_id=ACCOUNT) == {number: RouteTarget.user("U123")}


async def test_with_a_directory_only_its_people_can_be_rung() -> None:
    stock = SimulatedCarrier(CarrierSettings(seed="sim", inventory_per_prefix=10))
    carrier = SimCarrier(
        stock, PlanSettings().to_plan(), users={ACCOUNT: [CarrierUser("u1", "a@example.com")]}
    )
    [number] = await offered(carrier)
    await carrier.order([number], account_id=ACCOUNT, idempotency_key="k")

    with pytest.raises(NumberConflict):
        await carrier.route(number, RouteTarget.user("u2"), account_id=ACCOUNT)
    await carrier.route(number, RouteTarget.user("u1"), account_id=ACCOUNT)

    assert [u.id for u in await carrier.users(account_id=ACCOUNT)] == ["u1"]


async def test_the_bill_before_counts_the_accounts_numbers_and_e911() -> None:
    from bot.domain.e911 import E911Address

    carrier = make()
    first, second = await offered(carrier, 2)
    await carrier.order([first], account_id=ACCOUNT, idempotency_key="k")
    address = E911Address("116 Natoma St", "San Francisco", "CA", "94105", "Acme")
    await carrier.provision_e911(first, address, account_id=ACCOUNT)

    quote = (await carrier.quote([second], account_id=ACCOUNT)).quote

    plan = carrier.plan
    assert quote.monthly_before == plan.rate(Kind.LOCAL).monthly + plan.e911.monthly
    assert quote.difference == plan.rate(Kind.LOCAL).monthly


async def test_a_released_number_goes_back_into_the_stock() -> None:
    carrier = make()
    [number] = await offered(carrier)
    await carrier.order([number], account_id=ACCOUNT, idempotency_key="k")
    assert number not in await offered(carrier, 9)

    await carrier.release(number, account_id=ACCOUNT)

    assert number in await offered(carrier, 10)
    assert carrier.released == [(number, ACCOUNT)]
