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
    """A click on a request that has moved on; carries the request as it is now."""

    def __init__(self, message: str, request: PurchaseRequestRecord) -> None:
        super().__init__(message)
        self.request = request


__all__ = [
    "BackendUnavailable",
    "Conflict",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "NumbersBotError",
    "StaleRequest",
]
