"""`/numbers list` and `/numbers spare`: one section per number, its menu, page buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    OverflowMenuElement,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import Option

from bot.blocks.ids import ActionId, BlockId
from bot.blocks.payloads import HomeRef, ListRef, MenuOp, MenuPick
from bot.blocks.text import MAX_MESSAGE_BLOCKS, clip, escape, person_text, target_text
from bot.domain.records import NumberFilter, NumberRecord
from bot.domain.states import NumberState
from bot.service.listing import NumberList

AMBULANCE = "🚑"
# An assigned number that would place a 911 call nobody can locate (docs/decisions/rules.md).
NO_E911 = "⚠️ no e911"
# The overflow menu of every row, in this order (Slack shows 2 to 5 options).
MENU: tuple[tuple[str, MenuOp], ...] = (
    ("Assign", "assign"),
    ("Unassign", "unassign"),
    ("e911", "e911"),
    ("Move", "move"),
    ("Release", "release"),
)
# An aging number (released, restorable for a while) can only be brought back or looked into.
AGING_MENU: tuple[tuple[str, MenuOp], ...] = (("Restore", "restore"), ("History", "history"))
TYPED_MAX = 60  # how much of what someone typed is echoed back


def typed(text: str, limit: int = TYPED_MAX) -> str:
    """What a person typed, safe to echo in mrkdwn: clipped, then escaped."""
    return escape(clip(" ".join(text.split()), limit))


def assigned_text(number: NumberRecord) -> str:
    """What a number rings, for mrkdwn: a person as a mention."""
    if number.state is NumberState.AGING:
        return "aging"
    if number.assignment is None:
        return "spare"
    return target_text(number.assignment.label, number.assignment.user_id)


def lacks_e911(number: NumberRecord) -> bool:
    """In service, ringing the main line, a person, the bridge or the fax box, and no e911."""
    return (
        number.state is NumberState.IN_SERVICE
        and number.assignment is not None
        and not number.emergency_enabled
    )


def row_text(number: NumberRecord) -> str:
    """`(415) 555-0123 · San Francisco, CA · Main Company Numbers · 🚑`."""
    parts = [f"*{escape(number.display)}*", assigned_text(number)]
    if number.emergency_enabled:
        parts.append(AMBULANCE)
    elif lacks_e911(number):
        parts.append(NO_E911)
    if number.state is NumberState.AGING and number.aging_until is not None:
        parts.append(f"restorable until {number.aging_until:%Y-%m-%d}")
    return " · ".join(parts)


def menu(number: NumberRecord) -> OverflowMenuElement:
    """Its items act on the number's account, whatever the channel is bound to by then."""
    pick = MenuPick(op="assign", number=number.e164, account_id=number.account_id)
    return OverflowMenuElement(
        action_id=ActionId.NUMBER_MENU,
        options=[
            Option(label=label, value=pick.model_copy(update={"op": op}).dump())
            for label, op in (AGING_MENU if number.state is NumberState.AGING else MENU)
        ],
    )


def filter_words(flt: NumberFilter) -> str:
    """The filter as the command's words: `main local 415`."""
    words: list[str] = []
    if flt.assignment is not None and flt.assignment.user_id is not None:
        words.append(person_text(flt.assignment.user_id))
    elif flt.assignment is not None:
        words.append(flt.assignment.key)
    if flt.e911 is not None:
        words.append("e911" if flt.e911 else "no-e911")
    if flt.kind is not None:
        words.append(flt.kind.value)
    if flt.npa:
        words.append(flt.npa)
    return " ".join(words)


def warning_text(account_name: str) -> str:
    return (
        f":warning: No main number of the account *{escape(account_name)}* is emergency "
        "enabled: a 911 call from it cannot be located. Choose `e911` in a main number's "
        "menu, or type `/numbers e911 NUMBER`, to set the company's emergency address."
    )


def page_text(lst: NumberList) -> str:
    matching = f"more than {lst.matching:,}" if lst.more_than else f"{lst.matching:,}"
    noun = "number matches" if lst.matching == 1 and not lst.more_than else "numbers match"
    if not lst.rows:
        return f"Page {lst.page} · {matching} {noun}"
    last = lst.first + len(lst.rows) - 1
    return f"Page {lst.page} · {lst.first}-{last} of {matching} {noun}"


def _ref(lst: NumberList, title: str | None, **cursor: object) -> str:
    flt = lst.flt
    return ListRef(
        assignment=flt.assignment.key if flt.assignment else None,
        e911=flt.e911,
        kind=flt.kind,
        npa=flt.npa,
        title=title,
        account_id=lst.account.id,
        **cursor,
    ).dump()


def number_list_message(
    lst: NumberList, *, admin: bool, title: str | None = None
) -> tuple[str, list[Block]]:
    """The list as an ephemeral message; an admin's rows carry the overflow menu."""
    heading = title or "Numbers"
    shown = f"*{escape(heading)}* of *{escape(lst.account.name)}*"
    words = filter_words(lst.flt)
    if words and not title:
        shown += f" · {words}"
    blocks: list[Block] = []
    if not lst.main_emergency_enabled:
        blocks.append(
            SectionBlock(
                block_id=BlockId.LIST_WARNING,
                text=MarkdownTextObject(text=warning_text(lst.account.name)),
            )
        )
    blocks.append(SectionBlock(block_id=BlockId.LIST_HEADER, text=MarkdownTextObject(text=shown)))
    for number in lst.rows:
        blocks.append(
            SectionBlock(
                block_id=f"{BlockId.NUMBER_ROW}.{number.e164}",
                text=MarkdownTextObject(text=row_text(number)),
                accessory=menu(number) if admin else None,
            )
        )
    if not lst.rows:
        empty = "No numbers match." if lst.page == 1 else "No more numbers."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
    blocks.append(
        ContextBlock(block_id=BlockId.LIST_PAGE, elements=[MarkdownTextObject(text=page_text(lst))])
    )
    buttons: list[ButtonElement] = []
    if lst.has_previous and lst.rows:
        value = _ref(lst, title, before=lst.rows[0].e164, page=lst.page - 1)
        buttons.append(
            ButtonElement(text="Previous", action_id=ActionId.LIST_PREVIOUS, value=value)
        )
    elif lst.has_previous:  # an empty page after the last number: go back from here
        value = _ref(lst, title, page=1)
        buttons.append(
            ButtonElement(text="Previous", action_id=ActionId.LIST_PREVIOUS, value=value)
        )
    if lst.has_next and lst.rows:
        value = _ref(lst, title, after=lst.rows[-1].e164, page=lst.page + 1)
        buttons.append(ButtonElement(text="Next", action_id=ActionId.LIST_NEXT, value=value))
    if admin:
        shown = HomeRef(account_id=lst.account.id).dump()  # buys for the account listed
        buttons.append(ButtonElement(text="Buy Numbers", action_id=ActionId.LIST_BUY, value=shown))
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.LIST_BUTTONS, elements=buttons))
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    return fallback_text(lst), blocks


def fallback_text(lst: NumberList) -> str:
    """The notification text: `12 numbers of Main, page 2`, `2 spare numbers of Main, ...`."""
    spare = lst.flt.assignment is not None and lst.flt.assignment.spare
    noun = "spare number" if spare else "number"
    many = lst.matching != 1 or lst.more_than
    counted = f"{'more than ' if lst.more_than else ''}{lst.matching:,} {noun}{'s' if many else ''}"
    return f"{counted} of {escape(lst.account.name)}, page {lst.page}"
