"""What the surfaces show, as records: the service fills them, `bot/blocks` draws them.

Plain data, no rules: a page of the number list, the App Home, an account's line,
a number's history, a release prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.records import (
    AccountInfo,
    AuditEntry,
    NumberCounts,
    NumberFilter,
    NumberRecord,
    PurchaseRequestRecord,
)

# Rows on one page of the number list.
PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Summary:
    """What the App Home shows of an account."""

    account: AccountInfo
    counts: NumberCounts
    main_emergency_enabled: bool
    open_requests: int
    monthly_total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class NumberList:
    account: AccountInfo
    flt: NumberFilter
    rows: tuple[NumberRecord, ...]
    page: int
    has_previous: bool
    has_next: bool
    matching: int
    more_than: bool  # True when more than `matching` numbers match (the count was capped)
    main_emergency_enabled: bool
    page_size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The position of the page's first row among the matching numbers (1-based)."""
        return (self.page - 1) * self.page_size + 1


@dataclass(frozen=True, slots=True)
class AccountLine:
    """An account in `/numbers accounts`: its numbers, its channels, whether default."""

    account: AccountInfo
    numbers: int
    channels: tuple[str, ...]
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class HistoryPage:
    number: str
    entries: tuple[AuditEntry, ...]
    page: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class HomeData:
    """What the App Home shows its viewer."""

    viewer_id: str
    viewer_is_admin: bool
    summary: Summary
    accounts: tuple[AccountInfo, ...]
    waiting_for_you: tuple[PurchaseRequestRecord, ...]
    your_open: tuple[PurchaseRequestRecord, ...]


@dataclass(frozen=True, slots=True)
class ReleasePreview:
    number: NumberRecord
    account: AccountInfo
    aging_days: int
    seen: int = 0  # the number's latest audit event: the prompt acts only if none came since
