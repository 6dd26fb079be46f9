"""Quote, buy, partial failure and an order timeout resolved both ways, on both carriers."""

from __future__ import annotations

from decimal import Decimal

from bot.backends.carrier import CarrierNumberState, OrderOutcome
from bot.domain.phone import Kind
from tests.contract.worlds import ACCOUNT, World


async def test_a_quote_prices_each_kind_and_buys_nothing(world: World) -> None:
    local = await world.offered("415", quantity=2)
    tollfree = await world.offered("888", quantity=1, kind=Kind.TOLLFREE)

    priced = await world.carrier.quote(local + tollfree, account_id=ACCOUNT)

    quote = priced.quote
    assert [(i.name, i.quantity, i.rate, i.total) for i in quote.items] == [
        ("Local numbers", 2, Decimal("1.00"), Decimal("2.00")),
        ("Toll-free numbers", 1, Decimal("2.00"), Decimal("2.00")),
    ]
    assert quote.difference == Decimal("4.00")
    assert quote.activation_today == Decimal("1.50")
    assert (quote.currency, quote.monthly_before) == ("USD", Decimal("0"))
    assert (priced.activated, priced.refused) == ((), ())
    for number in local + tollfree:
        status = await world.carrier.number_status(number, account_id=ACCOUNT)
        assert status.state is CarrierNumberState.UNKNOWN
        assert world.times_sold(number) == 0


async def test_a_quote_for_numbers_already_bought_costs_nothing_and_says_so(world: World) -> None:
    numbers = await world.bought(quantity=2)

    priced = await world.carrier.quote(numbers, account_id=ACCOUNT)

    assert priced.activated == tuple(numbers)
    assert priced.quote.difference == Decimal("0")
    assert priced.quote.activation_today == Decimal("0")
    assert all(world.times_sold(n) == 1 for n in numbers)


async def test_a_quote_mixing_owned_and_new_numbers_prices_only_the_new(world: World) -> None:
    """Shared: only new numbers are priced, and a quote that costs money buys nothing.

    The difference: Kazoo's paid dry run (its 402) names no number as already
    activated, even one the account owns; the simulated carrier names the
    numbers the account already owns in `activated`.
    """
    [owned] = await world.bought()
    [new] = await world.offered()

    priced = await world.carrier.quote([owned, new], account_id=ACCOUNT)

    assert [(i.name, i.quantity) for i in priced.quote.items] == [("Local numbers", 1)]
    assert priced.quote.difference == Decimal("1.00")
    assert (await world.carrier.number_status(owned, account_id=ACCOUNT)).owned_by(ACCOUNT)
    status = await world.carrier.number_status(new, account_id=ACCOUNT)
    assert status.state is CarrierNumberState.UNKNOWN
    assert priced.activated == ((owned,) if world.quote_names_owned_when_charging else ())


async def test_an_order_buys_each_number_once_and_a_repeat_changes_nothing(world: World) -> None:
    numbers = await world.offered(quantity=2)

    first = await world.carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-1")
    again = await world.carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-1")
    # A new key (a restart forgot the old one) still bills an owned number once.
    other_key = await world.carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-1b")

    assert first.numbers(OrderOutcome.BOUGHT) == numbers
    assert again == first
    assert other_key.numbers(OrderOutcome.BOUGHT) == numbers
    for number in numbers:
        status = await world.carrier.number_status(number, account_id=ACCOUNT)
        assert status.owned_by(ACCOUNT) and status.spare
        assert status.state is CarrierNumberState.IN_SERVICE
        assert world.times_sold(number) == 1


async def test_one_number_of_several_failing_fails_alone_with_its_reason(world: World) -> None:
    numbers = await world.offered(quantity=3)
    world.fail_number(numbers[1], "the upstream carrier refused this number")

    result = await world.carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-2")

    outcomes = result.by_number()
    assert [outcomes[n].outcome for n in numbers] == [
        OrderOutcome.BOUGHT,
        OrderOutcome.FAILED,
        OrderOutcome.BOUGHT,
    ]
    failed = outcomes[numbers[1]]
    assert failed.reason == "the upstream carrier refused this number"
    assert failed.retryable
    assert [world.times_sold(n) for n in numbers] == [1, 0, 1]
    status = await world.carrier.number_status(numbers[1], account_id=ACCOUNT)
    assert status.state is CarrierNumberState.UNKNOWN


async def test_an_order_that_timed_out_but_went_through_is_reconciled_as_bought_once(
    world: World,
) -> None:
    carrier = world.quick
    numbers = await world.offered(quantity=2)
    world.time_out_next_order(went_through=True)

    first = await carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-3")

    assert first.numbers(OrderOutcome.UNKNOWN) == numbers
    for number in numbers:
        assert (await carrier.number_status(number, account_id=ACCOUNT)).owned_by(ACCOUNT)
    settled = await carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-3")
    assert settled.numbers(OrderOutcome.BOUGHT) == numbers
    assert [world.times_sold(n) for n in numbers] == [1, 1]


async def test_an_order_that_timed_out_before_the_carrier_acted_is_retried_and_bought_once(
    world: World,
) -> None:
    carrier = world.quick
    numbers = await world.offered(quantity=2)
    world.time_out_next_order(went_through=False)

    first = await carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-4")

    assert first.numbers(OrderOutcome.UNKNOWN) == numbers
    for number in numbers:
        status = await carrier.number_status(number, account_id=ACCOUNT)
        assert status.state is CarrierNumberState.UNKNOWN  # not bought
        assert world.times_sold(number) == 0
    settled = await carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-4")
    assert settled.numbers(OrderOutcome.BOUGHT) == numbers
    assert [world.times_sold(n) for n in numbers] == [1, 1]
    again = await carrier.order(numbers, account_id=ACCOUNT, idempotency_key="req-4")
    assert again == settled
