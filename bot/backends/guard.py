"""A carrier called while a write unit of work is open is a defect; this catches it.

Issue 7, item 1: carrier calls run outside any write transaction, so a slow
carrier never holds the database's write lock. The storage unit of work marks
the stretch in which a write transaction is open (`write_unit_of_work_opened`
on entering, `write_unit_of_work_closed` on leaving); `CarrierGuard` wraps
each capability of any carrier, records every call and refuses one made inside
that stretch.

The mark is a context variable, so it follows one task's await chain and not
its neighbours': another request's open transaction does not flag this one.
It holds a mutable scope rather than a flag, so a task started inside the
unit of work (which copies the context) stops counting as inside once the
unit of work has closed.

This module imports nothing of the project at run time, so `storage` can
import it without a cycle (storage/uow.py marks its write units of work with it).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TypeVar, cast


class WriteScope:
    """One open write unit of work; `open` turns False when it closes."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = True


_WRITE: ContextVar[WriteScope | None] = ContextVar("numbers_bot_write_unit_of_work", default=None)


@dataclass(frozen=True, slots=True)
class WriteMark:
    """What `write_unit_of_work_opened` hands back, to give to `..._closed`."""

    scope: WriteScope
    token: Token[WriteScope | None]


def write_unit_of_work_opened() -> WriteMark:
    """Mark the current task as inside a write unit of work (call on entering it)."""
    scope = WriteScope()
    return WriteMark(scope, _WRITE.set(scope))


def write_unit_of_work_closed(mark: WriteMark) -> None:
    """End the mark (call on leaving the unit of work, however it ends)."""
    mark.scope.open = False
    # Left in another context than it was entered in, the token cannot be
    # reset; the scope is closed anyway, which is all the guard reads.
    with contextlib.suppress(ValueError):
        _WRITE.reset(mark.token)


def in_write_unit_of_work() -> bool:
    scope = _WRITE.get()
    return scope is not None and scope.open


class CarrierCalledInsideWrite(RuntimeError):
    """A carrier method ran while a write unit of work was open.

    Deliberately not a `CarrierFailure`: no error mapper may turn this defect
    into a polite "try again" message.
    """


# Told of every carrier call once it ends: the operation, its seconds, and what it
# raised (None when it answered). bot/metrics.py counts calls and errors with it.
CallObserver = Callable[[str, float, BaseException | None], None]


@dataclass(frozen=True, slots=True)
class CarrierCall:
    method: str
    inside_write: bool


_Part = TypeVar("_Part")


class CarrierGuard:
    """Records each carrier call, and refuses one made inside a write.

    `wrap` puts any capability of a carrier behind it (`Carrier.guarded` wraps them
    all), so one wrapper serves every carrier and every method. `calls` lists every
    call; `violations` those made inside a write unit of work, kept even when
    `strict` is off or the error was swallowed, so a test can assert
    `violations == []` at the end.
    """

    def __init__(
        self,
        *,
        strict: bool = True,
        record_calls: bool = True,
        observe: CallObserver | None = None,
    ) -> None:
        self.observe = observe
        self.strict = strict
        # A long-running bot keeps no log of calls (it would grow for ever); violations
        # are kept either way, and each one also raises when `strict`.
        self.record_calls = record_calls
        self.calls: list[CarrierCall] = []
        self.violations: list[CarrierCall] = []

    def enter(self, method: str) -> None:
        call = CarrierCall(method, in_write_unit_of_work())
        if self.record_calls:
            self.calls.append(call)
        if call.inside_write:
            self.violations.append(call)
            if self.strict:
                raise CarrierCalledInsideWrite(
                    f"Carrier.{method} was called while a write unit of work was open; "
                    "call the carrier before opening it or after committing."
                )

    def wrap(self, part: _Part) -> _Part:
        """`part` with every coroutine method checked on the way in."""
        return cast(_Part, _Guarded(part, self))


class _Guarded:
    """Forwards everything to `inner`; its coroutine methods enter the guard first,
    and are timed and counted for the metrics (all but `close`).

    No slots: a test may put a stand-in method on the wrapper itself.
    """

    def __init__(self, inner: object, guard: CarrierGuard) -> None:
        self._inner = inner
        self._guard = guard

    @property
    def inner(self) -> object:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(found):
            return found
        guard = self._guard

        @functools.wraps(found)
        async def call(*args: Any, **kwargs: Any) -> Any:
            observe = guard.observe
            if observe is None or name == "close":
                guard.enter(name)
                return await found(*args, **kwargs)
            began = time.perf_counter()
            try:
                guard.enter(name)
                result = await found(*args, **kwargs)
            except BaseException as error:
                observe(name, time.perf_counter() - began, error)
                raise
            observe(name, time.perf_counter() - began, None)
            return result

        return call
