"""`/numbers history NUMBER`: who did what, when, before → after; newest first, paged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from bot.domain.errors import InvalidInput
from bot.domain.phone import display
from bot.domain.records import SYSTEM, AuditEntry
from bot.domain.views import HistoryPage

ACTION_WORDS = {
    "number.held": "held for a purchase request",
    "number.purchased": "bought",
    "number.assigned": "assigned",
    "number.unassigned": "unassigned",
    "number.moved": "moved",
    "number.released": "released",
    "number.restored": "restored",
    "number.activated": "activated",
    "number.aged_out": "returned to the carrier",
    "number.assign_skipped": "bought, not assigned",
    "number.purchase_failed": "purchase failed",
    "e911.set": "e911 address set",
    "e911.removed": "e911 address removed",
}
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
