"""The 402 quote in both shapes, the purchase, per-number outcomes and credit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.backends.carrier import NotEnoughCredit, OrderOutcome
from bot.backends.kazoo import KazooCarrier
from tests.kazoo.helpers import bought, offered
from tests.kazoo_standin import CHILD_A, KazooStandIn


async def test_quote_reads_the_invoices_shape_without_buying(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2) + await offered(carrier, "888", quantity=1)

    priced = await carrier.quote(numbers, account_id=CHILD_A)

    quote = priced.quote
    assert [(i.name, i.quantity, i.rate, i.total) for i in quote.items] == [
        ("Local numbers", 2, Decimal("1.00"), Decimal("2.00")),
        ("Toll-free numbers", 1, Decimal("2.00"), Decimal("2.00")),
    ]
    assert quote.activation_today == Decimal("1.50")
    assert quote.difference == Decimal("4.00")
    assert priced.activated == ()
    assert standin.model.charges == []
    assert {standin.model.numbers[n].state for n in numbers} == {"discovery"}
    assert "accept_charges" not in standin.calls("PUT", "collection/activate")[-1].body


async def test_quote_reads_the_legacy_shape(carrier: KazooCarrier, standin: KazooStandIn) -> None:
    standin.model.quote_shape = "legacy"
    numbers = await offered(carrier, quantity=3)

    quote = (await carrier.quote(numbers, account_id=CHILD_A)).quote

    assert [(i.name, i.quantity, i.total) for i in quote.items] == [
        ("Local numbers", 3, Decimal("3.00"))
    ]
    assert quote.activation_today == Decimal("1.50")
    assert quote.difference == Decimal("3.00")


async def test_a_free_activation_is_reported_as_already_bought(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2)

    priced = await carrier.quote(numbers, account_id=CHILD_A)

    assert priced.activated == tuple(numbers)
    assert priced.quote.difference == Decimal("0")


async def test_order_accepts_charges_and_buys_each_number_once(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)

    first = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-1")
    again = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-1")

    assert first.numbers(OrderOutcome.BOUGHT) == numbers
    assert again == first
    assert standin.calls("PUT", "collection/activate")[-1].body["accept_charges"] is True
    assert len(standin.calls("PUT", "collection/activate")) == 1
    assert sorted(n for _, n, _ in standin.model.charges) == sorted(numbers)
    assert {standin.model.numbers[n].state for n in numbers} == {"in_service"}


async def test_a_new_carrier_repeating_an_order_is_not_billed_twice(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2, key="req-2")
    # After a restart the key is forgotten; Kazoo does not bill an in-service number again.
    restarted = KazooCarrier(carrier._client, root_account_id=carrier.root_account_id)

    result = await restarted.order(numbers, account_id=CHILD_A, idempotency_key="req-2")

    assert result.numbers(OrderOutcome.BOUGHT) == numbers
    assert len(standin.model.charges) == 2


async def test_a_500_on_one_number_of_five_fails_only_that_number(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=5)
    standin.fail_number(numbers[2])

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-3")

    outcomes = result.by_number()
    assert [outcomes[n].outcome for n in numbers] == [
        OrderOutcome.BOUGHT,
        OrderOutcome.BOUGHT,
        OrderOutcome.FAILED,
        OrderOutcome.BOUGHT,
        OrderOutcome.BOUGHT,
    ]
    assert outcomes[numbers[2]].reason == "fault by carrier"
    assert outcomes[numbers[2]].retryable
    assert sorted(n for _, n, _ in standin.model.charges) == sorted(
        n for n in numbers if n != numbers[2]
    )
    assert standin.model.numbers[numbers[2]].state == "discovery"


async def test_a_number_taken_meanwhile_fails_as_not_retryable(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)
    standin.change_number(numbers[1], state="in_service", assigned_to="someone-else")

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-4")

    failed = result.by_number()[numbers[1]]
    assert failed.outcome is OrderOutcome.FAILED and not failed.retryable
    assert "from in_service to in_service" in failed.reason
    assert result.by_number()[numbers[0]].outcome is OrderOutcome.BOUGHT


async def test_not_enough_credit_is_its_own_error_and_buys_nothing(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    standin.model.credit = Decimal("1.00")
    numbers = await offered(carrier, quantity=2)

    with pytest.raises(NotEnoughCredit) as refused:
        await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-5")

    assert not refused.value.retryable
    assert "credit" in refused.value.message
    assert standin.model.charges == []
    assert {standin.model.numbers[n].state for n in numbers} == {"discovery"}


async def test_a_free_dry_run_reports_what_kazoo_refused(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await bought(carrier, CHILD_A, quantity=2)
    standin.fail_number(numbers[1], code=400, error="forbidden", message="not allowed")

    priced = await carrier.quote(numbers, account_id=CHILD_A)

    assert priced.activated == (numbers[0],)
    assert priced.refused == ((numbers[1], "not allowed"),)


async def test_a_dry_run_kazoo_fails_as_a_whole_raises(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: object
) -> None:
    from bot.backends.carrier import CarrierFault

    numbers = await offered(carrier, quantity=2)
    standin.fail_next(500, count=10, path="collection/activate", data={"message": "db down"})

    with pytest.raises(CarrierFault, match="db down"):
        await carrier.quote(numbers, account_id=CHILD_A)


async def test_concurrent_repeats_of_one_order_activate_once(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    import asyncio

    numbers = await offered(carrier, quantity=2)

    results = await asyncio.gather(
        *(carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-c") for _ in range(3))
    )

    assert all(r.numbers(OrderOutcome.BOUGHT) == numbers for r in results)
    accepted = [
        c for c in standin.calls("PUT", "collection/activate") if c.body.get("accept_charges")
    ]
    assert len(accepted) == 1
    assert len(carrier._order_locks) == 0  # no lock kept once the orders are done
