"""`/numbers history NUMBER`: who did what, when, before → after; newest first, paged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, assert_never

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.ids import ManageId
from bot.blocks.payloads import HistoryRef
from bot.blocks.text import echo, escape, mention, target_text, when
from bot.domain.assignment import Assignment
from bot.domain.audit import AuditAction
from bot.domain.errors import InvalidInput
from bot.domain.phone import display
from bot.domain.records import SYSTEM, AuditEntry
from bot.domain.views import HistoryPage


def action_words(action: AuditAction) -> str:
    """Every audit action in words; mypy checks that no action is left out."""
    match action:
        case AuditAction.ACCOUNT_CREATED:
            return "account created"
        case AuditAction.REQUEST_CREATED:
            return "purchase requested"
        case AuditAction.REQUEST_ACCEPTED:
            return "billing change accepted"
        case AuditAction.REQUEST_APPROVED:
            return "purchase approved"
        case AuditAction.REQUEST_REJECTED:
            return "purchase rejected"
        case AuditAction.REQUEST_CANCELLED:
            return "purchase request cancelled"
        case AuditAction.REQUEST_EXPIRED:
            return "purchase request expired"
        case AuditAction.REQUEST_PROVISIONED:
            return "purchase finished"
        case AuditAction.NUMBER_HELD:
            return "held for a purchase request"
        case AuditAction.NUMBER_HOLD_LAPSED:
            return "hold lapsed"
        case AuditAction.NUMBER_PURCHASED:
            return "bought"
        case AuditAction.NUMBER_PURCHASE_FAILED:
            return "purchase failed"
        case AuditAction.NUMBER_ASSIGN_SKIPPED:
            return "bought, not assigned"
        case AuditAction.NUMBER_ASSIGNED:
            return "assigned"
        case AuditAction.NUMBER_UNASSIGNED:
            return "unassigned"
        case AuditAction.NUMBER_CHANGED:
            return "changed"
        case AuditAction.NUMBER_MOVED:
            return "moved"
        case AuditAction.NUMBER_RELEASED:
            return "released"
        case AuditAction.NUMBER_RESTORED:
            return "restored"
        case AuditAction.NUMBER_ACTIVATED:
            return "activated"
        case AuditAction.NUMBER_AGED_OUT:
            return "returned to the carrier"
        case AuditAction.NUMBER_SYNCED:
            return "synced from the carrier"
        case AuditAction.E911_SET:
            return "e911 address set"
        case AuditAction.E911_REMOVED:
            return "e911 address removed"
        case _:
            assert_never(action)


ACTION_WORDS = {action.value: action_words(action) for action in AuditAction}
_FIELDS = ("state", "assignment", "account_id", "e911")
_FIELD_NAMES = {
    "state": "state",
    "assignment": "assignment",
    "account_id": "account",
    "e911": "e911",
}


def _words(field: str, value: Any, accounts: Mapping[str, str]) -> str:
    if value is None or value == "":
        return "none"
    text = str(value)
    if field == "state":
        return text.replace("_", " ")
    if field == "assignment":
        try:
            assignment = Assignment.parse(text)
        except InvalidInput:
            return echo(text, 40)
        return target_text(assignment.label, assignment.user_id)
    if field == "account_id":
        return f"*{echo(accounts.get(text, 'another account'), 64)}*"
    return echo(text, 40)


def change_text(entry: AuditEntry, accounts: Mapping[str, str]) -> str:
    """`state: in service → aging; assignment: Main Company Numbers → none`."""
    before, after = entry.before or {}, entry.after or {}
    changes = []
    for field in _FIELDS:
        if field not in before and field not in after:
            continue
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        was, now = _words(field, old, accounts), _words(field, new, accounts)
        changes.append(f"{_FIELD_NAMES[field]}: {was} → {now}")
    return "; ".join(changes)


def actor_text(entry: AuditEntry) -> str:
    return "the bot" if entry.actor in (SYSTEM, "") else mention(entry.actor)


def action_text(entry: AuditEntry) -> str:
    """`released`, `e911 address set`: what an audit event did, in words."""
    return ACTION_WORDS.get(entry.action, escape(entry.action.split(".")[-1].replace("_", " ")))


def entry_text(entry: AuditEntry, accounts: Mapping[str, str]) -> str:
    who, what = actor_text(entry), action_text(entry)
    line = f"{when(entry.at)} · {who} · *{what}*"
    change = change_text(entry, accounts)
    if change:
        line += f"\n{change}"
    # A move's detail (`Main → Branch`) is what the account change already says.
    repeated = entry.action == "number.moved" and "account: " in change
    if entry.detail and not repeated:
        line += f"\n{echo(entry.detail)}"
    return line


def history_message(
    page: HistoryPage, accounts: Mapping[str, str], account_name: str | None = None
) -> tuple[str, list[Block]]:
    title = f"*History of {escape(display(page.number))}* (newest first)"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=title))]
    if not page.entries:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No older events.")))
    for entry in page.entries:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=entry_text(entry, accounts))))
    buttons = []
    if page.page > 0:
        ref = HistoryRef(number=page.number, page=page.page - 1)
        buttons.append(
            ButtonElement(
                text="Previous", action_id=f"{ManageId.HISTORY_PAGE}.prev", value=ref.dump()
            )
        )
    if page.has_more:
        ref = HistoryRef(number=page.number, page=page.page + 1)
        buttons.append(
            ButtonElement(text="Next", action_id=f"{ManageId.HISTORY_PAGE}.next", value=ref.dump())
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    footer = f"Page {page.page + 1}"
    if account_name:
        footer += f" · Account: *{echo(account_name, 64)}*"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return f"History of {display(page.number)}", blocks
