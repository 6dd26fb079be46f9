"""The API key and the auth token never appear in logs, errors or reprs."""

from __future__ import annotations

import logging

import pytest

from bot.backends.carrier import CarrierFailure, OrderOutcome
from bot.backends.kazoo import KazooCarrier
from standins.kazoo import API_KEY, CHILD_A, KazooStandIn
from tests.kazoo.conftest import RecordedSleep, make_carrier
from tests.kazoo.helpers import offered


def secrets_of(standin: KazooStandIn) -> list[str]:
    return [API_KEY, *standin.tokens, *(s.headers.get("X-Auth-Token", "") for s in standin.seen)]


async def test_secrets_stay_out_of_logs_errors_and_reprs(
    carrier: KazooCarrier, standin: KazooStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    numbers = await offered(carrier, quantity=3)
    token = next(iter(standin.tokens))
    # A Kazoo (or a proxy) that echoes secrets in its messages.
    standin.fail_next(
        500, count=10, path="/phone_numbers/+", message=f"bad token {token} for key {API_KEY}"
    )
    try:
        await carrier.number_status(numbers[0], account_id=CHILD_A)
    except CarrierFailure as exc:
        texts += [str(exc), repr(exc), exc.message]
    standin.faults.clear()
    standin.fail_number(numbers[1], message=f"carrier said {token}")
    result = await carrier.order(numbers, account_id=CHILD_A, idempotency_key="s1")
    texts += [r.reason for r in result.results]
    texts += [repr(carrier), repr(carrier._client), str(result)]
    standin.expire_tokens()
    await carrier.list_numbers(account_id=CHILD_A)
    # A late answer quoting the token that was just replaced.
    standin.fail_next(500, count=10, path="/phone_numbers/+", message=f"old {token}")
    with pytest.raises(CarrierFailure) as late:
        await carrier.number_status(numbers[0], account_id=CHILD_A)
    texts.append(str(late.value))

    assert result.by_number()[numbers[1]].outcome is OrderOutcome.FAILED
    assert "[redacted]" in " ".join(texts)
    everything = " ".join(texts) + " ".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # the calls were logged
    for secret in secrets_of(standin):
        if secret:
            assert secret not in everything


async def test_the_key_is_only_ever_sent_in_the_login_body(
    standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    carrier = make_carrier(standin, sleeps)
    try:
        await offered(carrier, quantity=1)
    finally:
        await carrier.close()

    for seen in standin.seen:
        in_body = API_KEY in str(seen.body)
        assert in_body == (seen.path == "/v2/api_auth")
        assert API_KEY not in str(seen.query) and API_KEY not in str(seen.headers)
