"""A carrier called while a write unit of work is open is a defect; this catches it.

Issue 7, item 1: carrier calls run outside any write transaction, so a slow
carrier never holds the database's write lock. The storage unit of work marks
the stretch in which a write transaction is open (`write_unit_of_work_opened`
on entering, `write_unit_of_work_closed` on leaving); `GuardedCarrier` wraps
any `Carrier`, records every call and refuses one made inside that stretch.

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
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.backends.carrier import (
        Carrier,
        CarrierAccount,
        CarrierE911Outcome,
        CarrierQuote,
        CarrierUser,
        NumberStatus,
        OrderResult,
        OwnedPage,
        ReleaseResult,
        RouteTarget,
        SearchPage,
    )
    from bot.domain.e911 import E911Address
    from bot.domain.phone import SearchQuery


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


class GuardedCarrier:
    """Wraps a `Carrier`: records each call, and refuses one made inside a write.

    `calls` lists every call; `violations` those made inside a write unit of
    work, kept even when `strict` is off or the error was swallowed, so a test
    can assert `violations == []` at the end.
    """

    def __init__(
        self,
        inner: Carrier,
        *,
        strict: bool = True,
        record_calls: bool = True,
        observe: CallObserver | None = None,
    ) -> None:
        self.inner = inner
        self.observe = observe
        self.name = inner.name
        self.strict = strict
        # A long-running bot keeps no log of calls (it would grow for ever); violations
        # are kept either way, and each one also raises when `strict`.
        self.record_calls = record_calls
        self.calls: list[CarrierCall] = []
        self.violations: list[CarrierCall] = []

    def _enter(self, method: str) -> None:
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

    # --- stock -----------------------------------------------------------------------

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        self._enter("search")
        return await self.inner.search(
            query, quantity=quantity, offset=offset, account_id=account_id
        )

    async def reserve(self, e164: str, *, account_id: str) -> None:
        self._enter("reserve")
        await self.inner.reserve(e164, account_id=account_id)

    async def release_reservation(self, e164: str, *, account_id: str) -> None:
        self._enter("release_reservation")
        await self.inner.release_reservation(e164, account_id=account_id)

    # --- buying ----------------------------------------------------------------------

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        self._enter("quote")
        return await self.inner.quote(numbers, account_id=account_id)

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        self._enter("order")
        return await self.inner.order(
            numbers, account_id=account_id, idempotency_key=idempotency_key
        )

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        self._enter("number_status")
        return await self.inner.number_status(e164, account_id=account_id)

    # --- e911 ------------------------------------------------------------------------

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        self._enter("provision_e911")
        return await self.inner.provision_e911(
            e164, address, account_id=account_id, accept_charges=accept_charges
        )

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        self._enter("remove_e911")
        await self.inner.remove_e911(e164, account_id=account_id)

    # --- routing ---------------------------------------------------------------------

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        self._enter("route")
        await self.inner.route(e164, target, account_id=account_id)

    async def unroute(self, e164: str, *, account_id: str) -> None:
        self._enter("unroute")
        await self.inner.unroute(e164, account_id=account_id)

    async def routes(self, *, account_id: str) -> Mapping[str, RouteTarget]:
        self._enter("routes")
        return await self.inner.routes(account_id=account_id)

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]:
        self._enter("users")
        return await self.inner.users(account_id=account_id)

    # --- moving and releasing --------------------------------------------------------

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        self._enter("move")
        await self.inner.move(e164, from_account_id=from_account_id, to_account_id=to_account_id)

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        self._enter("release")
        return await self.inner.release(e164, account_id=account_id)

    # --- the mirror ------------------------------------------------------------------

    async def list_numbers(
        self, *, account_id: str, start_key: str | None = None, page_size: int = 500
    ) -> OwnedPage:
        self._enter("list_numbers")
        return await self.inner.list_numbers(
            account_id=account_id, start_key=start_key, page_size=page_size
        )

    async def accounts(self) -> Sequence[CarrierAccount]:
        self._enter("accounts")
        return await self.inner.accounts()

    async def e911_of(self, e164: str, *, account_id: str) -> E911Address | None:
        """The stored address, for the mirror (outside the protocol: Kazoo has it, the
        simulated carrier does not and answers None)."""
        self._enter("e911_of")
        reader = getattr(self.inner, "e911_of", None)
        if reader is None:
            return None
        address: E911Address | None = await reader(e164, account_id=account_id)
        return address

    async def close(self) -> None:
        self._enter("close")
        await self.inner.close()


def _observed(operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def call(self: GuardedCarrier, *args: Any, **kwargs: Any) -> Any:
        observe = self.observe
        if observe is None:
            return await method(self, *args, **kwargs)
        began = time.perf_counter()
        try:
            result = await method(self, *args, **kwargs)
        except BaseException as error:
            observe(operation, time.perf_counter() - began, error)
            raise
        observe(operation, time.perf_counter() - began, None)
        return result

    return call


# Every carrier operation is timed and counted here, once for all carriers.
for _name, _method in list(vars(GuardedCarrier).items()):
    if inspect.iscoroutinefunction(_method) and not _name.startswith("_") and _name != "close":
        setattr(GuardedCarrier, _name, _observed(_name, _method))


if TYPE_CHECKING:
    # mypy checks here that the wrapper keeps the Carrier protocol.
    _conforms: type[Carrier] = GuardedCarrier
