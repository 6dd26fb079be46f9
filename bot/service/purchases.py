"""Purchase requests: quote, accept, approve, reject, cancel, provision, expire.

Every state change is a conditional update (`WHERE state = expected`): of two
clicks, two replicas or a Slack re-delivery, exactly one moves the request,
and the other is told who did. Provisioning is idempotent and resumable: each
number's outcome is recorded on its own, so a restart finishes the rest and
never buys a number twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.backends.base import CarrierError
from bot.domain.assignment import MAX_PER_ACCOUNT, Assignment
from bot.domain.billing import needs_approval
from bot.domain.errors import BackendUnavailable, Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.phone import Kind, display, kind_of, parse_number
from bot.domain.records import AccountInfo, AuditEntry, NumberRecord, PurchaseRequestRecord
from bot.domain.states import (
    OPEN_REQUEST_STATES,
    ItemOutcome,
    NumberState,
    RequestState,
    outcome_state,
)
from bot.service.accounts import AccountService
from bot.service.context import SYSTEM, Actor, Deps
from bot.service.errors import StaleRequest
from bot.service.numbers import NumberService
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
MAX_PER_REQUEST = 50
Progress = Callable[[PurchaseRequestRecord], Awaitable[None]]


class HoldExpired(StaleRequest):
    """A click found the hold run out and expired the request itself.

    Nobody else will announce this expiry (the worker only sees requests still
    open), so whoever catches it redraws the cards and tells the requester.
    """


@dataclass(frozen=True, slots=True)
class Accepted:
    request: PurchaseRequestRecord
    needs_approval: bool


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "earlier"


_PAST_APPROVAL = frozenset(
    {
        RequestState.PROVISIONING,
        RequestState.COMPLETED,
        RequestState.PARTIALLY_COMPLETED,
        RequestState.FAILED,
    }
)


def decided_text(request: PurchaseRequestRecord) -> str:
    """`already approved by <@U1> at 2026-11-26 10:00 UTC`, for answers to stale clicks."""
    if request.state in _PAST_APPROVAL and request.decided_by:
        return f"already approved by <@{request.decided_by}> at {_when(request.decided_at)}"
    if request.state in _PAST_APPROVAL or request.state is RequestState.AWAITING_APPROVAL:
        accepter = request.accepted_by or request.requester_id
        return f"already accepted by <@{accepter}> at {_when(request.accepted_at)}"
    if request.state is RequestState.EXPIRED:
        return f"already expired at {_when(request.updated_at)}"
    verb = request.state.value.replace("_", " ")
    if request.decided_by:
        return f"already {verb} by <@{request.decided_by}> at {_when(request.decided_at)}"
    return f"already {verb} at {_when(request.updated_at)}"


class PurchaseService:
    def __init__(self, deps: Deps, accounts: AccountService, numbers: NumberService) -> None:
        self.deps = deps
        self.accounts = accounts
        self.numbers = numbers

    # --- reading ------------------------------------------------------------------

    async def get(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        async with self.deps.uow(write=False) as uow:
            request = await self._load(uow, actor.workspace_id, request_id)
        if not (actor.is_admin or actor.is_approver or actor.user_id == request.requester_id):
            raise NotAllowed("You can see only your own purchase requests.")
        return request

    async def list_requests(
        self, actor: Actor, which: str = "mine", *, limit: int = 20
    ) -> list[PurchaseRequestRecord]:
        """`mine`, `pending` (awaiting approval) or `all`; non-admins see only their own."""
        if which not in ("mine", "pending", "all"):
            raise InvalidInput("requests", "Use /numbers requests mine, pending or all.")
        privileged = actor.is_admin or actor.is_approver
        requester = actor.user_id if which == "mine" or not privileged else None
        states = [RequestState.AWAITING_APPROVAL] if which == "pending" else None
        async with self.deps.uow(write=False) as uow:
            return await uow.requests.find(
                actor.workspace_id, requester_id=requester, states=states, limit=limit
            )

    async def history(self, actor: Actor, request_id: str) -> list[AuditEntry]:
        await self.get(actor, request_id)
        async with self.deps.uow(write=False) as uow:
            return await uow.audit.for_request(request_id)

    async def _load(
        self, uow: UnitOfWork, workspace_id: str, request_id: str
    ) -> PurchaseRequestRecord:
        request = await uow.requests.get(request_id)
        if request is None or request.workspace_id != workspace_id:
            raise NotFound("That purchase request does not exist.")
        return request

    # --- creating -----------------------------------------------------------------

    async def request_purchase(
        self,
        actor: Actor,
        numbers: Sequence[str],
        target: Assignment,
        *,
        channel_id: str | None = None,
    ) -> PurchaseRequestRecord:
        """Quote the selection and hold its numbers; spares in it are assigned at no cost."""
        actor.require_admin("buy numbers")
        wanted = list(dict.fromkeys(parse_number(n, "numbers") for n in numbers))
        if not wanted:
            raise InvalidInput("numbers", "Select at least one number to buy.")
        if len(wanted) > MAX_PER_REQUEST:
            raise InvalidInput("numbers", f"Buy at most {MAX_PER_REQUEST} numbers at a time.")
        limit = MAX_PER_ACCOUNT.get(target.kind)
        if limit is not None and len(wanted) > limit:
            raise InvalidInput(
                "numbers", f"The {target.label} takes only {limit} number; select one."
            )
        kinds = {kind_of(n) for n in wanted}
        now = self.deps.clock()
        request_id = self.deps.ids()
        until = now + timedelta(minutes=self.deps.settings.holds.quote_minutes)
        async with self.deps.uow() as uow:
            account = await self.accounts.resolve_in(
                uow, actor.workspace_id, channel_id or actor.channel_id
            )
            owned = await uow.numbers.get_many(wanted)
            spares = [
                n for n in wanted if n in owned and owned[n].is_spare
                and owned[n].account_id == account.id
            ]  # fmt: skip
            to_buy = [n for n in wanted if n not in spares]
            for number in to_buy:
                if not await self.deps.backend.is_offered(number):
                    raise InvalidInput(
                        "numbers", f"{display(number)} is not for sale; search again."
                    )
            await self._check_target_room(uow, account, target, len(wanted))
            quote = await self.deps.backend.quote(uow, account, Counter(kind_of(n) for n in to_buy))
            quote = replace(quote, spare_count=len(spares))
            await uow.requests.create(
                request_id=request_id,
                workspace_id=actor.workspace_id,
                account_id=account.id,
                requester_id=actor.user_id,
                target=target,
                kind=Kind.TOLLFREE if kinds == {Kind.TOLLFREE} else Kind.LOCAL,
                quote=quote,
                numbers=wanted,
                spares=spares,
                hold_expires_at=until,
                channel_id=channel_id or actor.channel_id,
                now=now,
            )
            held = await self.deps.backend.hold(
                uow, to_buy, request_id=request_id, account=account, until=until, now=now
            )
            missing = [n for n in to_buy if n not in held]
            if missing:
                names = ", ".join(display(n) for n in missing)
                raise Conflict(f"Just taken by another request: {names}. Search again.")
            await self._audit(
                uow, actor.user_id, actor.workspace_id, "request.created", request_id,
                after={"state": RequestState.QUOTED.value, "numbers": wanted},
            )  # fmt: skip
            for number in to_buy:
                await self._audit(
                    uow, actor.user_id, actor.workspace_id, "number.held", request_id,
                    number=number, after={"state": "reserved", "until": until.isoformat()},
                )  # fmt: skip
            await uow.commit()
        return await self.reload(request_id)

    async def _check_target_room(
        self, uow: UnitOfWork, account: AccountInfo, target: Assignment, adding: int
    ) -> None:
        full = await self._full_reason(uow, account, target, adding)
        if full:
            raise Conflict(full)

    async def _full_reason(
        self, uow: UnitOfWork, account: AccountInfo, target: Assignment, adding: int
    ) -> str | None:
        """Why the target cannot take `adding` more numbers, or None when it can.

        Numbers that open requests hold for the target count as taken: two requests
        for the faxbox made before either is bought would otherwise both go through.
        """
        limit = MAX_PER_ACCOUNT.get(target.kind)
        if limit is None:
            return None
        if await uow.numbers.count_assigned(account.id, target.kind) + adding > limit:
            return (
                f"The {target.label} already has its number; it takes only {limit}. "
                "Unassign it first, or buy for another target."
            )
        if await uow.requests.pending_for_target(account.id, target) + adding > limit:
            return (
                f"The {target.label} takes only {limit} number, and an open purchase request "
                "already holds one for it. Cancel that request first (see /numbers requests), "
                "or buy for another target."
            )
        return None

    async def target_room(
        self, actor: Actor, target: Assignment, *, channel_id: str | None = None
    ) -> str | None:
        """Before any search: why the target is full, or None when it can take a number."""
        if target.kind not in MAX_PER_ACCOUNT:
            return None
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            return await self._full_reason(uow, account, target, 1)

    async def reload(self, request_id: str) -> PurchaseRequestRecord:
        """The request as stored now (system side: for redrawing its cards)."""
        async with self.deps.uow(write=False) as uow:
            request = await uow.requests.get(request_id)
        assert request is not None
        return request

    async def _audit(
        self,
        uow: UnitOfWork,
        actor: str,
        workspace_id: str,
        action: str,
        request_id: str,
        *,
        number: str | None = None,
        before: dict[str, object] | None = None,
        after: dict[str, object] | None = None,
        detail: str | None = None,
    ) -> None:
        await uow.audit.add(
            at=self.deps.clock(),
            workspace_id=workspace_id,
            actor=actor,
            action=action,
            number=number,
            request_id=request_id,
            before=before,
            after=after,
            detail=detail,
        )

    # --- moving a request ---------------------------------------------------------

    async def _move(
        self,
        actor: Actor,
        request_id: str,
        expected: RequestState | Sequence[RequestState],
        new: RequestState,
        *,
        action: str,
        check: Callable[[PurchaseRequestRecord], None] | None = None,
        release: bool = False,
        hold_until: datetime | bool | None = False,
        **values: object,
    ) -> PurchaseRequestRecord:
        """One conditional transition with its audit event; the loser gets a Conflict."""
        expected_states = [expected] if isinstance(expected, RequestState) else expected
        # A stale click is answered from a read: it need not queue for the write lock.
        seen = await self._peek(actor, request_id)
        if check:
            check(seen)
        if seen.state not in expected_states:
            raise StaleRequest(f"This request was {decided_text(seen)}.", seen)
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            request = await self._load(uow, actor.workspace_id, request_id)
            if request.state not in expected_states:
                raise StaleRequest(f"This request was {decided_text(request)}.", request)
            if (
                request.state in OPEN_REQUEST_STATES
                and request.hold_expires_at is not None
                and request.hold_expires_at <= now
            ):
                await self._expire(uow, request, now)
                await uow.commit()
                raise HoldExpired(
                    "This request expired: its numbers were released. Search again.",
                    replace(request, state=RequestState.EXPIRED, updated_at=now),
                )
            if not await uow.requests.transition(request_id, request.state, new, now, **values):
                fresh = await uow.requests.get(request_id)
                assert fresh is not None
                raise StaleRequest(f"This request was {decided_text(fresh)}.", fresh)
            if release:
                await self.deps.backend.release_hold(uow, request_id, now)
            if hold_until is not False:
                assert not isinstance(hold_until, bool)
                await self.deps.backend.set_hold_expiry(uow, request_id, hold_until, now)
                await uow.requests.update_fields(request_id, now, hold_expires_at=hold_until)
            await self._audit(
                uow, actor.user_id, actor.workspace_id, action, request_id,
                before={"state": request.state.value}, after={"state": new.value},
                detail=str(values.get("reason")) if values.get("reason") else None,
            )  # fmt: skip
            await uow.commit()
        return await self.reload(request_id)

    def _only_requester(self, actor: Actor, doing: str) -> Callable[[PurchaseRequestRecord], None]:
        def check(request: PurchaseRequestRecord) -> None:
            if actor.user_id != request.requester_id and not actor.is_admin:
                raise NotAllowed(f"Only <@{request.requester_id}> can {doing} this request.")

        return check

    async def accept(self, actor: Actor, request_id: str) -> Accepted:
        """The requester accepts the billing change: to approval, or straight to purchase."""
        now = self.deps.clock()
        probe = await self._peek(actor, request_id)
        # Spare numbers alone cost nothing: there is no purchase for a manager to approve.
        approval = bool(probe.quote.items) and needs_approval(
            self.deps.settings.approvals.mode,
            self.deps.settings.approvals.threshold,
            probe.quote.difference,
            self.deps.has_approvers,
        )
        if approval:
            until = now + timedelta(minutes=self.deps.settings.holds.approval_minutes)
            request = await self._move(
                actor, request_id, RequestState.QUOTED, RequestState.AWAITING_APPROVAL,
                action="request.accepted", check=self._only_requester(actor, "accept"),
                hold_until=until, accepted_at=now, accepted_by=actor.user_id,
            )  # fmt: skip
        else:
            request = await self._move(
                actor, request_id, RequestState.QUOTED, RequestState.PROVISIONING,
                action="request.accepted", check=self._only_requester(actor, "accept"),
                hold_until=None, accepted_at=now, accepted_by=actor.user_id,
            )  # fmt: skip
        return Accepted(request, approval)

    async def _peek(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        async with self.deps.uow(write=False) as uow:
            return await self._load(uow, actor.workspace_id, request_id)

    async def cancel(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        """Cancel changes nothing else and gives the held numbers back."""
        return await self._move(
            actor, request_id, list(OPEN_REQUEST_STATES), RequestState.CANCELLED,
            action="request.cancelled", check=self._only_requester(actor, "cancel"),
            release=True, decided_by=actor.user_id, decided_at=self.deps.clock(),
        )  # fmt: skip

    def may_decide(self, request: PurchaseRequestRecord, user_id: str) -> bool:
        """Four eyes: neither the requester nor the accepter decides, unless allowed."""
        if self.deps.settings.approvals.allow_self_approval:
            return True
        return user_id not in (request.requester_id, request.accepted_by)

    def _approver_check(self, actor: Actor) -> Callable[[PurchaseRequestRecord], None]:
        def check(request: PurchaseRequestRecord) -> None:
            if not actor.is_approver:
                raise NotAllowed("Only approvers can approve or reject purchase requests.")
            if self.may_decide(request, actor.user_id):
                return
            if request.requester_id == actor.user_id:
                raise NotAllowed("You cannot decide on your own request; another approver must.")
            raise NotAllowed(
                "You accepted this request, so you cannot also decide on it; another approver must."
            )

        return check

    async def approve(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        return await self._move(
            actor, request_id, RequestState.AWAITING_APPROVAL, RequestState.PROVISIONING,
            action="request.approved", check=self._approver_check(actor), hold_until=None,
            decided_by=actor.user_id, decided_at=self.deps.clock(),
        )  # fmt: skip

    async def reject(
        self, actor: Actor, request_id: str, reason: str | None = None
    ) -> PurchaseRequestRecord:
        reason = " ".join((reason or "").split()) or None
        if reason and len(reason) > 500:
            raise InvalidInput("reason", "Keep the reason under 500 characters.")
        return await self._move(
            actor, request_id, RequestState.AWAITING_APPROVAL, RequestState.REJECTED,
            action="request.rejected", check=self._approver_check(actor), release=True,
            decided_by=actor.user_id, decided_at=self.deps.clock(), reason=reason,
        )  # fmt: skip

    async def cancel_unreachable(self, request_id: str, why: str) -> PurchaseRequestRecord:
        """Cancel an open request nobody can act on, and give its numbers back.

        Used when its billing card cannot be shown to the requester, or no approver
        can be told of it: holding the numbers for hours for nobody helps no one.
        A request that moved on meanwhile (a click won) is left as it is.
        """
        request = await self.reload(request_id)
        system = Actor(SYSTEM, request.workspace_id)
        try:
            return await self._move(
                system, request_id, list(OPEN_REQUEST_STATES), RequestState.CANCELLED,
                action="request.cancelled", release=True, reason=why,
                decided_at=self.deps.clock(),
            )  # fmt: skip
        except StaleRequest as exc:
            return exc.request

    async def record_cards(
        self,
        request_id: str,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        approval_cards: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        """Remember where the request's cards are, to update them in place later."""
        values: dict[str, object] = {}
        if channel_id and message_ts:
            values.update(channel_id=channel_id, message_ts=message_ts)
        if approval_cards is not None:
            values["approval_cards"] = {"cards": [list(c) for c in approval_cards]}
        if not values:
            return
        async with self.deps.uow() as uow:
            await uow.requests.update_fields(request_id, self.deps.clock(), **values)
            await uow.commit()

    # --- provisioning -------------------------------------------------------------

    async def provision(
        self, request_id: str, on_progress: Progress | None = None
    ) -> PurchaseRequestRecord:
        """Buy and assign each pending number; safe to run twice or after a crash."""
        request = await self.reload(request_id)
        if request.state is not RequestState.PROVISIONING:
            return request
        account = await self._account_of(request)
        for item in request.items:
            if item.outcome is not ItemOutcome.PENDING:
                continue
            if item.spare:
                await self._provision_spare(request, account, item.number)
            else:
                await self._provision_one(request, account, item.number)
            if on_progress:
                try:
                    await on_progress(await self.reload(request_id))
                except Exception:
                    # Redraws are best-effort: a slow or failing one never stops a purchase.
                    log.warning("progress redraw of %s failed", request_id, exc_info=True)
        return await self._finish(request_id)

    async def _account_of(self, request: PurchaseRequestRecord) -> AccountInfo:
        async with self.deps.uow(write=False) as uow:
            account = await uow.accounts.get(request.account_id)
        assert account is not None
        return account

    async def _provision_one(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        full = await self._target_filled(request, account)
        if full:
            # Bought anyway it would only be a spare, billed, under a card naming the target.
            await self._fail_item(request, number, full)
            return
        try:
            # The carrier call happens outside any transaction: a slow carrier holds no lock.
            await self.deps.backend.order(number, account, request.id)
        except CarrierError as exc:
            await self._fail_item(request, number, exc.reason)
            return
        except BackendUnavailable as exc:
            await self._fail_item(request, number, exc.message)
            return
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            bought = await self.deps.backend.record_purchase(
                uow, number, account=account, request_id=request.id, now=now
            )
            record = await self.deps.backend.get(uow, number)
            ours = (
                record is not None
                and record.account_id == account.id
                and record.state is NumberState.IN_SERVICE
            )
            if not (bought or ours):
                await uow.requests.set_item(
                    request.id, number, ItemOutcome.FAILED, "the hold on it was lost", now
                )
                await uow.commit()
                return
            if not await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now):
                return  # another worker recorded it first; nothing more to do
            await self._audit(
                uow, SYSTEM, request.workspace_id, "number.purchased", request.id,
                number=number, before={"state": "reserved"},
                after={"state": "in_service", "account_id": account.id},
            )  # fmt: skip
            assert record is not None
            await self._assign_bought(uow, request, record)
            await uow.commit()

    async def _target_filled(
        self, request: PurchaseRequestRecord, account: AccountInfo
    ) -> str | None:
        """The target filled up while the request waited (e.g. a number assigned to it)."""
        limit = MAX_PER_ACCOUNT.get(request.target.kind)
        if limit is None:
            return None
        async with self.deps.uow(write=False) as uow:
            assigned = await uow.numbers.count_assigned(account.id, request.target.kind)
        if assigned < limit:
            return None
        return f"the {request.target.label} already has its number, so it was not bought"

    async def _assign_bought(
        self, uow: UnitOfWork, request: PurchaseRequestRecord, record: NumberRecord
    ) -> None:
        try:
            async with uow.savepoint():
                await self.numbers.assign_in(
                    uow, request.requester_id, request.workspace_id, record, request.target,
                    request_id=request.id,
                )  # fmt: skip
        except Conflict as exc:
            # Bought but not assigned (the faxbox filled meanwhile): it stays a spare.
            await self._audit(
                uow, SYSTEM, request.workspace_id, "number.assign_skipped", request.id,
                number=record.e164, detail=exc.message,
            )  # fmt: skip

    async def _provision_spare(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            record = await self.deps.backend.get(uow, number)
            if record is None or record.account_id != account.id or not record.is_spare:
                if record is not None and record.assignment == request.target:
                    await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now)
                else:
                    await uow.requests.set_item(
                        request.id, number, ItemOutcome.FAILED, "no longer a spare number", now
                    )
                await uow.commit()
                return
            try:
                async with uow.savepoint():
                    await self.numbers.assign_in(
                        uow, request.requester_id, request.workspace_id, record, request.target,
                        request_id=request.id,
                    )  # fmt: skip
            except Conflict as exc:
                await uow.requests.set_item(
                    request.id, number, ItemOutcome.FAILED, exc.message, now
                )
                await uow.commit()
                return
            await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now)
            await uow.commit()

    async def _fail_item(self, request: PurchaseRequestRecord, number: str, reason: str) -> None:
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            if await uow.requests.set_item(request.id, number, ItemOutcome.FAILED, reason, now):
                await self.deps.backend.release_hold(uow, request.id, now, [number])
                await self._audit(
                    uow, SYSTEM, request.workspace_id, "number.purchase_failed", request.id,
                    number=number, detail=reason,
                )  # fmt: skip
            await uow.commit()

    async def _finish(self, request_id: str) -> PurchaseRequestRecord:
        request = await self.reload(request_id)
        if request.state is not RequestState.PROVISIONING:
            return request
        outcomes = [i.outcome for i in request.items]
        if ItemOutcome.PENDING in outcomes:
            return request  # another worker is still on it
        final = outcome_state(outcomes)
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            if await uow.requests.transition(request_id, RequestState.PROVISIONING, final, now):
                await self._audit(
                    uow, SYSTEM, request.workspace_id, "request.provisioned", request_id,
                    before={"state": "provisioning"}, after={"state": final.value},
                )  # fmt: skip
                await uow.commit()
        return await self.reload(request_id)

    async def retry(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        """A new request for the numbers that failed, if they are still for sale."""
        request = await self.get(actor, request_id)
        failed = [i.number for i in request.items_with(ItemOutcome.FAILED)]
        if not failed:
            raise Conflict("Nothing to retry: no number of this request failed.")
        return await self.request_purchase(
            actor, failed, request.target, channel_id=request.channel_id
        )

    async def resume_provisioning(self, on_progress: Progress | None = None) -> list[str]:
        """On start-up: finish requests a crash or restart left in provisioning."""
        async with self.deps.uow(write=False) as uow:
            ids = await uow.requests.ids_in_state(RequestState.PROVISIONING)
        for request_id in ids:
            await self.provision(request_id, on_progress)
        return ids

    # --- sweeps -------------------------------------------------------------------

    async def _expire(self, uow: UnitOfWork, request: PurchaseRequestRecord, now: datetime) -> bool:
        if not await uow.requests.transition(
            request.id, list(OPEN_REQUEST_STATES), RequestState.EXPIRED, now
        ):
            return False
        await self.deps.backend.release_hold(uow, request.id, now)
        await self._audit(
            uow, SYSTEM, request.workspace_id, "request.expired", request.id,
            before={"state": request.state.value}, after={"state": "expired"},
        )  # fmt: skip
        return True

    async def expire_holds(self) -> list[PurchaseRequestRecord]:
        """Expire open requests whose hold ran out. Safe on several replicas at once."""
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            ids = await uow.requests.expired_open(now)
        expired = []
        for request_id in ids:
            async with self.deps.uow() as uow:
                request = await uow.requests.get(request_id)
                if (
                    request is None
                    or request.hold_expires_at is None
                    or request.hold_expires_at > now
                ):
                    continue
                if await self._expire(uow, request, now):
                    await uow.commit()
                    expired.append(request_id)
        return [await self.reload(i) for i in expired]

    async def activation_sweep(self) -> list[PurchaseRequestRecord]:
        """Mark activated numbers; return requests whose numbers are now all active."""
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            activated = await self.deps.backend.activate_due(uow, now)
            for number in activated:
                await uow.audit.add(
                    at=now, workspace_id="", actor=SYSTEM, action="number.activated", number=number
                )
            aged = await self.deps.backend.age_out(uow, now)
            for number in aged:
                await uow.audit.add(
                    at=now, workspace_id="", actor=SYSTEM, action="number.aged_out", number=number
                )
            await uow.commit()
        ready = []
        async with self.deps.uow(write=False) as uow:
            candidates = await uow.requests.awaiting_activation_notice()
        for request_id in candidates:
            async with self.deps.uow() as uow:
                request = await uow.requests.get(request_id)
                assert request is not None
                bought = request.items_with(ItemOutcome.BOUGHT)
                records = await uow.numbers.get_many(i.number for i in bought)
                # A number released since counts as done: it will never be announced.
                all_active = all(
                    r.activated_at is not None
                    or r.state is not NumberState.IN_SERVICE
                    or r.account_id != request.account_id
                    for r in records.values()
                )
                if all_active and await uow.requests.mark_activation_notified(request_id, now):
                    await uow.commit()
                    ready.append(request_id)
        return [await self.reload(i) for i in ready]
