"""A purchase request and its rules: its moves, who may decide it, its target's room and
its hold. Each rule is written here once; the service, the App Home and the cards ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import assert_never

from bot.domain.assignment import MAX_PER_ACCOUNT, Assignment, has_room, is_limited
from bot.domain.errors import InvalidInput
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import (
    OPEN_REQUEST_STATES,
    REQUEST_MOVES,
    ItemOutcome,
    RequestMove,
    RequestState,
    outcome_state,
)


class Room(StrEnum):
    """Whether a target can take more numbers, and if not, what fills it."""

    FREE = "free"
    TOO_MANY = "too_many"  # more numbers at once than the target ever takes
    ASSIGNED = "assigned"  # it has its number already
    HELD = "held"  # an open request holds its number


def target_room(kind_of_target: Assignment, *, assigned: int, held: int, adding: int) -> Room:
    """The room rule for a purchase: numbers open requests hold for the target count as
    taken, so two requests for the faxbox made before either is bought cannot both win."""
    kind = kind_of_target.kind
    if not is_limited(kind):
        return Room.FREE
    if not has_room(kind, 0, adding):
        return Room.TOO_MANY
    if not has_room(kind, assigned, adding):
        return Room.ASSIGNED
    if not has_room(kind, held, adding):
        return Room.HELD
    return Room.FREE


def room_limit(target: Assignment) -> int | None:
    """How many numbers the target takes at most (None: any count)."""
    return MAX_PER_ACCOUNT.get(target.kind)


class Refusal(StrEnum):
    """Why a person may not make a move (the words are the service's errors)."""

    NOT_REQUESTER = "not_requester"
    NOT_APPROVER = "not_approver"
    OWN_REQUEST = "own_request"
    ACCEPTED_IT = "accepted_it"


@dataclass(frozen=True, slots=True)
class Decider:
    """Who acts on a request: their id and the roles they hold."""

    user_id: str
    is_admin: bool = False
    is_approver: bool = False


@dataclass(frozen=True, slots=True)
class PurchaseRequest:
    """A purchase request as its rules see it (the record is what storage returns)."""

    record: PurchaseRequestRecord

    @property
    def state(self) -> RequestState:
        return self.record.state

    # --- moves ------------------------------------------------------------------------

    def can(self, move: RequestMove) -> bool:
        """Whether the request, as it is, can make `move` (a stale click cannot)."""
        return self.state in REQUEST_MOVES[move].sources

    def next_state(self, move: RequestMove) -> RequestState:
        """The state `move` leads to: the table decides; storage only writes it."""
        return REQUEST_MOVES[move].target

    def accept_move(self, needs_approval: bool) -> RequestMove:
        """Accepting goes to an approver, or straight to the purchase."""
        return RequestMove.ACCEPT_FOR_APPROVAL if needs_approval else RequestMove.ACCEPT_AND_BUY

    def finish(self) -> RequestState | None:
        """The final state once every number has its outcome; None while one is pending
        (or the request is not being bought)."""
        if self.state is not RequestState.PROVISIONING:
            return None
        outcomes = [i.outcome for i in self.record.items]
        if ItemOutcome.PENDING in outcomes:
            return None
        return outcome_state(outcomes)

    # --- people -----------------------------------------------------------------------

    def may_decide(self, user_id: str, *, allow_self_approval: bool) -> bool:
        """Four eyes (`PurchaseRequestRecord.may_decide`, the one place of the rule)."""
        return self.record.may_decide(user_id, allow_self_approval=allow_self_approval)

    def offers_decision(self, person: Decider, *, allow_self_approval: bool) -> bool:
        """Whether `person` is shown `Approve`/`Reject`: an approver who may decide it,
        while it awaits approval. Every surface asks this; `refusal` enforces the same."""
        return (
            self.state is RequestState.AWAITING_APPROVAL
            and person.is_approver
            and self.may_decide(person.user_id, allow_self_approval=allow_self_approval)
        )

    def refusal(
        self, person: Decider, move: RequestMove, *, allow_self_approval: bool
    ) -> Refusal | None:
        """Why `person` may not make `move`, or None. Expiry and the end of a purchase are
        the bot's own moves; the bot's cancel (nobody reachable) is checked by its caller."""
        if move in (RequestMove.APPROVE, RequestMove.REJECT):
            if not person.is_approver:
                return Refusal.NOT_APPROVER
            if self.may_decide(person.user_id, allow_self_approval=allow_self_approval):
                return None
            if self.record.requester_id == person.user_id:
                return Refusal.OWN_REQUEST
            return Refusal.ACCEPTED_IT
        requester_only = (
            RequestMove.ACCEPT_FOR_APPROVAL,
            RequestMove.ACCEPT_AND_BUY,
            RequestMove.CANCEL,
        )
        others = person.user_id != self.record.requester_id and not person.is_admin
        if move in requester_only and others:
            return Refusal.NOT_REQUESTER
        return None

    # --- holds ------------------------------------------------------------------------

    def hold_lapsed(self, now: datetime) -> bool:
        """The hold ran out while the request was open: it expires, whoever notices."""
        until = self.record.hold_expires_at
        return self.state in OPEN_REQUEST_STATES and until is not None and until <= now

    def hold_after(self, move: RequestMove, now: datetime, approval_minutes: int) -> HoldAfter:
        """What `move` does to the holds on the request's numbers."""
        if move is RequestMove.ACCEPT_FOR_APPROVAL:
            return HoldAfter(keep=True, until=now + timedelta(minutes=approval_minutes))
        if move in (RequestMove.ACCEPT_AND_BUY, RequestMove.APPROVE):
            return HoldAfter(keep=True, until=None)  # until provisioning settles them
        if move in (RequestMove.REJECT, RequestMove.CANCEL, RequestMove.EXPIRE):
            return HoldAfter(keep=False)
        return HoldAfter(keep=True, unchanged=True)


def quote_hold_until(now: datetime, quote_minutes: int) -> datetime:
    """A new request holds its numbers this long for the requester to accept."""
    return now + timedelta(minutes=quote_minutes)


@dataclass(frozen=True, slots=True)
class HoldAfter:
    """The holds after a move: kept (until a time, or until the purchase settles them),
    left as they were, or given back."""

    keep: bool
    until: datetime | None = None
    unchanged: bool = False


class RequestFilter(StrEnum):
    """`/numbers requests mine|pending|all`: whose requests, in which states."""

    MINE = "mine"
    PENDING = "pending"
    ALL = "all"

    @classmethod
    def parse(cls, text: str) -> RequestFilter:
        try:
            return cls(text)
        except ValueError:
            raise InvalidInput("requests", "Use /numbers requests mine, pending or all.") from None

    def states(self) -> list[RequestState] | None:
        """The states the filter lists (None: every state)."""
        match self:
            case RequestFilter.PENDING:
                return [RequestState.AWAITING_APPROVAL]
            case RequestFilter.MINE | RequestFilter.ALL:
                return None
            case _:
                assert_never(self)

    def only_own(self, *, privileged: bool) -> bool:
        """Whether only the person's own requests are listed (non-approvers see only theirs)."""
        return self is RequestFilter.MINE or not privileged
