"""The refusals the rules make, as typed errors carrying data (who, which state, since
when); `bot/blocks/errors.py` words them in one place."""

from __future__ import annotations

from bot.domain.assignment import Assignment
from bot.domain.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    NumbersBotError,
)
from bot.domain.records import AuditEntry, NumberRecord, PurchaseRequestRecord


class StaleRequest(Conflict):
    """A click on a request that has moved on; carries the request as it is now.

    The words (who moved it, when, to which state) are the blocks' (`stale_text`).
    """

    def __init__(self, request: PurchaseRequestRecord) -> None:
        super().__init__(f"This request is {request.state.value.replace('_', ' ')} now.")
        self.request = request


class NotRequester(NotAllowed):
    """Only the requester (or an admin) may accept or cancel a request."""

    def __init__(self, requester_id: str, doing: str) -> None:
        super().__init__(f"Only the requester can {doing} this request.")
        self.requester_id = requester_id
        self.doing = doing


class ChangedMeanwhile(Conflict):
    """The number changed between reading it and writing the change."""

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} changed meanwhile; look at it again.")
        self.number = number


class LastEmergencyMain(Conflict):
    """The account's last emergency-enabled main number cannot lose that role."""

    def __init__(self, number: str, doing: str) -> None:
        super().__init__(
            f"{number} is the account's last emergency-enabled main number; "
            f"set an e911 address on another main number before you {doing} it."
        )
        self.number = number
        self.doing = doing


class AgingEnded(Conflict):
    """A released number whose aging is over: the sweep gives it back to the carrier."""

    def __init__(self, record: NumberRecord) -> None:
        day = f" on {record.aging_until:%Y-%m-%d}" if record.aging_until else ""
        super().__init__(
            f"The aging of {record.display} ended{day}: it is going back to the carrier "
            "and can no longer be restored."
        )
        self.number = record.e164


class ChangedSincePrompt(Conflict):
    """A prompt's button clicked after its number changed: nothing is done.

    Carries the number as it is now and the changes since the prompt was drawn;
    the words are the blocks' (`changed_since_text`).
    """

    def __init__(self, record: NumberRecord, since: list[AuditEntry]) -> None:
        super().__init__(f"{record.display} changed after this prompt was drawn; nothing was done.")
        self.record = record
        self.since = since


class NoLongerSpare(Conflict):
    """A spare picked to give away rings somewhere now; the blocks name where."""

    def __init__(self, record: NumberRecord, assignment: Assignment) -> None:
        where = "someone" if assignment.user_id else assignment.label
        super().__init__(f"{record.display} is no longer spare: it rings {where}.")
        self.number = record.display
        self.assignment = assignment


class OnOtherAccount(NotFound):
    """The number is the workspace's, on another of its accounts (which anyone may list)."""

    def __init__(self, number: str, account: str, other: str) -> None:
        super().__init__(
            f"{number} is a number of the account {other}, not of {account}: use it in a "
            f"channel bound to {other} (`/numbers account use {other}`), or move it here "
            "from there."
        )
        self.other = other


__all__ = [
    "AgingEnded",
    "BackendUnavailable",
    "ChangedMeanwhile",
    "ChangedSincePrompt",
    "Conflict",
    "InvalidInput",
    "LastEmergencyMain",
    "NoLongerSpare",
    "NotAllowed",
    "NotFound",
    "NotRequester",
    "NumbersBotError",
    "OnOtherAccount",
    "StaleRequest",
]


class TargetFull(Conflict):
    """The target takes no more numbers (the faxbox answers on one): it has its number
    (`held` False) or an open purchase request holds one for it (`held` True).
    `buying` says whether a purchase asked (the way out differs)."""

    def __init__(
        self, target: Assignment, limit: int, *, held: bool = False, buying: bool = False
    ) -> None:
        super().__init__(f"The {target.label} takes only {limit} number.")
        self.target = target
        self.limit = limit
        self.held = held
        self.buying = buying


class JustTaken(Conflict):
    """Numbers another request holds or bought a moment ago."""

    def __init__(self, numbers: tuple[str, ...]) -> None:
        super().__init__("Just taken by another request. Search again.")
        self.numbers = numbers


class NotForSale(InvalidInput):
    """The carrier does not offer the number (any more)."""

    def __init__(self, number: str) -> None:
        super().__init__("numbers", f"{number} is not for sale; search again.")
        self.number = number
