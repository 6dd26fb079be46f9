"""What the mirror sync compares and audits: a number as the database has it, and a change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.assignment import Assignment


@dataclass(frozen=True, slots=True)
class MirrorRow:
    """What the bot's database says about one number, as the sync compares it."""

    e164: str
    state: str
    account_id: str | None
    version: int
    assignment: Assignment | None
    e911_status: str | None

    def summary(self) -> dict[str, Any]:
        return summary(self.state, self.account_id, self.assignment, self.e911_status)


def summary(
    state: str, account_id: str | None, assignment: Assignment | None, e911: str | None
) -> dict[str, Any]:
    """The audited picture of a number: no address (the audit is read more widely)."""
    return {
        "state": state,
        "account_id": account_id,
        "assignment": assignment.key if assignment else None,
        "e911": e911,
    }


@dataclass(frozen=True, slots=True)
class SyncEvent:
    number: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
