"""A carrier method called while a write unit of work is open fails (issue 7, item 1)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from bot.backends.carrier import (
    CarrierNumberState,
    Directory,
    Holds,
    InventorySource,
    NumberSupplier,
    PhoneSystem,
)
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import (
    CarrierCall,
    CarrierCalledInsideWrite,
    CarrierGuard,
    WriteMark,
    in_write_unit_of_work,
    write_unit_of_work_closed,
    write_unit_of_work_opened,
)
from bot.backends.sim_carrier import SimCarrier
from bot.config import CarrierSettings, PlanSettings
from bot.domain.phone import Kind, SearchQuery

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = (NumberSupplier, Holds, PhoneSystem, InventorySource, Directory)
ACCOUNT = "acct-a"


class FakeUnitOfWork:
    """Marks itself the way storage's UnitOfWork is to: on entering a write, until it closes."""

    def __init__(self, *, write: bool) -> None:
        self.write = write
        self._mark: WriteMark | None = None

    async def __aenter__(self) -> FakeUnitOfWork:
        if self.write:
            self._mark = write_unit_of_work_opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._mark is not None:
            write_unit_of_work_closed(self._mark)


class GuardedSim:
    """The simulated carrier behind a guard; reads the guard's record like a carrier's."""

    def __init__(self, *, strict: bool) -> None:
        stock = SimulatedCarrier(CarrierSettings(seed="guard", inventory_per_prefix=5))
        self.guard = CarrierGuard(strict=strict)
        self.carrier = self.guard.wrap(SimCarrier(stock, PlanSettings().to_plan()))
        self.calls = self.guard.calls
        self.violations = self.guard.violations

    def __getattr__(self, name: str) -> Any:
        return getattr(self.carrier, name)


def guarded(*, strict: bool = True) -> Any:
    return GuardedSim(strict=strict)


async def a_number(carrier: NumberSupplier) -> str:
    page = await carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=1)
    return page.offers[0].e164


async def test_a_carrier_call_inside_a_write_unit_of_work_fails_and_does_nothing() -> None:
    carrier = guarded()
    number = await a_number(carrier)

    async with FakeUnitOfWork(write=True):
        with pytest.raises(CarrierCalledInsideWrite, match=r"Carrier\.reserve"):
            await carrier.reserve(number, account_id=ACCOUNT)

    assert carrier.violations == [CarrierCall("reserve", inside_write=True)]
    status = await carrier.number_status(number, account_id=ACCOUNT)
    assert status.state is CarrierNumberState.UNKNOWN  # the reservation never reached it


async def test_calls_before_after_and_inside_a_read_unit_of_work_are_fine() -> None:
    carrier = guarded()
    number = await a_number(carrier)

    async with FakeUnitOfWork(write=False):
        await carrier.reserve(number, account_id=ACCOUNT)
    async with FakeUnitOfWork(write=True):
        pass
    await carrier.release_reservation(number, account_id=ACCOUNT)

    assert [c.method for c in carrier.calls] == ["search", "reserve", "release_reservation"]
    assert carrier.violations == []


async def test_the_mark_ends_when_the_unit_of_work_fails() -> None:
    carrier = guarded()

    with pytest.raises(ZeroDivisionError):
        async with FakeUnitOfWork(write=True):
            assert in_write_unit_of_work()
            raise ZeroDivisionError

    assert not in_write_unit_of_work()
    await a_number(carrier)
    assert carrier.violations == []


async def test_a_swallowed_refusal_is_still_recorded() -> None:
    carrier = guarded()

    async with FakeUnitOfWork(write=True):
        # A careless `except Exception` in a service must not hide the defect.
        with contextlib.suppress(Exception):
            await a_number(carrier)

    assert carrier.violations == [CarrierCall("search", inside_write=True)]


async def test_a_lenient_guard_records_without_refusing() -> None:
    carrier = guarded(strict=False)

    async with FakeUnitOfWork(write=True):
        await a_number(carrier)

    assert carrier.violations == [CarrierCall("search", inside_write=True)]


async def test_another_tasks_open_write_does_not_flag_this_task() -> None:
    carrier = guarded()
    opened, done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with FakeUnitOfWork(write=True):
            opened.set()
            await done.wait()

    task = asyncio.create_task(writer())
    await opened.wait()
    try:
        await a_number(carrier)
    finally:
        done.set()
        await task

    assert carrier.violations == []


async def test_a_task_started_inside_a_write_counts_only_while_the_write_is_open() -> None:
    carrier = guarded(strict=False)
    go = asyncio.Event()

    async def later() -> None:
        await go.wait()
        await a_number(carrier)

    async with FakeUnitOfWork(write=True):
        inside = asyncio.create_task(a_number(carrier))
        await inside
        after = asyncio.create_task(later())  # copies the context, with the open write
    go.set()
    await after

    assert [c.inside_write for c in carrier.calls] == [True, False]


def carrier_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for capability in CAPABILITIES
        for name, member in vars(capability).items()
        if inspect.iscoroutinefunction(member)
    }


class Recorder:
    """A stand-in inner carrier: every method records its name and returns None."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __getattr__(self, method: str) -> Callable[..., Awaitable[None]]:
        async def call(*args: Any, **kwargs: Any) -> None:
            self.seen.append(method)

        return call


def dummy_arguments(signature: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:  # past self
        if param.default is not inspect.Parameter.empty:
            continue
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = f"<{param.name}>"
        else:
            args.append(f"<{param.name}>")
    return args, kwargs


@pytest.mark.parametrize("method", sorted(carrier_methods()))
async def test_every_carrier_method_is_guarded_and_forwarded(method: str) -> None:
    signature = carrier_methods()[method]
    inner = Recorder()
    guard = CarrierGuard()
    carrier = guard.wrap(inner)
    args, kwargs = dummy_arguments(signature)

    await getattr(carrier, method)(*args, **kwargs)
    async with FakeUnitOfWork(write=True):
        with pytest.raises(CarrierCalledInsideWrite):
            await getattr(carrier, method)(*args, **kwargs)

    assert inner.seen == [method]
    assert guard.violations == [CarrierCall(method, inside_write=True)]


def test_storage_can_import_the_guard_without_a_cycle() -> None:
    """storage/uow.py is to import this module; it must not pull storage in again."""
    probe = (
        "import sys, bot.backends.guard; "
        "print(sorted(m for m in sys.modules if m.startswith(('storage', 'bot.backends.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "['bot.backends.guard']"
