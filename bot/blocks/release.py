"""`/numbers release` (and the list row's `Release`): a warning with a confirmed button;
then what happened, and `/numbers restore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.accounts import account_context
from bot.blocks.history import action_text, actor_text
from bot.blocks.ids import ManageId
from bot.blocks.payloads import ReleaseRef
from bot.blocks.text import escape, target_text
from bot.domain.records import AuditEntry, NumberRecord
from bot.domain.states import NumberState
from bot.service.overview import ReleasePreview

RELEASE_LABEL = "Release"


def _md(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else "soon"


def assignment_words(record: NumberRecord) -> str:
    if record.assignment is None:
        return "spare (no assignment)"
    return f"rings {target_text(record.assignment.label, record.assignment.user_id)}"


def describe(record: NumberRecord) -> str:
    """`*(415) 555-0123 · San Francisco, CA* · rings Main Company Numbers · 🚑 …`."""
    parts = [f"*{escape(record.display)}*"]
    if record.state is NumberState.AGING:
        parts.append(f"aging until {_day(record.aging_until)}")
    else:
        parts.append(assignment_words(record))
    if record.emergency_enabled:
        parts.append(":ambulance: emergency enabled")
    return " · ".join(parts)


def release_prompt(preview: ReleasePreview, channel_id: str | None) -> tuple[str, list[Block]]:
    """What releasing means, with `Release` behind Slack's confirm dialog."""
    record = preview.number
    if record.state is NumberState.AGING:
        text = (
            f"{describe(record)}\nIt is released already. "
            f"`/numbers restore {record.e164}` brings it back until {_day(record.aging_until)}."
        )
        return f"{record.display} is released already", [
            _md(text),
            account_context(preview.account.name),
        ]
    days = preview.aging_days
    stops = (
        ""
        if record.assignment is None
        else f"it stops ringing {target_text(record.assignment.label, record.assignment.user_id)}, "
    )
    meaning = (
        f"Releasing takes it off the account *now*: {stops}it leaves the monthly bill and "
        f"ages for {days} days. Until then `/numbers restore {record.e164}` brings it back"
        f"{'' if record.assignment is None else ' with its assignment'}; after that it goes "
        "back to the carrier for good."
    )
    ref = ReleaseRef(
        number=record.e164,
        channel_id=channel_id,
        account_id=record.account_id,
        version=record.version,
        seen=preview.seen,
    )
    button = ButtonElement(
        text=RELEASE_LABEL,
        action_id=ManageId.RELEASE,
        value=ref.dump(),
        style="danger",
        confirm=ConfirmObject(
            title="Release this number?",
            text=MarkdownTextObject(
                text=f"*{escape(record.display)}* leaves the account and ages for {days} days."
            ),
            confirm=PlainTextObject(text=RELEASE_LABEL),
            deny=PlainTextObject(text="Keep it"),
            style="danger",
        ),
    )
    blocks: list[Block] = [
        _md(f":warning: Release {describe(record)}?"),
        _md(meaning),
        ActionsBlock(elements=[button]),
        account_context(preview.account.name),
    ]
    return f"Release {record.display}?", blocks


def changed_since_text(record: NumberRecord, since: Sequence[AuditEntry]) -> str:
    """A prompt clicked after its number changed: nothing done, what changed, how it is now."""
    happened = ", then ".join(f"{action_text(e)} by {actor_text(e)}" for e in since)
    if record.state is NumberState.AGING:
        now = f"it is aging until {_day(record.aging_until)}"
    elif record.assignment is None:
        now = "it is a spare"
    else:
        now = f"it {assignment_words(record)}"
    return (
        f":warning: Nothing was released: *{escape(record.display)}* changed after this "
        f"prompt was drawn{f' ({happened})' if happened else ''}. Now {now}. "
        f"For a fresh prompt: `/numbers release {record.e164}`."
    )


def released_message(record: NumberRecord, account_name: str) -> tuple[str, list[Block]]:
    text = (
        f":outbox_tray: Released *{escape(record.display)}*: it is aging until "
        f"{_day(record.aging_until)}. `/numbers restore {record.e164}` brings it back until then."
    )
    return f"Released {record.display}", [_md(text), account_context(account_name)]


def restored_message(record: NumberRecord, account_name: str) -> tuple[str, list[Block]]:
    text = f":leftwards_arrow_with_hook: Restored {describe(record)}."
    if record.assignment is None:
        text += " It is a spare: its old assignment was taken meanwhile, or it had none."
    return f"Restored {record.display}", [_md(text), account_context(account_name)]
