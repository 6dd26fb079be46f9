"""Owned numbers: search, list, assign, spares, move, release, restore, history."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import zip_longest

from bot.backends.carrier import Carrier, NumberConflict, RouteTarget
from bot.domain.assignment import MAX_PER_ACCOUNT, Assignment, has_room, is_limited
from bot.domain.billing import Quote, quote_purchase
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.phone import (
    TOLLFREE_PREFIXES,
    Kind,
    SearchQuery,
    display,
    parse_number,
    parse_query,
    place_of,
)
from bot.domain.records import (
    AccountInfo,
    AuditEntry,
    AuditEvent,
    AvailableNumber,
    Drawn,
    NumberCounts,
    NumberFilter,
    NumberRecord,
    Page,
)
from bot.domain.refusals import AgingEnded, ChangedSincePrompt, NoLongerSpare, TargetFull
from bot.domain.states import NumberState
from bot.domain.views import Summary
from bot.service.accounts import UsesAccounts
from bot.service.changes import (
    NumberChange,
    apply_changes,
    carrier_account,
    check_changes,
    keep_emergency_main,
    owned_number,
)
from bot.service.context import Actor, Deps
from bot.service.holds import give_back_lapsed
from bot.service.people import ring, unring
from bot.service.ports import ConstraintViolation, UnitOfWork

MAX_SEARCH = 50
MAX_PAGE = 50
# An empty area code searches the account's own area codes (at most this many, read
# from this many of its numbers), or these when it has none (docs/decisions/input.md).
ANY_AREA_CODES = 3
AREA_CODE_SAMPLE = 200
DEFAULT_AREA_CODES = ("415", "212", "312")
# Carrier numbers are asked for a page at a time and checked against the database's.
SEARCH_PAGE = 200


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
    available: tuple[AvailableNumber, ...] = ()

    @property
    def all(self) -> tuple[AvailableNumber, ...]:
        return self.spares + self.available


def monthly_total(deps: Deps, counts: NumberCounts) -> Decimal:
    """The account's monthly bill under the plan, from what it owns in the database."""
    return deps.settings.plan.monthly_total(dict(counts.in_service), counts.emergency_enabled)


async def price(deps: Deps, uow: UnitOfWork, account: AccountInfo, new: Counter[Kind]) -> Quote:
    """What buying `new` changes in the account's monthly bill."""
    counts = await uow.numbers.counts(account.id)
    return quote_purchase(deps.settings.plan, monthly_total(deps, counts), new)


class NumberService(UsesAccounts):
    """Owned numbers: search, list, change (commands at the end of this module)."""

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
            spares = await uow.numbers.spares(
                account.id,
                kind=query.kind,
                prefix=query.prefix if len(queries) == 1 else None,
                limit=quantity,
            )
        rate = plan.rate(query.kind).monthly
        # The search runs under the buying account (Kazoo shows its own reserved stock).
        where = carrier_account(account)
        found = [await self._offered(q, quantity, where) for q in queries]
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

    async def _offered(self, query: SearchQuery, quantity: int, account_id: str) -> list[str]:
        """Carrier numbers nobody holds, owns or keeps aging in the bot's database.

        The database is the system of record: the carrier's own idea of what is
        taken is not trusted for this (in embedded mode it forgets on restart).
        """
        await give_back_lapsed(self.deps)
        found: list[str] = []
        offset: int | None = 0
        while offset is not None and len(found) < quantity:
            page = await self.deps.carrier.supplier.search(
                query, quantity=SEARCH_PAGE, offset=offset, account_id=account_id
            )
            chunk = [o.e164 for o in page.offers]
            async with self.deps.uow(write=False) as uow:
                taken = await uow.numbers.unavailable_among(chunk, self.deps.clock())
            found.extend(n for n in chunk if n not in taken)
            offset = page.next_offset
        return found[:quantity]

    async def _any_queries(
        self, uow: UnitOfWork, account: AccountInfo, kind: Kind
    ) -> tuple[SearchQuery, ...]:
        """What "any" searches: every toll-free prefix; for local numbers the area codes
        the account already has (most numbers first), else a few common ones."""
        if kind is Kind.TOLLFREE:
            return tuple(SearchQuery(Kind.TOLLFREE, p) for p in TOLLFREE_PREFIXES)
        owned = await uow.numbers.page(
            account.id, NumberFilter(kind=Kind.LOCAL), after=None, limit=AREA_CODE_SAMPLE
        )
        counted = Counter(n.e164[2:5] for n in owned)
        codes = [code for code, _ in counted.most_common(ANY_AREA_CODES)] or list(
            DEFAULT_AREA_CODES
        )
        return tuple(SearchQuery(Kind.LOCAL, code) for code in codes)

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
            rows = await uow.numbers.page(
                account.id, flt or NumberFilter(), after=after, limit=limit + 1
            )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(tuple(rows), rows[-1].e164 if more and rows else None)

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
            return await uow.numbers.spares(account.id, kind=kind, prefix=prefix, limit=limit)

    async def get(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        e164 = parse_number(number)
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            return await owned_number(uow, account, e164, states=None)

    async def summary(self, actor: Actor, *, channel_id: str | None = None) -> Summary:
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            counts = await uow.numbers.counts(account.id)
            open_requests = await uow.requests.open_for_workspace(actor.workspace_id)
            main_e911 = await uow.numbers.emergency_main_numbers(account.id)
        return Summary(
            account=account,
            counts=counts,
            main_emergency_enabled=bool(main_e911),
            open_requests=open_requests,
            monthly_total=monthly_total(self.deps, counts),
            currency=self.deps.settings.plan.currency,
        )

    async def history(self, actor: Actor, number: str) -> list[AuditEntry]:
        """The number's audit trail in the actor's workspace only."""
        actor.require_member("read a number's history")
        e164 = parse_number(number)
        async with self.deps.uow(write=False) as uow:
            return await uow.audit.for_number(actor.workspace_id, e164)

    # --- changing -----------------------------------------------------------------

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
        """Assign in the database, inside the caller's unit of work, with its audit event.

        The carrier is told by the caller, before or after the transaction.
        """
        await check_assignable(uow, record, assignment)
        now = self.deps.clock()
        await _assign_row(uow, record, assignment, actor_id, now)
        after = replace(record, assignment=assignment)
        event = AuditEvent(
            "number.assigned",
            actor_id,
            workspace_id,
            number=record.e164,
            request_id=request_id,
            before=record.snapshot(),
            after=after.snapshot(),
        )
        await uow.audit.add(event, now)
        return after

    async def assign(
        self, actor: Actor, number: str, target: str | Assignment, *, channel_id: str | None = None
    ) -> NumberRecord:
        assignment = target if isinstance(target, Assignment) else Assignment.parse(target)
        return await self._one(actor, number, Assign(assignment, by=actor.user_id), channel_id)

    async def check_assign(
        self, actor: Actor, number: str, target: Assignment, *, channel_id: str | None = None
    ) -> None:
        """What `assign` would refuse now, with nothing changed (see `check_changes`)."""
        command = Assign(target, by=actor.user_id)
        await check_changes(
            self.deps, self.accounts, actor, [number], command, channel_id=channel_id
        )

    async def unassign(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """The number stays the account's, as a spare."""
        return await self._one(actor, number, Unassign(), channel_id)

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
        if not has_room(target.kind, 0, len(wanted)):
            limit = MAX_PER_ACCOUNT[target.kind]
            raise InvalidInput("spares", f"The {target.label} takes only {limit} number.")
        command = GiveSpare(target, by=actor.user_id)
        return await apply_changes(
            self.deps, self.accounts, actor, wanted, command, channel_id=channel_id, field="spares"
        )

    async def move(
        self, actor: Actor, number: str, account_name: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """Move to another account of the workspace: assignment cleared, e911 kept."""
        e164, command = await self._move(actor, number, account_name, channel_id)
        return await self._one(actor, e164, command, channel_id)

    async def check_move(
        self, actor: Actor, number: str, account_name: str, *, channel_id: str | None = None
    ) -> None:
        """What `move` would refuse now, with nothing changed (see `check_changes`)."""
        e164, command = await self._move(actor, number, account_name, channel_id)
        await check_changes(self.deps, self.accounts, actor, [e164], command, channel_id=channel_id)

    async def _move(
        self, actor: Actor, number: str, account_name: str, channel_id: str | None
    ) -> tuple[str, Move]:
        actor.require_admin("move numbers")
        e164 = parse_number(number)
        source = await self.accounts.for_channel(actor, channel_id)
        async with self.deps.uow(write=False) as uow:
            target = await self.accounts.by_name(uow, actor, account_name)
        if target.id == source.id:
            raise InvalidInput("account", f"{display(e164)} is already on {target.name}.")
        return e164, Move(target)

    async def release(
        self,
        actor: Actor,
        number: str,
        *,
        channel_id: str | None = None,
        drawn: Drawn | None = None,
    ) -> NumberRecord:
        """The number leaves the account and ages; it can be restored until aging ends.

        From a prompt (`drawn`): only while the number is as the prompt showed it.
        """
        until = self.deps.clock() + timedelta(days=self.deps.settings.aging_days)
        return await self._one(actor, number, Release(until, drawn), channel_id)

    async def restore(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """Back in service; it rings where it rang before its release, if that is free."""
        return await self._one(actor, number, Restore(self), channel_id)

    async def _one(
        self, actor: Actor, number: str, command: NumberChange, channel_id: str | None
    ) -> NumberRecord:
        """One number through the change skeleton (bot/service/changes.py)."""
        [after] = await apply_changes(
            self.deps, self.accounts, actor, [number], command, channel_id=channel_id
        )
        return after


# --------------------------------------------------------------------------- the rules


async def check_assignable(uow: UnitOfWork, record: NumberRecord, assignment: Assignment) -> None:
    """The faxbox answers on one number: refuse a second one with a clear message."""
    if not is_limited(assignment.kind) or record.assignment == assignment:
        return
    assert record.account_id is not None
    taken = await uow.numbers.count_assigned(record.account_id, assignment.kind)
    if not has_room(assignment.kind, taken):
        raise TargetFull(assignment, MAX_PER_ACCOUNT[assignment.kind])


async def _assign_row(
    uow: UnitOfWork, record: NumberRecord, assignment: Assignment, actor_id: str, now: datetime
) -> None:
    assert record.account_id is not None
    try:
        async with uow.savepoint():
            await uow.numbers.assign(record.e164, record.account_id, assignment, actor_id, now)
    except ConstraintViolation:
        limit = MAX_PER_ACCOUNT.get(assignment.kind, 1)
        raise TargetFull(assignment, limit) from None


async def route_back(carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
    """Put the number's route at the carrier back to what the database says it was."""
    if record.assignment is None:
        await unring(carrier, record.e164, account_id=carrier_account(account))
    else:
        target = RouteTarget.of(record.assignment)
        await ring(carrier, record.e164, target, account_id=carrier_account(account))


# --------------------------------------------------------------------------- the commands


class Assign(NumberChange):
    doing = "assign numbers"
    action = "number.assigned"

    def __init__(self, target: Assignment, *, by: str) -> None:
        self.target = target
        self.actor_id = by

    def settled(self, record: NumberRecord) -> bool:
        return record.assignment == self.target  # repeating the command changes nothing

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        if record.assignment is not None:
            await keep_emergency_main(uow, account, record, "reassign")
        await check_assignable(uow, record, self.target)

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        target = RouteTarget.of(self.target)
        await ring(carrier, record.e164, target, account_id=carrier_account(account))

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        await route_back(carrier, account, record)

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        await _assign_row(uow, record, self.target, self.actor_id, now)
        return replace(record, assignment=self.target)


class GiveSpare(Assign):
    """Assign a spare: a number that rings somewhere already is refused, not moved."""

    doing = "assign spare numbers"

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        if record.assignment is not None:
            raise NoLongerSpare(record, record.assignment)
        await check_assignable(uow, record, self.target)


class _Unroute(NumberChange):
    """A change that takes the number out of its route (the rule on main numbers applies)."""

    verb = "unassign"  # in "… before you unassign it"

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        await keep_emergency_main(uow, account, record, self.verb)

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        await unring(carrier, record.e164, account_id=carrier_account(account))

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        await route_back(carrier, account, record)


class Unassign(_Unroute):
    doing = "unassign numbers"
    action = "number.unassigned"

    def settled(self, record: NumberRecord) -> bool:
        return record.assignment is None

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        await uow.numbers.unassign(record.e164)
        return replace(record, assignment=None)


class Move(NumberChange):
    doing = "move numbers"
    action = "number.moved"

    def __init__(self, target: AccountInfo) -> None:
        self.target = target  # from the account the command runs on

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        await keep_emergency_main(uow, account, record, "move")

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        if carrier.phone_system is None:
            return  # accounts are the bot's alone: nothing moves at the carrier
        source, target = carrier_account(account), carrier_account(self.target)
        await carrier.phone_system.move(record.e164, from_account_id=source, to_account_id=target)

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        if carrier.phone_system is not None:
            source, target = carrier_account(account), carrier_account(self.target)
            await carrier.phone_system.move(
                record.e164, from_account_id=target, to_account_id=source
            )
        await route_back(carrier, account, record)

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        if not await uow.numbers.move_account(record.e164, account.id, self.target.id, now):
            return None
        await uow.numbers.unassign(record.e164)
        return replace(record, account_id=self.target.id, assignment=None)

    def detail(self, account: AccountInfo) -> str | None:
        return f"{account.name} → {self.target.name}"


class Release(_Unroute):
    """The number ages in the bot's database; the carrier gets it back when aging ends."""

    doing = "release numbers"
    action = "number.released"
    verb = "release"
    states = None

    def __init__(self, until: datetime, drawn: Drawn | None = None) -> None:
        self.until = until
        self.drawn = drawn

    def settled(self, record: NumberRecord) -> bool:
        return record.state is NumberState.AGING  # released already: a repeat changes nothing

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        if self.drawn is not None:
            await check_drawn(uow, account, record, self.drawn)
        await super().check(uow, account, record)

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        if not await uow.numbers.start_aging(record.e164, account.id, self.until, now):
            return None
        await uow.numbers.unassign(record.e164)
        return replace(record, state=NumberState.AGING, assignment=None, aging_until=self.until)


class Restore(NumberChange):
    doing = "restore numbers"
    action = "number.restored"
    states = None

    def __init__(self, numbers: NumberService) -> None:
        self.numbers = numbers
        self.previous: Assignment | None = None

    def settled(self, record: NumberRecord) -> bool:
        return record.state is NumberState.IN_SERVICE

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        # Once aging ended the sweep may be giving it back to the carrier: never "Restored".
        if record.aging_until is not None and record.aging_until <= self.numbers.deps.clock():
            raise AgingEnded(record)
        self.previous = await assignment_before_release(uow, account.workspace_id, record.e164)

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        if self.previous is None:
            return
        try:
            target = RouteTarget.of(self.previous)
            await ring(carrier, record.e164, target, account_id=carrier_account(account))
        except NumberConflict:
            self.previous = None  # its place is taken (the faxbox): it comes back spare

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        if self.previous is not None:
            await unring(carrier, record.e164, account_id=carrier_account(account))

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        if not await uow.numbers.restore(record.e164, account.id, now):
            if record.aging_until is not None and record.aging_until <= now:
                raise AgingEnded(record)  # it ended while the carrier was being told
            return None
        return replace(record, state=NumberState.IN_SERVICE, aging_until=None)

    async def then(
        self, uow: UnitOfWork, actor: Actor, account: AccountInfo, after: NumberRecord
    ) -> NumberRecord:
        if self.previous is None:
            return after
        try:
            async with uow.savepoint():
                return await self.numbers.assign_in(
                    uow, actor.user_id, actor.workspace_id, after, self.previous
                )
        except Conflict:
            # Its place was taken meanwhile: it comes back as a spare, at the carrier too
            # (told after the commit would be cleaner; a spare with a route is harmless
            # until the next assignment re-routes it).
            return after


async def check_drawn(
    uow: UnitOfWork, account: AccountInfo, record: NumberRecord, drawn: Drawn
) -> None:
    """A prompt acts on the number only as it showed it: refuse, with what changed since.

    The version catches every change of state or account; the audit trail every audited
    change (an assignment, an e911 address) and says what happened.
    """
    since = await uow.audit.since(account.workspace_id, record.e164, drawn.seen)
    if since or record.version != drawn.version:
        raise ChangedSincePrompt(record, since)


async def assignment_before_release(
    uow: UnitOfWork, workspace_id: str, e164: str
) -> Assignment | None:
    """What the number rang before its latest release, from the audit trail."""
    released = await uow.overview.last_event(workspace_id, e164, "number.released")
    key = (released.before or {}).get("assignment") if released else None
    return Assignment.parse(str(key)) if key else None
