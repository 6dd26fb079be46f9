"""Owned numbers: search, list, assign, spares, move, release, restore, history."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from itertools import zip_longest

from bot.domain.assignment import MAX_PER_ACCOUNT, Assignment, AssignmentKind
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.phone import (
    TOLLFREE_PREFIXES,
    Kind,
    SearchQuery,
    parse_number,
    parse_query,
    place_of,
)
from bot.domain.records import (
    AccountInfo,
    AuditEntry,
    AvailableNumber,
    NumberFilter,
    NumberRecord,
    Page,
)
from bot.domain.states import NumberState
from bot.service.accounts import AccountService
from bot.service.context import Actor, Deps
from storage.overview import OverviewRepo
from storage.uow import ConstraintViolation, UnitOfWork

MAX_SEARCH = 50
MAX_PAGE = 50
# An empty area code searches the account's own area codes (at most this many, read
# from this many of its numbers), or these when it has none (docs/decisions/input.md).
ANY_AREA_CODES = 3
AREA_CODE_SAMPLE = 200
DEFAULT_AREA_CODES = ("415", "212", "312")


def _kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise InvalidInput("kind", "Choose Local or Toll-free.") from None


def _any_query(queries: tuple[SearchQuery, ...]) -> SearchQuery:
    """The query shown for a search of several prefixes: they are named for people in
    `npa` (`area code 415, 212 or 312`), which the builders print as the prefix."""
    codes = [q.prefix for q in queries]
    named = codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} or {codes[-1]}"
    return SearchQuery(queries[0].kind, named)


def _interleave(found: list[list[str]], quantity: int) -> list[str]:
    """Take from each search in turn, so every prefix searched is represented."""
    merged: list[str] = []
    for row in zip_longest(*found):
        merged += [n for n in row if n is not None and n not in merged]
    return merged[:quantity]


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: SearchQuery
    account: AccountInfo
    spares: tuple[AvailableNumber, ...]
    available: tuple[AvailableNumber, ...]

    @property
    def all(self) -> tuple[AvailableNumber, ...]:
        return self.spares + self.available


@dataclass(frozen=True, slots=True)
class Summary:
    """What the App Home shows of an account."""

    account: AccountInfo
    by_assignment: dict[str, int]
    spare: int
    aging: int
    in_service: int
    emergency_enabled: int
    main_emergency_enabled: bool
    open_requests: int
    monthly_total: Decimal
    currency: str


class NumberService:
    def __init__(self, deps: Deps, accounts: AccountService) -> None:
        self.deps = deps
        self.accounts = accounts

    # --- reading ------------------------------------------------------------------

    async def search(
        self,
        actor: Actor,
        kind: Kind | str,
        text: str,
        *,
        quantity: int = 10,
        channel_id: str | None = None,
    ) -> SearchResult:
        """Spares that match first (free), then what the carrier offers.

        Empty `text` means any area code (or any toll-free prefix): see `_any_queries`.
        """
        actor.require_admin("search for numbers")
        if not 1 <= quantity <= MAX_SEARCH:
            raise InvalidInput("quantity", f"Ask for 1 to {MAX_SEARCH} numbers.")
        kind, wanted = _kind(kind), text.strip()
        queries: tuple[SearchQuery, ...] = (parse_query(kind, wanted),) if wanted else ()
        plan = self.deps.settings.plan
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            queries = queries or await self._any_queries(uow, account, kind)
            query = queries[0] if len(queries) == 1 else _any_query(queries)
            spares = await self.deps.backend.spares(
                uow,
                account,
                kind=query.kind,
                prefix=query.prefix if len(queries) == 1 else None,
                limit=quantity,
            )
        rate = plan.rate(query.kind).monthly
        async with self.deps.uow(write=False) as uow:
            now = self.deps.clock()
            found = [await self.deps.backend.search(uow, q, quantity, now) for q in queries]
        return SearchResult(
            query=query,
            account=account,
            spares=tuple(
                AvailableNumber(s.e164, s.kind, place_of(s.e164), Decimal("0"), spare=True)
                for s in spares
            ),
            available=tuple(
                AvailableNumber(n, query.kind, place_of(n), rate)
                for n in _interleave(found, quantity)
            ),
        )

    async def _any_queries(
        self, uow: UnitOfWork, account: AccountInfo, kind: Kind
    ) -> tuple[SearchQuery, ...]:
        """What "any" searches: every toll-free prefix; for local numbers the area codes
        the account already has (most numbers first), else a few common ones."""
        if kind is Kind.TOLLFREE:
            return tuple(SearchQuery(Kind.TOLLFREE, p) for p in TOLLFREE_PREFIXES)
        owned = await self.deps.backend.list_numbers(
            uow, account, NumberFilter(kind=Kind.LOCAL), after=None, limit=AREA_CODE_SAMPLE
        )
        counted = Counter(n.e164[2:5] for n in owned)
        codes = [code for code, _ in counted.most_common(ANY_AREA_CODES)] or list(
            DEFAULT_AREA_CODES
        )
        return tuple(SearchQuery(Kind.LOCAL, code) for code in codes)

    async def _account(self, uow: UnitOfWork, actor: Actor, channel_id: str | None) -> AccountInfo:
        return await self.accounts.resolve_in(
            uow, actor.workspace_id, channel_id or actor.channel_id
        )

    async def list_numbers(
        self,
        actor: Actor,
        flt: NumberFilter | None = None,
        *,
        after: str | None = None,
        limit: int = 10,
        channel_id: str | None = None,
    ) -> Page:
        """One page of the channel's account's numbers (anyone may read)."""
        limit = max(1, min(limit, MAX_PAGE))
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            rows = await self.deps.backend.list_numbers(
                uow, account, flt or NumberFilter(), after=after, limit=limit + 1
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            tuple(rows), rows[-1].e164 if more and rows else None, {"account": account.name}
        )

    async def spares(
        self,
        actor: Actor,
        *,
        kind: Kind | None = None,
        prefix: str | None = None,
        limit: int = MAX_SEARCH,
        channel_id: str | None = None,
    ) -> list[NumberRecord]:
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            return await self.deps.backend.spares(
                uow, account, kind=kind, prefix=prefix, limit=limit
            )

    async def get(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        e164 = parse_number(number)
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            return await self.owned(uow, account, e164, states=None)

    async def summary(self, actor: Actor, *, channel_id: str | None = None) -> Summary:
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            counts = await uow.numbers.counts(account.id)
            total = await self.deps.backend.monthly_total(uow, account)
            open_requests = await uow.requests.open_for_workspace(actor.workspace_id)
            main_e911 = await uow.numbers.emergency_main_numbers(account.id)
        in_service = sum(counts.get(f"in_service:{k.value}", 0) for k in Kind)
        by_assignment = {k.value: counts.get(f"assigned:{k.value}", 0) for k in AssignmentKind}
        return Summary(
            account=account,
            by_assignment=by_assignment,
            spare=in_service - sum(by_assignment.values()),
            aging=sum(counts.get(f"aging:{k.value}", 0) for k in Kind),
            in_service=in_service,
            emergency_enabled=counts.get("e911", 0),
            main_emergency_enabled=bool(main_e911),
            open_requests=open_requests,
            monthly_total=total,
            currency=self.deps.settings.plan.currency,
        )

    async def history(self, actor: Actor, number: str) -> list[AuditEntry]:
        """The number's audit trail in the actor's workspace only."""
        actor.require_member("read a number's history")
        e164 = parse_number(number)
        async with self.deps.uow(write=False) as uow:
            return await uow.audit.for_number(actor.workspace_id, e164)

    # --- changing -----------------------------------------------------------------

    async def owned(
        self,
        uow: UnitOfWork,
        account: AccountInfo,
        e164: str,
        states: tuple[NumberState, ...] | None = (NumberState.IN_SERVICE,),
    ) -> NumberRecord:
        record = await self.deps.backend.get(uow, e164)
        if (
            record is None
            or record.account_id != account.id
            or (record.state not in (NumberState.IN_SERVICE, NumberState.AGING))
        ):
            raise NotFound(f"{e164} is not a number of the account {account.name}.")
        if states is not None and record.state not in states:
            raise Conflict(f"{record.display} is {record.state.value.replace('_', ' ')}.")
        return record

    async def check_assignable(
        self, uow: UnitOfWork, record: NumberRecord, assignment: Assignment
    ) -> None:
        """The faxbox answers on one number: refuse a second one with a clear message."""
        limit = MAX_PER_ACCOUNT.get(assignment.kind)
        if limit is None or record.assignment == assignment:
            return
        assert record.account_id is not None
        if await uow.numbers.count_assigned(record.account_id, assignment.kind) >= limit:
            raise Conflict(
                f"The {assignment.label} already has a number; it takes only {limit}. "
                "Unassign that one first."
            )

    async def assign_in(
        self,
        uow: UnitOfWork,
        actor_id: str,
        workspace_id: str,
        record: NumberRecord,
        assignment: Assignment,
        *,
        request_id: str | None = None,
    ) -> NumberRecord:
        """Assign inside the caller's unit of work (used by purchases and spare reuse too)."""
        await self.check_assignable(uow, record, assignment)
        now = self.deps.clock()
        try:
            async with uow.savepoint():
                await self.deps.backend.assign(uow, record, assignment, actor=actor_id, now=now)
        except ConstraintViolation:
            raise Conflict(
                f"The {assignment.label} already has a number; unassign that one first."
            ) from None
        after = replace(record, assignment=assignment)
        await uow.audit.add(
            at=now,
            workspace_id=workspace_id,
            actor=actor_id,
            action="number.assigned",
            number=record.e164,
            request_id=request_id,
            before=record.snapshot(),
            after=after.snapshot(),
        )
        return after

    async def assign(
        self, actor: Actor, number: str, target: str | Assignment, *, channel_id: str | None = None
    ) -> NumberRecord:
        actor.require_admin("assign numbers")
        e164 = parse_number(number)
        assignment = target if isinstance(target, Assignment) else Assignment.parse(target)
        async with self.deps.uow() as uow:
            account = await self._account(uow, actor, channel_id)
            record = await self.owned(uow, account, e164)
            if record.assignment == assignment:
                return record  # already so: repeating the command changes nothing
            if record.assignment is not None:
                await self._keep_emergency_main(uow, account, record, "reassign")
            after = await self.assign_in(uow, actor.user_id, actor.workspace_id, record, assignment)
            await uow.commit()
            return after

    async def unassign(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """The number stays the account's, as a spare."""
        actor.require_admin("unassign numbers")
        e164 = parse_number(number)
        async with self.deps.uow() as uow:
            account = await self._account(uow, actor, channel_id)
            record = await self.owned(uow, account, e164)
            if record.assignment is None:
                return record
            await self._keep_emergency_main(uow, account, record, "unassign")
            now = self.deps.clock()
            await self.deps.backend.unassign(uow, record, now)
            after = replace(record, assignment=None)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="number.unassigned",
                number=e164,
                before=record.snapshot(),
                after=after.snapshot(),
            )
            await uow.commit()
            return after

    async def add_spares(
        self,
        actor: Actor,
        numbers: list[str],
        target: Assignment,
        *,
        channel_id: str | None = None,
    ) -> list[NumberRecord]:
        """Give spare numbers to a target: no purchase, no billing change."""
        actor.require_admin("assign spare numbers")
        if not numbers:
            raise InvalidInput("spares", "Select at least one spare number.")
        wanted = list(dict.fromkeys(parse_number(n, "spares") for n in numbers))
        limit = MAX_PER_ACCOUNT.get(target.kind)
        if limit is not None and len(wanted) > limit:
            raise InvalidInput("spares", f"The {target.label} takes only {limit} number.")
        async with self.deps.uow() as uow:
            account = await self._account(uow, actor, channel_id)
            done = []
            for e164 in wanted:
                record = await self.owned(uow, account, e164)
                if record.assignment == target:
                    done.append(record)
                    continue
                if record.assignment is not None:
                    raise Conflict(
                        f"{record.display} is no longer spare: it rings {record.assignment.label}."
                    )
                done.append(
                    await self.assign_in(uow, actor.user_id, actor.workspace_id, record, target)
                )
            await uow.commit()
            return done

    async def _keep_emergency_main(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, doing: str
    ) -> None:
        """The account's last emergency-enabled main number cannot lose that role."""
        if not (
            record.emergency_enabled
            and record.assignment is not None
            and record.assignment.kind is AssignmentKind.MAIN
        ):
            return
        enabled = await uow.numbers.emergency_main_numbers(account.id)
        if enabled == [record.e164]:
            raise Conflict(
                f"{record.display} is the account's last emergency-enabled main number; "
                f"set an e911 address on another main number before you {doing} it."
            )

    async def keep_emergency_main(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, doing: str
    ) -> None:
        """The same rule, for callers that want to refuse before asking for a confirm."""
        await self._keep_emergency_main(uow, account, record, doing)

    async def move(
        self, actor: Actor, number: str, account_name: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """Move to another account of the workspace: assignment cleared, e911 kept."""
        actor.require_admin("move numbers")
        e164 = parse_number(number)
        async with self.deps.uow() as uow:
            source = await self._account(uow, actor, channel_id)
            target = await self.accounts.by_name(uow, actor, account_name)
            record = await self.owned(uow, source, e164)
            if target.id == source.id:
                raise InvalidInput("account", f"{record.display} is already on {target.name}.")
            await self._keep_emergency_main(uow, source, record, "move")
            now = self.deps.clock()
            if not await self.deps.backend.move(uow, record, target, now):
                raise Conflict(f"{record.display} changed meanwhile; look at it again.")
            after = replace(record, account_id=target.id, assignment=None)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="number.moved",
                number=e164,
                before=record.snapshot(),
                after=after.snapshot(),
                detail=f"{source.name} → {target.name}",
            )
            await uow.commit()
            return after

    async def release(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """The number leaves the account and ages; it can be restored until aging ends."""
        actor.require_admin("release numbers")
        e164 = parse_number(number)
        async with self.deps.uow() as uow:
            account = await self._account(uow, actor, channel_id)
            record = await self.owned(uow, account, e164, states=None)
            if record.state is NumberState.AGING:
                return record  # released already: a repeated click changes nothing
            await self._keep_emergency_main(uow, account, record, "release")
            now = self.deps.clock()
            until = now + timedelta(days=self.deps.settings.aging_days)
            if not await self.deps.backend.release(uow, record, aging_until=until, now=now):
                raise Conflict(f"{record.display} changed meanwhile; look at it again.")
            after = replace(record, state=NumberState.AGING, assignment=None, aging_until=until)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="number.released",
                number=e164,
                before=record.snapshot(),
                after=after.snapshot(),
            )
            await uow.commit()
            return after

    async def restore(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        actor.require_admin("restore numbers")
        e164 = parse_number(number)
        async with self.deps.uow() as uow:
            account = await self._account(uow, actor, channel_id)
            record = await self.owned(uow, account, e164, states=None)
            if record.state is NumberState.IN_SERVICE:
                return record
            now = self.deps.clock()
            if not await self.deps.backend.restore(uow, record, now):
                raise Conflict(f"{record.display} changed meanwhile; look at it again.")
            after = replace(record, state=NumberState.IN_SERVICE, aging_until=None)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="number.restored",
                number=e164,
                before=record.snapshot(),
                after=after.snapshot(),
            )
            previous = await self._assignment_before_release(uow, actor.workspace_id, e164)
            if previous is not None:
                # Its place may be taken meanwhile (the faxbox): then it comes back as a spare.
                with contextlib.suppress(Conflict):
                    after = await self.assign_in(
                        uow, actor.user_id, actor.workspace_id, after, previous
                    )
            await uow.commit()
            return after

    async def _assignment_before_release(
        self, uow: UnitOfWork, workspace_id: str, e164: str
    ) -> Assignment | None:
        """What the number rang before its latest release, from the audit trail."""
        released = await OverviewRepo(uow.session).last_event(workspace_id, e164, "number.released")
        key = (released.before or {}).get("assignment") if released else None
        return Assignment.parse(str(key)) if key else None
