"""The errors services raise; handlers map them in one place."""

from __future__ import annotations

from bot.domain.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    NumbersBotError,
)
from bot.domain.records import PurchaseRequestRecord


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
    "BackendUnavailable",
    "ChangedMeanwhile",
    "Conflict",
    "InvalidInput",
    "LastEmergencyMain",
    "NotAllowed",
    "NotFound",
    "NotRequester",
    "NumbersBotError",
    "OnOtherAccount",
    "StaleRequest",
]
