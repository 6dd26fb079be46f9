"""`/numbers account …` answers and the `Move` modal."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.ids import ManageId
from bot.blocks.payloads import MoveMeta
from bot.blocks.text import MAX_MESSAGE_BLOCKS, MAX_SELECT_OPTIONS, count, echo, escape
from bot.domain.records import AccountInfo, NumberRecord
from bot.domain.views import AccountLine

MOVE_TITLE = "Move number"
_OPTION_MAX = 75


def _md(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def account_context(name: str) -> ContextBlock:
    """The line every answer about numbers carries: which account it is about."""
    return _context(f"Account: *{echo(name, 64)}*")


def _channels(channels: Sequence[str]) -> str:
    if not channels:
        return "no channel"
    shown = ", ".join(f"<#{c}>" for c in channels[:10])
    more = len(channels) - 10
    return shown + (f" and {more} more" if more > 0 else "")


def accounts_message(lines: Sequence[AccountLine]) -> tuple[str, list[Block]]:
    """Each account, its numbers and the channels that use it; the default says so."""
    blocks: list[Block] = [_md("*Accounts*")]
    for line in lines[: MAX_MESSAGE_BLOCKS - 2]:
        name = f"*{echo(line.account.name, 64)}*"
        default = " (default: unbound channels and the App Home use it)" if line.is_default else ""
        blocks.append(
            _md(f"{name}{default}\n{count(line.numbers)} · used by {_channels(line.channels)}")
        )
    blocks.append(
        _context(
            "`/numbers account use NAME` binds this channel to an account; "
            "`/numbers account create NAME` adds one."
        )
    )
    return f"{count(len(lines), 'account')}", blocks


def account_created_message(account: AccountInfo) -> tuple[str, list[Block]]:
    name = echo(account.name, 64)
    text = (
        f":white_check_mark: Created the account *{name}*. "
        f"Bind a channel to it with `/numbers account use {name}`."
    )
    return f"Created the account {escape(account.name)}", [_md(text)]


def account_bound_message(account: AccountInfo, channel_id: str) -> tuple[str, list[Block]]:
    text = (
        f":link: <#{channel_id}> now works on the account *{echo(account.name, 64)}*: "
        "its `/numbers` commands list, buy and change that account's numbers."
    )
    return f"This channel now uses {escape(account.name)}", [_md(text)]


def moved_message(record: NumberRecord, source: str, target: str) -> tuple[str, list[Block]]:
    e911 = " Its e911 address was kept." if record.e911 is not None else ""
    text = (
        f":truck: Moved *{escape(record.display)}* from *{echo(source, 64)}* to "
        f"*{echo(target, 64)}*. It is a spare there now (its assignment was cleared).{e911}"
    )
    return f"Moved {record.display} to {escape(target)}", [_md(text), account_context(target)]


def _option(account: AccountInfo) -> Option:
    label = account.name if len(account.name) <= _OPTION_MAX else account.name[:74] + "…"
    return Option(value=account.name, label=label)


def move_modal(
    record: NumberRecord, current: AccountInfo, accounts: Sequence[AccountInfo], ref: MoveMeta
) -> View:
    """`Move`: the number, where it is, and a select of the workspace's other accounts."""
    others = [a for a in accounts if a.id != current.id][:MAX_SELECT_OPTIONS]
    intro = _md(
        f"Move *{escape(record.display)}* from *{echo(current.name, 64)}* to another account. "
        "Its assignment is cleared; its e911 address is kept."
    )
    if not others:
        note = _md("There is no other account yet. Create one with `/numbers account create NAME`.")
        return View(type="modal", title=MOVE_TITLE, close="Close", blocks=[intro, note])
    select = InputBlock(
        block_id=ManageId.MOVE_ACCOUNT,
        label="Account",
        element=StaticSelectElement(
            action_id=ManageId.MOVE_ACCOUNT,
            placeholder="Choose an account",
            options=[_option(a) for a in others],
        ),
    )
    return View(
        type="modal",
        callback_id=ManageId.MOVE_MODAL,
        title=MOVE_TITLE,
        submit="Move",
        close="Cancel",
        private_metadata=ref.dump(),
        blocks=[intro, select],
    )
