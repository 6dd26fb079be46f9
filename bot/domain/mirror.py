"""What the mirror sync compares and audits: a number as the database has it, and a change."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class SyncReport:
    """What one full sync did, counted."""

    accounts: int = 0
    accounts_created: int = 0
    pages: int = 0
    seen: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    # Held by one of the bot's own purchase requests, or changed during the sync:
    # left for the request (or the next sync) to settle.
    skipped: int = 0
    # Routed to a Kazoo user no Slack user matches: recorded with Kazoo's user id.
    unmatched_users: int = 0
    # Used by something at Kazoo that is not one of SmartPBX's targets.
    in_use_elsewhere: int = 0
    e911_read: int = 0
    gone_check_skipped: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.added + self.changed + self.gone

    def line(self) -> str:
        return (
            f"{self.accounts} accounts, {self.pages} pages, {self.seen} numbers seen: "
            f"{self.added} added, {self.changed} changed, {self.gone} gone, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )
