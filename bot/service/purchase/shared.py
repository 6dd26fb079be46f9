"""What the purchase use cases share: the request's loading, its audit events, its holds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.records import AccountInfo, AuditEvent, PurchaseRequestRecord
from bot.domain.refusals import JustTaken, StaleRequest
from bot.domain.states import RequestState
from bot.service.accounts import AccountService
from bot.service.context import Actor, Deps
from bot.service.holds import give_back
from bot.service.numbers import NumberService
from bot.service.ports import UnitOfWork

Progress = Callable[[PurchaseRequestRecord], Awaitable[None]]


class HoldExpired(StaleRequest):
    """A click found the hold run out and expired the request itself.

    Nobody else will announce this expiry (the worker only sees requests still
    open), so the service announces it before the click's answer says so.
    """


@dataclass(frozen=True, slots=True)
class Accepted:
    request: PurchaseRequestRecord
    needs_approval: bool


def request_event(
    actor: str,
    workspace_id: str,
    action: str,
    request_id: str,
    *,
    number: str | None = None,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """An audit event about a request (or one of its numbers)."""
    return AuditEvent(action, actor, workspace_id, number, request_id, before, after, detail)


def moved(
    actor: str,
    request: PurchaseRequestRecord,
    action: str,
    new: RequestState,
    detail: str | None = None,
) -> AuditEvent:
    """The audit event of a request's move from its state to `new`."""
    return request_event(
        actor,
        request.workspace_id,
        action,
        request.id,
        detail=detail,
        before={"state": request.state.value},
        after={"state": new.value},
    )


def taken(numbers: Sequence[str]) -> JustTaken:
    return JustTaken(tuple(numbers))


class Core:
    """The dependencies every purchase use case works with, and its small reads."""

    def __init__(self, deps: Deps, accounts: AccountService, numbers: NumberService) -> None:
        self.deps = deps
        self.accounts = accounts
        self.numbers = numbers

    async def load(
        self, uow: UnitOfWork, workspace_id: str, request_id: str
    ) -> PurchaseRequestRecord:
        request = await uow.requests.get(request_id)
        if request is None or request.workspace_id != workspace_id:
            raise NotFound("That purchase request does not exist.")
        return request

    async def peek(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        async with self.deps.uow(write=False) as uow:
            return await self.load(uow, actor.workspace_id, request_id)

    async def visible(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        """The request, for someone who may see it: approvers, admins, its requester."""
        request = await self.peek(actor, request_id)
        if not (actor.is_admin or actor.is_approver or actor.user_id == request.requester_id):
            raise NotAllowed("You can see only your own purchase requests.")
        return request

    async def reload(self, request_id: str) -> PurchaseRequestRecord:
        """The request as stored now (system side: for redrawing its cards)."""
        async with self.deps.uow(write=False) as uow:
            request = await uow.requests.get(request_id)
        assert request is not None
        return request

    async def account_of(self, request: PurchaseRequestRecord) -> AccountInfo:
        async with self.deps.uow(write=False) as uow:
            account = await uow.accounts.get(request.account_id)
        assert account is not None
        return account

    async def let_go(self, account: AccountInfo | str, numbers: Sequence[str]) -> None:
        """Give reservations back at the carrier once the database let go of them."""
        await give_back(self.deps, account, numbers)
