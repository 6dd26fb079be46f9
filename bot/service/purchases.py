"""Purchase requests: quote, accept, approve, reject, cancel, provision, expire.

Every state change is a conditional update (`WHERE state = expected`) through
`RequestsRepository.transition`, which refuses a move the state machine
(`bot/domain/states.py`) forbids: of two clicks, two replicas or a Slack
re-delivery, exactly one moves the request, and the other is told who did.
Provisioning is idempotent and resumable: each number's outcome is recorded on
its own, so a restart finishes the rest and never buys a number twice.

The carrier is called outside every write transaction: reservations before
the request is written and given back after its holds are; orders and routes
before the purchase is recorded.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.backends.carrier import (
    CarrierFailure,
    NotFoundAtCarrier,
    NumberConflict,
    OrderOutcome,
    RouteTarget,
)
from bot.domain.assignment import MAX_PER_ACCOUNT, Assignment, has_room, is_limited
from bot.domain.billing import Quote, needs_approval
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.phone import Kind, display, kind_of, parse_number
from bot.domain.records import (
    SYSTEM,
    AccountInfo,
    AuditEntry,
    AuditEvent,
    NumberRecord,
    PurchaseRequestRecord,
    RequestStamp,
)
from bot.domain.refusals import NotRequester, StaleRequest
from bot.domain.states import (
    OPEN_REQUEST_STATES,
    ItemOutcome,
    NumberState,
    RequestState,
    outcome_state,
)
from bot.keyed_locks import KeyedLocks
from bot.service.accounts import AccountService
from bot.service.changes import carrier_account
from bot.service.context import Actor, Deps
from bot.service.holds import (
    free_in_database,
    give_back,
    live_hold,
    other_accounts,
    take_over,
)
from bot.service.numbers import NumberService, check_assignable, price
from bot.service.people import check_person, ring, unring
from bot.service.ports import UnitOfWork

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


# --------------------------------------------------------------------------- holds


class HoldChange:
    """What a request's move does to the holds on its numbers (one class per change)."""

    async def apply(self, uow: UnitOfWork, request_id: str, now: datetime) -> list[str]:
        """Change the holds; returns the numbers given back (to release at the carrier)."""
        return []


class ReleaseHolds(HoldChange):
    async def apply(self, uow: UnitOfWork, request_id: str, now: datetime) -> list[str]:
        return await uow.numbers.release_holds(request_id, now)


class HoldUntil(HoldChange):
    """Move the holds' expiry; `None` holds the numbers until provisioning settles them."""

    def __init__(self, until: datetime | None) -> None:
        self.until = until

    async def apply(self, uow: UnitOfWork, request_id: str, now: datetime) -> list[str]:
        await uow.numbers.extend_holds(request_id, self.until, now)
        await uow.requests.set_hold_expiry(request_id, self.until, now)
        return []


KEEP_HOLDS = HoldChange()


def _request_event(
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


def _moved(
    actor: str,
    request: PurchaseRequestRecord,
    action: str,
    new: RequestState,
    detail: str | None = None,
) -> AuditEvent:
    """The audit event of a request's move from its state to `new`."""
    return _request_event(
        actor,
        request.workspace_id,
        action,
        request.id,
        detail=detail,
        before={"state": request.state.value},
        after={"state": new.value},
    )


class PurchaseService:
    def __init__(self, deps: Deps, accounts: AccountService, numbers: NumberService) -> None:
        self.deps = deps
        self.accounts = accounts
        self.numbers = numbers
        # Requests of this process for one number take turns (an economy: the database decides).
        self._turns = KeyedLocks()

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
        if not has_room(target.kind, 0, len(wanted)):
            limit = MAX_PER_ACCOUNT[target.kind]
            raise InvalidInput(
                "numbers", f"The {target.label} takes only {limit} number; select one."
            )
        account = await self.accounts.for_channel(actor, channel_id)
        # Requests of this process for one number take turns from the carrier to the
        # database, so the next one finds the hold written and asks the carrier nothing.
        async with self._turns.hold_all(wanted):
            return await self._hold(actor, account, wanted, target, channel_id)

    async def _hold(
        self,
        actor: Actor,
        account: AccountInfo,
        wanted: list[str],
        target: Assignment,
        channel_id: str | None,
    ) -> PurchaseRequestRecord:
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            owned = await uow.numbers.get_many(wanted)
            spares = [n for n in wanted if _spare_of(owned.get(n), account)]
            await self._check_target_room(uow, account, target, len(wanted))
        if target.user_id is not None:
            await check_person(self.deps.carrier, target.user_id, carrier_account(account))
        to_buy = [n for n in wanted if n not in spares]
        # The database decides: a number it shows held or owned is refused before the
        # carrier is asked, so a request that cannot win reserves (and gives back) nothing.
        taken = [n for n in to_buy if not free_in_database(owned.get(n), now)]
        if taken:
            raise _taken(taken)
        reserved: list[str] = []
        try:
            for number in to_buy:
                await self._reserve(account, number)
                reserved.append(number)
            charges = await self._carrier_quote(account, to_buy)
            return await self._create(actor, account, wanted, spares, target, channel_id, charges)
        except BaseException:
            await self._let_go(account, reserved)
            raise

    async def _carrier_quote(self, account: AccountInfo, to_buy: list[str]) -> Quote | None:
        """The carrier's own charges for the numbers (Kazoo's 402 invoices), or None
        when it priced nothing (the bot's price table is used then).

        A number the carrier refuses (Kazoo's words) stops the request here, before
        anyone accepts a price for it.
        """
        if not to_buy:
            return None
        priced = await self.deps.carrier.supplier.quote(to_buy, account_id=carrier_account(account))
        if priced.refused:
            names = "; ".join(f"{display(n)}: {why}" for n, why in priced.refused)
            raise Conflict(f"The carrier will not sell {names}. Search again.")
        return priced.quote if priced.priced else None

    async def _reserve(self, account: AccountInfo, number: str) -> None:
        """Hold the number at the carrier, before anything is written.

        The carrier saying it is held is not the last word: the database decides.
        A hold there that ran out is expired first (as the sweep would); then a
        reservation with no live hold behind it is an orphan, taken over.
        """
        if await self._try_reserve(account, number):
            return
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
            free = free_in_database(record, now)
            others = await other_accounts(uow, account) if free else []
        if not free:
            raise _taken([number])
        if record is not None and record.hold_request_id is not None:
            # Its request still holds it at the carrier until the sweep expires it.
            await self._expire_one(record.hold_request_id, now)
        await take_over(self.deps, others, number)
        if not await self._try_reserve(account, number):
            raise _taken([number])

    async def _try_reserve(self, account: AccountInfo, number: str) -> bool:
        """Reserve at the carrier: False when it is held there (not necessarily by a hold)."""
        if self.deps.carrier.holds is None:
            return True  # no holds at the carrier: the database's hold is the only one
        try:
            await self.deps.carrier.holds.reserve(number, account_id=carrier_account(account))
        except NotFoundAtCarrier:
            raise InvalidInput(
                "numbers", f"{display(number)} is not for sale; search again."
            ) from None
        except NumberConflict:
            return False
        return True

    async def _create(
        self,
        actor: Actor,
        account: AccountInfo,
        wanted: list[str],
        spares: list[str],
        target: Assignment,
        channel_id: str | None,
        charges: Quote | None = None,
    ) -> PurchaseRequestRecord:
        to_buy = [n for n in wanted if n not in spares]
        kinds = {kind_of(n) for n in wanted}
        now = self.deps.clock()
        request_id = self.deps.ids()
        until = now + timedelta(minutes=self.deps.settings.holds.quote_minutes)
        async with self.deps.uow() as uow:
            await self._check_target_room(uow, account, target, len(wanted))
            quote = charges or await price(
                self.deps, uow, account, Counter(kind_of(n) for n in to_buy)
            )
            await uow.requests.create(
                request_id=request_id,
                workspace_id=actor.workspace_id,
                account_id=account.id,
                requester_id=actor.user_id,
                target=target,
                kind=Kind.TOLLFREE if kinds == {Kind.TOLLFREE} else Kind.LOCAL,
                quote=replace(quote, spare_count=len(spares)),
                numbers=wanted,
                spares=spares,
                hold_expires_at=until,
                channel_id=channel_id or actor.channel_id,
                now=now,
            )
            held = await uow.numbers.hold(
                to_buy,
                request_id=request_id,
                account_id=account.id,
                until=until,
                now=now,
                kinds={n: kind_of(n) for n in to_buy},
            )
            missing = [n for n in to_buy if n not in held]
            if missing:
                raise _taken(missing)
            events = [
                _request_event(
                    actor.user_id,
                    actor.workspace_id,
                    "request.created",
                    request_id,
                    after={"state": RequestState.QUOTED.value, "numbers": wanted},
                )
            ] + [
                _request_event(
                    actor.user_id,
                    actor.workspace_id,
                    "number.held",
                    request_id,
                    number=n,
                    after={"state": "reserved", "until": until.isoformat()},
                )
                for n in to_buy
            ]
            for event in events:
                await uow.audit.add(event, now)
            await uow.commit()
        self.deps.telemetry.purchase(RequestState.QUOTED.value)
        self.deps.telemetry.holds("placed", len(to_buy))
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
        if not is_limited(target.kind):
            return None
        limit = MAX_PER_ACCOUNT[target.kind]
        if not has_room(
            target.kind, await uow.numbers.count_assigned(account.id, target.kind), adding
        ):
            return (
                f"The {target.label} already has its number; it takes only {limit}. "
                "Unassign it first, or buy for another target."
            )
        if not has_room(
            target.kind, await uow.requests.pending_for_target(account.id, target), adding
        ):
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
        if not is_limited(target.kind):
            return None
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            return await self._full_reason(uow, account, target, 1)

    async def reload(self, request_id: str) -> PurchaseRequestRecord:
        """The request as stored now (system side: for redrawing its cards)."""
        async with self.deps.uow(write=False) as uow:
            request = await uow.requests.get(request_id)
        assert request is not None
        return request

    async def _let_go(self, account: AccountInfo | str, numbers: Sequence[str]) -> None:
        await give_back(self.deps, account, numbers)

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
        holds: HoldChange = KEEP_HOLDS,
        stamp: RequestStamp | None = None,
    ) -> PurchaseRequestRecord:
        """One conditional transition with its audit event; the loser gets a StaleRequest."""
        expected_states = [expected] if isinstance(expected, RequestState) else expected
        # A stale click is answered from a read: it need not queue for the write lock.
        seen = await self._peek(actor, request_id)
        if check:
            check(seen)
        if seen.state not in expected_states:
            raise StaleRequest(seen)
        now = self.deps.clock()
        expired: PurchaseRequestRecord | None = None
        async with self.deps.uow() as uow:
            request = await self._load(uow, actor.workspace_id, request_id)
            if request.state not in expected_states:
                raise StaleRequest(request)
            if _hold_ran_out(request, now):
                released = await self._expire(uow, request, now) or []
                expired = replace(request, state=RequestState.EXPIRED, updated_at=now)
            elif await uow.requests.transition(request_id, request.state, new, now, stamp):
                released = await holds.apply(uow, request_id, now)
                event = _moved(actor.user_id, request, action, new, stamp.reason if stamp else None)
                await uow.audit.add(event, now)
            else:
                fresh = await uow.requests.get(request_id)
                assert fresh is not None
                raise StaleRequest(fresh)
            await uow.commit()
        # The carrier hears of it once the transaction is over.
        await self._let_go(request.account_id, released)
        if expired is not None:
            self._expired(released)
            raise HoldExpired(expired)
        self.deps.telemetry.purchase(new.value)
        return await self.reload(request_id)

    def _only_requester(self, actor: Actor, doing: str) -> Callable[[PurchaseRequestRecord], None]:
        def check(request: PurchaseRequestRecord) -> None:
            if actor.user_id != request.requester_id and not actor.is_admin:
                raise NotRequester(request.requester_id, doing)

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
        stamp = RequestStamp(accepted_at=now, accepted_by=actor.user_id)
        check = self._only_requester(actor, "accept")
        if approval:
            until = now + timedelta(minutes=self.deps.settings.holds.approval_minutes)
            new, holds = RequestState.AWAITING_APPROVAL, HoldUntil(until)
        else:
            new, holds = RequestState.PROVISIONING, HoldUntil(None)
        request = await self._move(
            actor,
            request_id,
            RequestState.QUOTED,
            new,
            action="request.accepted",
            check=check,
            holds=holds,
            stamp=stamp,
        )
        return Accepted(request, approval)

    async def _peek(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        async with self.deps.uow(write=False) as uow:
            return await self._load(uow, actor.workspace_id, request_id)

    async def cancel(self, actor: Actor, request_id: str) -> PurchaseRequestRecord:
        """Cancel changes nothing else and gives the held numbers back."""
        return await self._move(
            actor,
            request_id,
            list(OPEN_REQUEST_STATES),
            RequestState.CANCELLED,
            action="request.cancelled",
            check=self._only_requester(actor, "cancel"),
            holds=ReleaseHolds(),
            stamp=RequestStamp(decided_by=actor.user_id, decided_at=self.deps.clock()),
        )

    def may_decide(self, request: PurchaseRequestRecord, user_id: str) -> bool:
        return self.deps.may_decide(request, user_id)

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
        return await self._decide(actor, request_id, RequestState.PROVISIONING, None)

    async def reject(
        self, actor: Actor, request_id: str, reason: str | None = None
    ) -> PurchaseRequestRecord:
        reason = " ".join((reason or "").split()) or None
        if reason and len(reason) > 500:
            raise InvalidInput("reason", "Keep the reason under 500 characters.")
        return await self._decide(actor, request_id, RequestState.REJECTED, reason)

    async def _decide(
        self, actor: Actor, request_id: str, new: RequestState, reason: str | None
    ) -> PurchaseRequestRecord:
        """An approver's decision: approved ones are bought, rejected ones give holds back."""
        approved = new is RequestState.PROVISIONING
        return await self._move(
            actor,
            request_id,
            RequestState.AWAITING_APPROVAL,
            new,
            action="request.approved" if approved else "request.rejected",
            check=self._approver_check(actor),
            holds=HoldUntil(None) if approved else ReleaseHolds(),
            stamp=RequestStamp(
                decided_by=actor.user_id, decided_at=self.deps.clock(), reason=reason
            ),
        )

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
                system,
                request_id,
                list(OPEN_REQUEST_STATES),
                RequestState.CANCELLED,
                action="request.cancelled",
                holds=ReleaseHolds(),
                stamp=RequestStamp(decided_at=self.deps.clock(), reason=why),
            )
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
        message = (channel_id, message_ts) if channel_id and message_ts else None
        if message is None and approval_cards is None:
            return
        async with self.deps.uow() as uow:
            await uow.requests.record_cards(
                request_id, self.deps.clock(), message=message, approval_cards=approval_cards
            )
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

    async def _keep_reserved(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        """Before ordering, see that the carrier holds the number for the account.

        The reservation made with the request may be gone: another request of the
        account gave back the one they shared, or another account took it over while
        this hold was being written. The database holds the number for this request,
        so a reservation another account keeps is an orphan and is taken over.
        Best effort: if it fails, the order says what the carrier thinks.
        """
        if self.deps.carrier.holds is None:
            return  # no holds at the carrier: the order says whether it is still for sale
        try:
            await self.deps.carrier.holds.reserve(number, account_id=carrier_account(account))
            return
        except CarrierFailure:
            pass
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
            others = await other_accounts(uow, account)
        if record is None or record.hold_request_id != request.id:
            return  # the hold is lost: the purchase records that, not this
        if not live_hold(record, self.deps.clock()):
            return
        if await take_over(self.deps, others, number):
            where = carrier_account(account)
            await _best_effort(
                self.deps.carrier.holds.reserve(number, account_id=where), "reserve", number
            )

    async def _order(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> str | None:
        """Buy the number at the carrier: None when bought, else why not.

        The order's key is the request and the number, so a resumed purchase that
        orders again never buys twice. An order with no answer is reconciled with
        the carrier's view of the number before anything is recorded.
        """
        where = carrier_account(account)
        try:
            result = await self.deps.carrier.supplier.order(
                [number], account_id=where, idempotency_key=f"{request.id}:{number}"
            )
        except CarrierFailure as exc:
            return exc.reason
        outcome = result.by_number().get(number)
        if outcome is not None and outcome.outcome is OrderOutcome.BOUGHT:
            return None
        if outcome is not None and outcome.outcome is OrderOutcome.FAILED:
            return outcome.reason or "the carrier refused the order"
        try:
            status = await self.deps.carrier.supplier.number_status(number, account_id=where)
        except CarrierFailure as exc:
            return exc.reason
        return None if status.owned_by(where) else "the carrier did not answer; try again"

    async def _route(
        self, request: PurchaseRequestRecord, account: AccountInfo, record: NumberRecord
    ) -> str | None:
        """Make the number ring the request's target at the carrier: None, or why not."""
        try:
            async with self.deps.uow(write=False) as uow:
                await check_assignable(uow, record, request.target)
            target = RouteTarget.of(request.target)
            await ring(self.deps.carrier, record.e164, target, account_id=carrier_account(account))
        except (Conflict, NumberConflict, InvalidInput) as exc:
            # InvalidInput: the Slack user has no carrier user (Kazoo) to ring.
            return exc.message
        return None

    async def _unroute(self, account: AccountInfo, number: str) -> None:
        """Best effort: a route the database does not record (a write that lost)."""
        where = carrier_account(account)
        await _best_effort(unring(self.deps.carrier, number, account_id=where), "unroute", number)

    async def _provision_one(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        full = await self._target_filled(request, account)
        if full:
            # Bought anyway it would only be a spare, billed, under a card naming the target.
            await self._fail_item(request, account, number, full)
            return
        # The carrier calls happen outside any transaction: a slow carrier holds no lock.
        await self._keep_reserved(request, account, number)
        refused = await self._order(request, account, number)
        if refused is not None:
            await self._fail_item(request, account, number, refused)
            return
        pending = NumberRecord(number, NumberState.IN_SERVICE, kind_of(number), account.id)
        not_routed = await self._route(request, account, pending)
        now = self.deps.clock()
        activate_at = now + timedelta(seconds=self.deps.settings.carrier.activation_delay_seconds)
        assigned = False
        async with self.deps.uow() as uow:
            bought = await uow.numbers.mark_purchased(
                number,
                request_id=request.id,
                account_id=account.id,
                now=now,
                activate_at=activate_at,
            )
            record = await uow.numbers.get(number)
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
                if not_routed is None:
                    await self._unroute(account, number)
                return
            if not await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now):
                return  # another worker recorded it first; nothing more to do
            await uow.audit.add(
                _request_event(
                    SYSTEM,
                    request.workspace_id,
                    "number.purchased",
                    request.id,
                    number=number,
                    before={"state": "reserved"},
                    after={"state": "in_service", "account_id": account.id},
                ),
                now,
            )
            assert record is not None
            assigned = await self._assign_bought(uow, request, record, not_routed)
            await uow.commit()
        if not assigned and not_routed is None:
            await self._unroute(account, number)

    async def _target_filled(
        self, request: PurchaseRequestRecord, account: AccountInfo
    ) -> str | None:
        """The target filled up while the request waited (e.g. a number assigned to it)."""
        if not is_limited(request.target.kind):
            return None
        async with self.deps.uow(write=False) as uow:
            assigned = await uow.numbers.count_assigned(account.id, request.target.kind)
        if has_room(request.target.kind, assigned):
            return None
        return f"the {request.target.label} already has its number, so it was not bought"

    async def _assign_bought(
        self,
        uow: UnitOfWork,
        request: PurchaseRequestRecord,
        record: NumberRecord,
        not_routed: str | None,
    ) -> bool:
        """Assign a bought number to the target; bought but not assigned, it stays a spare."""
        try:
            if not_routed is not None:
                raise Conflict(not_routed)
            await self._assign_to_target(uow, request, record)
        except Conflict as exc:
            # Bought but not assigned (the faxbox filled meanwhile): it stays a spare.
            await uow.audit.add(
                _request_event(
                    SYSTEM,
                    request.workspace_id,
                    "number.assign_skipped",
                    request.id,
                    number=record.e164,
                    detail=exc.message,
                ),
                self.deps.clock(),
            )
            return False
        return True

    async def _assign_to_target(
        self, uow: UnitOfWork, request: PurchaseRequestRecord, record: NumberRecord
    ) -> None:
        """Assign in a savepoint: a refusal (`Conflict`) undoes only the assignment."""
        async with uow.savepoint():
            await self.numbers.assign_in(
                uow,
                request.requester_id,
                request.workspace_id,
                record,
                request.target,
                request_id=request.id,
            )

    async def _provision_spare(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str
    ) -> None:
        async with self.deps.uow(write=False) as uow:
            record = await uow.numbers.get(number)
        if record is None or record.account_id != account.id or not record.is_spare:
            settled = record is not None and record.assignment == request.target
            outcome = ItemOutcome.BOUGHT if settled else ItemOutcome.FAILED
            await self._settle_item(
                request, number, outcome, None if settled else "no longer a spare number"
            )
            return
        not_routed = await self._route(request, account, record)
        if not_routed is not None:
            await self._settle_item(request, number, ItemOutcome.FAILED, not_routed)
            return
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            fresh = await uow.numbers.get(number)
            try:
                if fresh is None or not fresh.is_spare or fresh.account_id != account.id:
                    raise Conflict("no longer a spare number")
                await self._assign_to_target(uow, request, fresh)
            except Conflict as exc:
                await uow.requests.set_item(
                    request.id, number, ItemOutcome.FAILED, exc.message, now
                )
                await uow.commit()
                await self._unroute(account, number)
                return
            await uow.requests.set_item(request.id, number, ItemOutcome.BOUGHT, None, now)
            await uow.commit()

    async def _settle_item(
        self, request: PurchaseRequestRecord, number: str, outcome: ItemOutcome, reason: str | None
    ) -> None:
        async with self.deps.uow() as uow:
            await uow.requests.set_item(request.id, number, outcome, reason, self.deps.clock())
            await uow.commit()

    async def _fail_item(
        self, request: PurchaseRequestRecord, account: AccountInfo, number: str, reason: str
    ) -> None:
        now = self.deps.clock()
        released: list[str] = []
        async with self.deps.uow() as uow:
            if await uow.requests.set_item(request.id, number, ItemOutcome.FAILED, reason, now):
                released = await uow.numbers.release_holds(request.id, now, [number])
                await uow.audit.add(
                    _request_event(
                        SYSTEM,
                        request.workspace_id,
                        "number.purchase_failed",
                        request.id,
                        number=number,
                        detail=reason,
                    ),
                    now,
                )
            await uow.commit()
        await self._let_go(account, released)

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
                await uow.audit.add(_moved(SYSTEM, request, "request.provisioned", final), now)
                await uow.commit()
                self.deps.telemetry.purchase(final.value)
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
        """Finish every request left in provisioning (the worker resumes stalled ones itself)."""
        async with self.deps.uow(write=False) as uow:
            ids = await uow.requests.ids_in_state(RequestState.PROVISIONING)
        for request_id in ids:
            await self.provision(request_id, on_progress)
        return ids

    # --- sweeps -------------------------------------------------------------------

    async def _expire(
        self, uow: UnitOfWork, request: PurchaseRequestRecord, now: datetime
    ) -> list[str] | None:
        """Expire an open request in `uow`: the numbers given back, or None if it moved on."""
        if not await uow.requests.transition(
            request.id, list(OPEN_REQUEST_STATES), RequestState.EXPIRED, now
        ):
            return None
        released = await uow.numbers.release_holds(request.id, now)
        await uow.audit.add(_moved(SYSTEM, request, "request.expired", RequestState.EXPIRED), now)
        return released

    async def _expire_one(self, request_id: str, now: datetime) -> PurchaseRequestRecord | None:
        """Expire the request if its hold ran out; the request as it was, or None."""
        async with self.deps.uow() as uow:
            request = await uow.requests.get(request_id)
            if request is None or request.hold_expires_at is None or request.hold_expires_at > now:
                return None
            released = await self._expire(uow, request, now)
            if released is None:
                return None
            await uow.commit()
        self._expired(released)
        await self._let_go(request.account_id, released)
        return request

    def _expired(self, released: Sequence[str]) -> None:
        self.deps.telemetry.purchase(RequestState.EXPIRED.value)
        self.deps.telemetry.holds("expired", len(released))

    async def expire_holds(self) -> list[PurchaseRequestRecord]:
        """Expire open requests whose hold ran out. Safe on several replicas at once."""
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            ids = await uow.requests.expired_open(now)
        self.deps.telemetry.queue_depth("expired_holds", len(ids))
        expired = [i for i in ids if await self._expire_one(i, now) is not None]
        return [await self.reload(i) for i in expired]

    async def activation_sweep(self) -> list[PurchaseRequestRecord]:
        """Mark activated numbers, age out released ones; return requests now all active."""
        now = self.deps.clock()
        async with self.deps.uow() as uow:
            for number in await uow.numbers.due_activation(now):
                if await uow.numbers.mark_activated(number, now):
                    event = AuditEvent("number.activated", SYSTEM, "", number=number)
                    await uow.audit.add(event, now)
            await uow.commit()
        await self._age_out(now)
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

    async def _age_out(self, now: datetime) -> None:
        """Numbers whose aging ended go back to the carrier, then leave the account."""
        for record, account in await self._aged(now):
            await self._give_back(record, account, now)

    async def _aged(self, now: datetime) -> list[tuple[NumberRecord, AccountInfo]]:
        """The numbers to give back (aging ended, or returning still), with their account."""
        async with self.deps.uow(write=False) as uow:
            aged = await uow.numbers.get_many(await uow.numbers.aged_out(now))
            accounts = {
                a: await uow.accounts.get(a)
                for a in {r.account_id for r in aged.values() if r.account_id}
            }
        found = []
        for record in aged.values():
            account = accounts.get(record.account_id or "")
            if account is not None:
                found.append((record, account))
        return found

    async def _give_back(self, record: NumberRecord, account: AccountInfo, now: datetime) -> None:
        """Claim the number in the database first; only the claim's winner calls the carrier.

        A restore that got there first (or another sweep) wins the conditional claim, and
        the carrier is left alone. A carrier failure after the claim leaves the number
        returning, which no restore accepts, for the next sweep to retry.
        """
        number = record.e164
        async with self.deps.uow() as uow:
            if not await uow.numbers.claim_return(number, account.id, record.version, now):
                return
            await uow.commit()
        detail = None
        try:
            await self.deps.carrier.supplier.release(number, account_id=carrier_account(account))
        except NumberConflict as exc:
            # The carrier has it back already, or another account has it now (moved
            # behind the bot's back): nothing is released there; the account no
            # longer has it, and the sync catches up.
            detail = f"not released at the carrier: {exc.carrier_message or exc.reason}"
            self.deps.due.mark(number)
        except CarrierFailure:
            log.warning("could not give %s back to the carrier; next pass", number, exc_info=True)
            return
        async with self.deps.uow() as uow:
            if await uow.numbers.return_to_stock(number, account.id, now):
                await uow.numbers.remove_e911(number)
                await uow.audit.add(
                    AuditEvent("number.aged_out", SYSTEM, "", number=number, detail=detail), now
                )
                await uow.commit()


def _hold_ran_out(request: PurchaseRequestRecord, now: datetime) -> bool:
    return (
        request.state in OPEN_REQUEST_STATES
        and request.hold_expires_at is not None
        and request.hold_expires_at <= now
    )


def _spare_of(record: NumberRecord | None, account: AccountInfo) -> bool:
    return record is not None and record.is_spare and record.account_id == account.id


def _taken(numbers: Sequence[str]) -> Conflict:
    names = ", ".join(display(n) for n in numbers)
    return Conflict(f"Just taken by another request: {names}. Search again.")


async def _best_effort(call: Awaitable[object], doing: str, number: str) -> None:
    """A carrier call whose failure is logged, not raised: the database already decided."""
    try:
        await call
    except CarrierFailure:
        log.warning("could not %s %s at the carrier", doing, number, exc_info=True)
