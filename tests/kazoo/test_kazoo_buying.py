"""The 402 quote in both shapes, the purchase, per-number outcomes and credit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.backends.carrier import NotEnoughCredit, OrderOutcome
from bot.backends.kazoo import KazooCarrier
from tests.kazoo.helpers import bought, offered
from tests.kazoo_standin import CHILD_A, CHILD_B, KazooStandIn


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
    assert priced.activated == () and priced.priced
    # The plan's other items (users, numbers already there) are on the invoice, not new.
    assert quote.monthly_after - quote.monthly_before == Decimal("4.00")
    assert standin.model.charges == []
    # Still only in the search cache: nothing was written to Kazoo's numbers database.
    assert not set(numbers) & set(standin.model.numbers)
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
    assert numbers[2] not in standin.model.numbers
    # Kazoo answers 200 even with a number refused (H1).
    assert standin.calls("PUT", "collection/activate")[-1].body["accept_charges"] is True


async def test_a_number_taken_meanwhile_on_another_account_is_never_taken(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)
    # Bought in SmartPBX by a sibling account: Kazoo itself would move it (M1).
    standin.change_number(numbers[1], state="in_service", assigned_to=CHILD_B)

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-4")

    failed = result.by_number()[numbers[1]]
    assert failed.outcome is OrderOutcome.FAILED and not failed.retryable
    assert "another account" in failed.reason
    assert result.by_number()[numbers[0]].outcome is OrderOutcome.BOUGHT
    assert standin.model.numbers[numbers[1]].assigned_to == CHILD_B
    sent = standin.calls("PUT", "collection/activate")[-1].body["data"]["numbers"]
    assert sent == [numbers[0]]


async def test_each_refused_number_carries_kazoos_reason_and_the_code_decides_retries(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=4)
    standin.fail_number(numbers[0], bare="not_found")
    standin.fail_number(
        numbers[1],
        code=400,
        error="invalid_state_transition",
        message="invalid state transition",
        cause="from port_out to in_service",
    )
    standin.fail_number(
        numbers[2], code=403, error="forbidden", message="requestor is unauthorized"
    )

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-r")

    by = result.by_number()
    assert (by[numbers[0]].reason, by[numbers[0]].retryable) == (
        "Kazoo no longer has it from the search (not_found); search again.",
        False,
    )
    assert by[numbers[1]].reason == ("invalid state transition (from port_out to in_service)")
    assert not by[numbers[1]].retryable
    assert "requestor is unauthorized" in by[numbers[2]].reason and not by[numbers[2]].retryable
    assert by[numbers[3]].outcome is OrderOutcome.BOUGHT
    # No `/check`: it answers "error" for every number on almost every carrier (M3).
    assert standin.calls("POST", "/check") == []


async def test_a_number_the_search_cache_lost_fails_with_kazoos_not_found(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)
    standin.model.discovery.clear()  # another node, or a reset search

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-l")

    assert {r.reason for r in result.results} == {
        "Kazoo no longer has it from the search (not_found); search again."
    }
    assert standin.model.charges == []


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
    assert not set(numbers) & set(standin.model.numbers)


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


async def test_a_43_billing_refusal_naming_no_number_is_never_taken_as_bought(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """4.3 has no `402 not_enough_credit` on activation (M8): the refusal is probably a
    success with no result. Nothing is recorded bought; asking again settles nothing."""
    standin.model.credit = Decimal("1.00")
    standin.model.credit_refusal = "4.3"
    numbers = await offered(carrier, quantity=2)

    first = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-m8")
    again = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="req-m8")

    assert first.numbers(OrderOutcome.UNKNOWN) == numbers
    assert again.numbers(OrderOutcome.BOUGHT) == []
    assert standin.model.charges == []
    assert not set(numbers) & set(standin.model.numbers)
