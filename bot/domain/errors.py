"""Typed errors raised by the domain and the service layer.

One place (the Slack error mapper) turns them into an ephemeral message or a
modal field error, so each carries text a person can act on.
"""

from __future__ import annotations


class NumbersBotError(Exception):
    """Base of every error a user may be shown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(NumbersBotError):
    """Input that cannot be accepted; `field` names the input, the message what is accepted."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class NotAllowed(NumbersBotError):
    """The acting user's role does not permit the operation."""


class NotFound(NumbersBotError):
    """A number, account or request that does not exist (for this workspace)."""


class Conflict(NumbersBotError):
    """The thing changed under us: already decided, already taken, wrong state."""


class BackendUnavailable(NumbersBotError):
    """The number backend or carrier could not be reached or failed; a retry may help."""
