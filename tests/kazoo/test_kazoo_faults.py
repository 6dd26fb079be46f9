"""Faults: expired token mid-sequence, 429 bursts, 5xx, timeouts reconciled both ways."""

from __future__ import annotations

import pytest

from bot.backends.carrier import (
    CarrierAuthFailed,
    CarrierFault,
    CarrierNumberState,
    CarrierUnavailable,
    OrderOutcome,
    OutcomeUnknown,
)
from bot.backends.kazoo import KazooCarrier
from tests.kazoo.conftest import RecordedSleep, make_carrier
from tests.kazoo.helpers import offered
from tests.kazoo_standin import CHILD_A, CHILD_B, KazooStandIn


async def test_an_expired_token_mid_purchase_reauthenticates_once_and_buys_once(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)
    quote = await carrier.quote(numbers, account_id=CHILD_A)
    assert quote.quote.difference > 0
    standin.expire_tokens()

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="r1")

    assert result.numbers(OrderOutcome.BOUGHT) == numbers
    assert len(standin.calls("PUT", "/api_auth")) == 2
    assert len(standin.model.charges) == 2
    accepted = [
        c for c in standin.calls("PUT", "collection/activate") if c.body.get("accept_charges")
    ]
    # The ownership check before the activation met the 401 and logged in again.
    assert len(accepted) == 1


async def test_a_token_refused_again_after_reauth_is_an_auth_failure(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    await offered(carrier, quantity=1)
    standin.fail_next(401, count=2, path="/phone_numbers")

    with pytest.raises(CarrierAuthFailed):
        await carrier.list_numbers(account_id=CHILD_A)

    assert len(standin.calls("PUT", "/api_auth")) == 2  # one re-auth, no loop


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("0123456789abcdef" * 4, "Kazoo does not know KAZOO_API_KEY"),  # 404
        ("not-the-key", "Kazoo refused KAZOO_API_KEY as malformed"),  # 400
    ],
)
async def test_a_bad_api_key_is_named(
    standin: KazooStandIn, sleeps: RecordedSleep, key: str, says: str
) -> None:
    bad = make_carrier(standin, sleeps, key=key)
    try:
        with pytest.raises(CarrierAuthFailed, match=says) as refused:
            await bad.ping()
    finally:
        await bad.close()
    assert key not in str(refused.value)
    assert sleeps.delays == []  # a refusal is not retried


async def test_an_enveloped_500_on_a_change_is_kazoos_answer_not_retried(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    """M2: Kazoo's 500 (`unspecified_fault`, "fault by carrier") comes back the same on a
    repeat and re-runs the carrier's side effects: it is returned, not retried."""
    [number] = await offered(carrier, quantity=1)
    await carrier.order([number], account_id=CHILD_A, idempotency_key="m2")
    standin.fail_next(
        500, count=5, method="PUT", path="/activate", data={"message": "fault by carrier"}
    )

    with pytest.raises(CarrierFault, match="fault by carrier"):
        await carrier.move(number, from_account_id=CHILD_A, to_account_id=CHILD_B)

    assert len(standin.calls("PUT", f"{number[1:]}/activate")) == 1
    assert sleeps.delays == []


async def test_kazoos_503_on_a_read_is_retried(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    standin.fail_next(503, count=2, path="/phone_numbers", message="datastore_unreachable")

    assert len(await offered(carrier, quantity=1)) == 1
    assert len(sleeps.delays) == 2


async def test_a_429_burst_is_retried_with_bounded_jittered_backoff(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    standin.fail_next(429, count=3, path="/phone_numbers")

    numbers = await offered(carrier, quantity=2)

    assert len(numbers) == 2
    assert len(sleeps.delays) == 3
    # Retry n waits between half and all of min(cap, base * 2**(n-1)).
    for n, delay in enumerate(sleeps.delays, start=1):
        ceiling = min(2.0, 0.2 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(sleeps.delays)) == 3


async def test_an_activation_bucket_that_runs_dry_is_waited_out(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    """Crossbar's extra per-account bucket on `PUT /{n}/activate` answers 429, with no
    Retry-After: the backoff alone waits."""
    [number] = await offered(carrier, quantity=1)
    await carrier.order([number], account_id=CHILD_A, idempotency_key="b1")
    standin.model.activation_tokens = 0.0
    standin.model.activation_refill = 0.4  # a token is back by the third try

    await carrier.move(number, from_account_id=CHILD_A, to_account_id=CHILD_B)

    assert standin.model.numbers[number].assigned_to == CHILD_B
    assert len(sleeps.delays) == 2
    assert len(standin.calls("PUT", f"{number[1:]}/activate")) == 3


async def test_a_429_that_never_ends_gives_up_after_the_bound(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    standin.fail_next(429, count=100, path="/phone_numbers")

    with pytest.raises(CarrierUnavailable, match="rate-limited"):
        await offered(carrier, quantity=1)

    assert len(sleeps.delays) == 3
    assert len(standin.calls("GET", "/phone_numbers")) == 4


async def test_a_5xx_on_a_read_is_retried(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    standin.fail_next(503, count=2, path="/phone_numbers", plain=True)

    numbers = await offered(carrier, quantity=1)

    assert len(numbers) == 1 and len(sleeps.delays) == 2


async def test_a_gateway_error_on_an_order_leaves_the_outcome_unknown(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(carrier, quantity=2)
    standin.fail_next(502, count=10, method="PUT", path="collection/activate", plain=True)

    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="r2")

    assert result.numbers(OrderOutcome.UNKNOWN) == numbers


async def test_an_order_that_timed_out_but_went_through_is_reconciled_as_bought(
    quick: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(quick, quantity=2)
    standin.hang_next("PUT", "collection/activate", apply=True)

    first = await quick.order(numbers, account_id=CHILD_A, idempotency_key="r3")
    assert first.numbers(OrderOutcome.UNKNOWN) == numbers
    statuses = [await quick.number_status(n, account_id=CHILD_A) for n in numbers]
    assert all(s.owned_by(CHILD_A) for s in statuses)

    settled = await quick.order(numbers, account_id=CHILD_A, idempotency_key="r3")

    assert settled.numbers(OrderOutcome.BOUGHT) == numbers
    assert len(standin.calls("PUT", "collection/activate")) == 1  # not sent again
    assert len(standin.model.charges) == 2  # billed once


async def test_an_order_that_timed_out_before_kazoo_acted_is_reconciled_and_retried(
    quick: KazooCarrier, standin: KazooStandIn
) -> None:
    numbers = await offered(quick, quantity=2)
    standin.hang_next("PUT", "collection/activate", apply=False)

    first = await quick.order(numbers, account_id=CHILD_A, idempotency_key="r4")
    assert first.numbers(OrderOutcome.UNKNOWN) == numbers
    status = await quick.number_status(numbers[0], account_id=CHILD_A)
    assert status.state is CarrierNumberState.UNKNOWN  # not the account's

    reconciled = await quick.reconcile(numbers, account_id=CHILD_A)
    assert reconciled.numbers(OrderOutcome.FAILED) == numbers
    assert all(r.retryable for r in reconciled.results)

    settled = await quick.order(numbers, account_id=CHILD_A, idempotency_key="r4")
    assert settled.numbers(OrderOutcome.BOUGHT) == numbers
    assert len(standin.model.charges) == 2


async def test_a_timed_out_order_of_a_number_taken_meanwhile_fails_for_good(
    quick: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await offered(quick, quantity=1)
    standin.hang_next("PUT", "collection/activate", apply=False)
    await quick.order([number], account_id=CHILD_A, idempotency_key="r5")
    standin.change_number(number, state="in_service", assigned_to="someone-else")

    settled = await quick.order([number], account_id=CHILD_A, idempotency_key="r5")

    [result] = settled.results
    assert result.outcome is OrderOutcome.FAILED and not result.retryable
    assert len(standin.calls("PUT", "collection/activate")) == 1


async def test_a_timed_out_move_raises_outcome_unknown(
    quick: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await offered(quick, quantity=1)
    await quick.order([number], account_id=CHILD_A, idempotency_key="r6")
    standin.hang_next("PUT", "/activate", apply=True)

    with pytest.raises(OutcomeUnknown):
        await quick.move(number, from_account_id=CHILD_A, to_account_id=CHILD_B)

    status = await quick.number_status(number, account_id=CHILD_B)
    assert status.owned_by(CHILD_B)


async def test_concurrent_calls_share_one_session_and_one_reauthentication(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    import asyncio

    await carrier.list_numbers(account_id=CHILD_A)
    session = carrier._client._session
    standin.expire_tokens()

    await asyncio.gather(*(carrier.list_numbers(account_id=CHILD_A) for _ in range(5)))

    assert carrier._client._session is session
    assert len(standin.calls("PUT", "/api_auth")) == 2


async def test_a_callflow_kazoo_refuses_is_a_conflict_with_kazoos_words(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    from bot.backends.carrier import NumberConflict, RouteTarget

    [number] = await offered(carrier, quantity=1)
    await carrier.order([number], account_id=CHILD_A, idempotency_key="r7")
    standin.fail_next(
        400,
        path="/callflows/",
        method="PATCH",
        message="invalid data",
        data={"numbers": {"unique": {"message": f"Number {number} exists in callflow x"}}},
    )

    with pytest.raises(NumberConflict) as refused:
        await carrier.route(number, RouteTarget.main(), account_id=CHILD_A)

    assert f"Number {number} exists in callflow x" in refused.value.carrier_message


async def test_kazoo_not_listening_is_unavailable(sleeps: RecordedSleep) -> None:
    import socket

    from bot.backends.kazoo_client import Backoff

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    carrier = KazooCarrier.connect(
        f"http://127.0.0.1:{port}", "key", "acct", timeout=1.0, backoff=Backoff(sleep=sleeps)
    )
    try:
        with pytest.raises(CarrierUnavailable, match="cannot be reached"):
            await carrier.ping()
    finally:
        await carrier.close()
