"""The errors services raise; handlers map them in one place."""

from bot.domain.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    NumbersBotError,
)

__all__ = [
    "BackendUnavailable",
    "Conflict",
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "NumbersBotError",
]
