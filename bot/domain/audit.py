"""Every action the audit trail records: one name each (`blocks/history.py` words them all)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    ACCOUNT_CREATED = "account.created"
    REQUEST_CREATED = "request.created"
    REQUEST_ACCEPTED = "request.accepted"
    REQUEST_APPROVED = "request.approved"
    REQUEST_REJECTED = "request.rejected"
    REQUEST_CANCELLED = "request.cancelled"
    REQUEST_EXPIRED = "request.expired"
    REQUEST_PROVISIONED = "request.provisioned"
    NUMBER_HELD = "number.held"
    NUMBER_HOLD_LAPSED = "number.hold_lapsed"
    NUMBER_PURCHASED = "number.purchased"
    NUMBER_PURCHASE_FAILED = "number.purchase_failed"
    NUMBER_ASSIGN_SKIPPED = "number.assign_skipped"
    NUMBER_ASSIGNED = "number.assigned"
    NUMBER_UNASSIGNED = "number.unassigned"
    NUMBER_CHANGED = "number.changed"
    NUMBER_MOVED = "number.moved"
    NUMBER_RELEASED = "number.released"
    NUMBER_RESTORED = "number.restored"
    NUMBER_ACTIVATED = "number.activated"
    NUMBER_AGED_OUT = "number.aged_out"
    NUMBER_SYNCED = "number.synced"
    E911_SET = "e911.set"
    E911_REMOVED = "e911.removed"
