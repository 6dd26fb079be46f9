"""Assignment: the row's `Assign` modal and what assign/unassign answer."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.accounts import account_context
from bot.blocks.buy import TARGET_LABELS
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.number_list import assigned_text
from bot.blocks.payloads import AssignMeta
from bot.blocks.picked import choice, slack_user
from bot.blocks.text import escape, mention, target_text
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.errors import InvalidInput
from bot.domain.phone import format_national
from bot.domain.records import NumberRecord

TITLE = "Assign"
FIELD_BLOCKS: dict[str, str] = {
    "target": BlockId.ASSIGN_TARGET,
    "user": BlockId.ASSIGN_USER,
    "number": BlockId.ASSIGN_TARGET,
}


def assign_modal(number: NumberRecord, meta: AssignMeta, account: str | None = None) -> View:
    """The target select of `Buy Numbers` and a person picker, set to what it rings now;
    `account` names the account it acts on."""
    options = {kind: Option(value=kind.value, label=text) for kind, text in TARGET_LABELS.items()}
    current = number.assignment
    now = f"*{escape(number.display)}* rings {assigned_text(number)} now."
    return View(
        type="modal",
        callback_id=CallbackId.ASSIGN,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        private_metadata=meta.dump(),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=now)),
            *([account_context(account)] if account else []),
            InputBlock(
                block_id=BlockId.ASSIGN_TARGET,
                label="Assign to",
                element=StaticSelectElement(
                    action_id=ActionId.ASSIGN_TARGET,
                    placeholder="Choose a target",
                    options=list(options.values()),
                    initial_option=options[current.kind] if current else None,
                ),
            ),
            InputBlock(
                block_id=BlockId.ASSIGN_USER,
                label="User",
                optional=True,
                hint="Only for “A user”: the person the number rings.",
                element=UserSelectElement(
                    action_id=ActionId.ASSIGN_USER,
                    placeholder="Choose a person",
                    initial_user=current.user_id if current else None,
                ),
            ),
        ],
    )


def aging_refusal(number: NumberRecord) -> str:
    """An aging number rings nothing and takes no assignment until it is restored."""
    until = f", restorable until {number.aging_until:%Y-%m-%d}" if number.aging_until else ""
    return (
        f"{number.display} is aging (released{until}): restore it first, with `Restore` in "
        f"its menu or `/numbers restore {format_national(number.e164)}`, then assign it."
    )


def assigned_message(number: NumberRecord, actor_id: str) -> str:
    assert number.assignment is not None
    target = target_text(number.assignment.label, number.assignment.user_id)
    return (
        f":white_check_mark: {escape(number.display)} now rings *{target}* "
        f"(assigned by {mention(actor_id)})."
    )


def unassigned_message(number: NumberRecord) -> str:
    return (
        f":white_check_mark: {escape(number.display)} is unassigned: it is a spare number "
        "now, still the account's. Assign it again, or reuse it from *Buy Numbers* → "
        "*Add from Spare Numbers*."
    )


def assignee_dm(number: NumberRecord, actor_id: str) -> str:
    return (
        f"{mention(actor_id)} assigned the number *{escape(number.display)}* to you: "
        "calls to it now ring you."
    )


def already_spare_message(number: NumberRecord) -> str:
    return (
        f"{escape(number.display)} is already a spare number: it rings nothing, so there is "
        "nothing to unassign. Assign it with `Assign` in its menu or `/numbers assign`."
    )


def former_dm(before: NumberRecord, after: NumberRecord, actor_id: str, how: str) -> str:
    """To the person a number was taken from: who did what, and that it no longer rings them.

    `how`: `unassigned`, `reassigned`, `moved` or `released`.
    """
    number = f"*{escape(before.display)}*"
    if how == "reassigned" and after.assignment is not None:
        target = target_text(after.assignment.label, after.assignment.user_id)
        done = f"assigned the number {number} to {target}"
    elif how == "unassigned":
        done = f"unassigned the number {number} from you"
    elif how == "released":
        done = f"released the number {number}"
    else:
        done = f"moved the number {number} to another account"
    return f"{mention(actor_id)} {done}: calls to it no longer ring you."


def target_of(kind: str | None, user_id: str | None) -> Assignment:
    """The modal's choice as an assignment; `InvalidInput` names the field to fix."""
    if not kind:
        raise InvalidInput("target", "Choose what the number should ring.")
    chosen = choice(AssignmentKind, kind, "target", "what the number should ring")
    if chosen is not AssignmentKind.USER:
        return Assignment(chosen)
    if not user_id:
        raise InvalidInput("user", "Choose the person the number should ring.")
    return Assignment.user(slack_user(user_id))
