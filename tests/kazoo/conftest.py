"""The Kazoo backend against the stand-in Kazoo on a loopback port.

Backoff sleeps are recorded, not slept, so retries cost no time; the only real
waits are the order timeouts, a tenth of a second each.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from bot.backends.kazoo import KazooCarrier
from bot.backends.kazoo_client import Backoff
from standins.kazoo import API_KEY, ROOT, KazooStandIn, running


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
async def standin() -> AsyncIterator[KazooStandIn]:
    async with running() as kazoo:
        yield kazoo
    # Every body the backend sent matched Kazoo's schemas (tests that send a bad
    # one on purpose clear the list).
    assert kazoo.schema_errors == []


def make_carrier(
    standin: KazooStandIn, sleeps: RecordedSleep, *, timeout: float = 2.0, key: str = API_KEY
) -> KazooCarrier:
    backoff = Backoff(attempts=4, base=0.2, cap=2.0, sleep=sleeps, rng=random.Random(7))
    return KazooCarrier.connect(
        standin.url,
        key,
        ROOT,
        timeout=timeout,
        backoff=backoff,
    )


@pytest.fixture
async def carrier(standin: KazooStandIn, sleeps: RecordedSleep) -> AsyncIterator[KazooCarrier]:
    kazoo = make_carrier(standin, sleeps)
    yield kazoo
    await kazoo.close()


@pytest.fixture
async def quick(standin: KazooStandIn, sleeps: RecordedSleep) -> AsyncIterator[KazooCarrier]:
    """A carrier whose calls time out after a second: a hung call ends quickly, while an
    ordinary one on a busy machine still answers in time."""
    kazoo = make_carrier(standin, sleeps, timeout=1.0)
    yield kazoo
    await kazoo.close()
