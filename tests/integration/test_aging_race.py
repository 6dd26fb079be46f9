"""Restore against the aging-out sweep (issue 13, item 2): the database decides, once.

The sweep claims a number (aging → returning) before it calls the carrier; a restore
that got there first makes the claim lose, and the carrier is left alone. Once aging
ended no restore says "Restored".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import pytest

from bot.backends.carrier import CarrierUnavailable, ReleaseResult
from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict
from bot.domain.refusals import AgingEnded
from bot.domain.states import NumberState
from bot.service.context import Actor
from bot.service.ports import UnitOfWork
from tests.conftest import FakeClock
from tests.integration.helpers import buy


async def _released(rt: Runtime, admin: Actor, manager: Actor) -> str:
    done = await buy(rt, admin, manager, count=1)
    [number] = done.numbers
    await rt.services.numbers.release(admin, number)
    return number


async def _state(rt: Runtime, number: str) -> NumberState:
    async with rt.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(number)
    assert record is not None
    return record.state


def _released_at_carrier(rt: Runtime, number: str) -> int:
    assert rt.carrier is not None
    return sum(e164 == number for e164, _ in rt.carrier.released)


async def test_sweep_first_a_restore_meanwhile_is_refused(
    runtime: Runtime,
    admin: Actor,
    manager: Actor,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep has claimed the number and is at the carrier when the admin restores."""
    number = await _released(runtime, admin, manager)
    clock.advance(days=runtime.settings.aging_days, seconds=1)
    deps = runtime.services.deps
    give_back = deps.carrier.supplier.release
    refused: list[Exception] = []

    async def release_while_restoring(e164: str, *, account_id: str) -> ReleaseResult:
        try:
            await runtime.services.numbers.restore(admin, e164)
        except Conflict as exc:
            refused.append(exc)
        return await give_back(e164, account_id=account_id)

    monkeypatch.setattr(deps.carrier.supplier, "release", release_while_restoring)
    await runtime.services.lifecycle.activation_sweep()
    assert [type(e) for e in refused] == [AgingEnded]
    assert "going back to the carrier" in refused[0].args[0]
    assert await _state(runtime, number) is NumberState.AVAILABLE
    assert _released_at_carrier(runtime, number) == 1


async def test_restore_first_the_sweep_loses_its_claim_and_leaves_the_carrier_alone(
    runtime: Runtime,
    admin: Actor,
    manager: Actor,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sweep (on a replica whose clock is a little ahead) read the number as aged; the
    admin restores it, still in time, before the sweep writes anything."""
    number = await _released(runtime, admin, manager)
    clock.advance(days=runtime.settings.aging_days, seconds=-30)
    sweep_now = clock() + timedelta(minutes=1)
    deps = runtime.services.deps
    opened = deps.uow
    restored: list[NumberState] = []

    def restore_before_first_write(write: bool = True) -> AbstractAsyncContextManager[UnitOfWork]:
        @asynccontextmanager
        async def unit() -> AsyncIterator[UnitOfWork]:
            if write and not restored:
                deps.uow = opened  # the restore runs with the ordinary units
                restored.append((await runtime.services.numbers.restore(admin, number)).state)
            async with opened(write=write) as uow:
                yield uow

        return unit()

    factory: Callable[..., AbstractAsyncContextManager[UnitOfWork]] = restore_before_first_write
    monkeypatch.setattr(deps, "uow", factory)
    await runtime.services.lifecycle.age_out(sweep_now)
    assert restored == [NumberState.IN_SERVICE]
    assert _released_at_carrier(runtime, number) == 0
    assert await _state(runtime, number) is NumberState.IN_SERVICE
    record = await runtime.services.numbers.get(admin, number)
    assert record.assignment == Assignment.main()


async def test_restore_is_refused_once_aging_ended_even_before_the_sweep(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    number = await _released(runtime, admin, manager)
    clock.advance(days=runtime.settings.aging_days)
    with pytest.raises(AgingEnded):
        await runtime.services.numbers.restore(admin, number)
    assert await _state(runtime, number) is NumberState.AGING


async def test_a_carrier_failure_after_the_claim_is_retried_by_the_next_sweep(
    runtime: Runtime,
    admin: Actor,
    manager: Actor,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    number = await _released(runtime, admin, manager)
    clock.advance(days=runtime.settings.aging_days, seconds=1)
    carrier = runtime.services.deps.carrier.supplier

    async def down(e164: str, *, account_id: str) -> ReleaseResult:
        raise CarrierUnavailable("the carrier did not answer")

    with monkeypatch.context() as patched:
        patched.setattr(carrier, "release", down)
        await runtime.services.lifecycle.activation_sweep()
    assert await _state(runtime, number) is NumberState.RETURNING
    with pytest.raises(AgingEnded):
        await runtime.services.numbers.restore(admin, number)
    await runtime.services.lifecycle.activation_sweep()
    assert await _state(runtime, number) is NumberState.AVAILABLE
    assert _released_at_carrier(runtime, number) == 1
