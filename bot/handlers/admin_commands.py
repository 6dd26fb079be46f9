"""`/numbers account|move|release|restore|history`: parsed here, run here.

`bot/handlers/commands.py` only hands these verbs over (`ADMIN_VERBS`), so the buy and
search parsing there stays as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.accounts import (
    account_bound_message,
    account_created_message,
    accounts_message,
    moved_message,
)
from bot.blocks.release import restored_message
from bot.domain.errors import InvalidInput
from bot.domain.phone import parse_number
from bot.handlers.assign import tell_former
from bot.handlers.kit import Kit
from bot.handlers.manage import changed, confirm_release, history_reply, open_move_modal
from bot.service.context import Actor

ADMIN_VERBS = frozenset({"account", "accounts", "move", "release", "restore", "history"})
_SHOWN = 40  # how much of a wrong word is quoted back; no number is longer
# The characters a number is typed with (`+1 (415) 555-2671`, `415.555.2671`).
_NUMBERISH = re.compile(r"[0-9()+.\-]+")


@dataclass(frozen=True, slots=True)
class AccountList:
    pass


@dataclass(frozen=True, slots=True)
class AccountCreate:
    name: str


@dataclass(frozen=True, slots=True)
class AccountUse:
    name: str


@dataclass(frozen=True, slots=True)
class Move:
    number: str
    account: str | None  # None: open the `Move number` modal to choose it


@dataclass(frozen=True, slots=True)
class Release:
    number: str


@dataclass(frozen=True, slots=True)
class Restore:
    number: str


@dataclass(frozen=True, slots=True)
class History:
    number: str


AdminCommand = AccountList | AccountCreate | AccountUse | Move | Release | Restore | History


def _usage(text: str) -> InvalidInput:
    return InvalidInput("command", text)


def _shown(words: list[str]) -> str:
    text = " ".join(words)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _number(words: list[str], verb: str) -> str:
    if not words:
        raise _usage(f"Say which number: `/numbers {verb} (415) 555-2671`.")
    text = " ".join(words)
    if len(text) > _SHOWN:  # nothing that long is a number; quote only its start
        raise _usage(
            f"“{_shown(words)}” is not a US or Canadian number such as (415) 555-2671 "
            "or +14155552671."
        )
    return parse_number(text)


def _number_then_rest(words: list[str], verb: str, rest: str) -> tuple[str, str]:
    """`(415) 555-2671 Branch Office` → the number, and the rest (which may hold spaces).

    Only the first few words can hold the number (it is at most `_SHOWN` characters of
    digits and separators), so at most a few cuts are tried: the parse stays linear in the
    text, however many words follow.
    """
    typed = -1  # characters of the words so far, joined by spaces
    for cut in range(1, len(words)):
        typed += len(words[cut - 1]) + 1
        if typed > _SHOWN or not _NUMBERISH.fullmatch(words[cut - 1]):
            break  # no longer run of words can be a number
        try:
            number = parse_number(" ".join(words[:cut]))
        except InvalidInput:
            continue
        return number, " ".join(words[cut:])
    raise _usage(
        f"Say the number, then the {rest}: `/numbers {verb} (415) 555-2671 Branch Office` "
        f"(not “{_shown(words)}”)."
    )


def _account(args: list[str]) -> AdminCommand:
    if not args or args[0].lower() == "list":
        if len(args) > 1:
            raise _usage("`/numbers account list` takes nothing more.")
        return AccountList()
    sub, name = args[0].lower(), " ".join(args[1:])
    if sub not in ("create", "use"):
        raise _usage(
            f"“{_shown(args[:1])}” is not an account command: use `/numbers account list`, "
            "`account create NAME` or `account use NAME`."
        )
    if not name:
        raise _usage(f"Say the account's name: `/numbers account {sub} Branch Office`.")
    return AccountCreate(name) if sub == "create" else AccountUse(name)


def parse_admin(verb: str, args: list[str]) -> AdminCommand:
    """One of the management commands; InvalidInput says what is accepted."""
    if verb in ("account", "accounts"):
        return _account(args)
    if verb == "move":
        if not args:
            raise _usage("Say the number (and the account): `/numbers move (415) 555-2671 Branch`.")
        try:
            return Move(parse_number(" ".join(args)), None)  # no account: the modal asks
        except InvalidInput:
            number, account = _number_then_rest(args, "move", "account")
            return Move(number, account)
    if verb == "release":
        return Release(_number(args, "release"))
    if verb == "restore":
        return Restore(_number(args, "restore"))
    if verb == "history":
        return History(_number(args, "history"))
    raise _usage(f"“{_shown([verb])}” is not a /numbers command.")


async def run_admin(
    parsed: AdminCommand,
    *,
    command: dict[str, Any],
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    respond: AsyncRespond,
) -> None:
    """Run a parsed command after the ack; answers are ephemeral where it was typed."""
    channel_id = str(command.get("channel_id") or "") or None
    services = kit.services
    if isinstance(parsed, Move) and parsed.account is None:
        trigger = str(command.get("trigger_id") or "")
        await open_move_modal(
            client,
            kit,
            actor,
            trigger_id=trigger,
            number=parsed.number,
            channel_id=channel_id,
            response_url=command.get("response_url"),
        )
        return
    if isinstance(parsed, Release):
        await confirm_release(
            kit, actor, number=parsed.number, channel_id=channel_id, respond=respond
        )
        return
    if isinstance(parsed, AccountList):
        text, blocks = accounts_message(await services.overview.account_lines(actor))
    elif isinstance(parsed, AccountCreate):
        text, blocks = account_created_message(await services.accounts.create(actor, parsed.name))
    elif isinstance(parsed, AccountUse):
        if channel_id is None:
            raise _usage("Type `/numbers account use NAME` in the channel to bind.")
        account = await services.accounts.use(actor, channel_id, parsed.name)
        text, blocks = account_bound_message(account, channel_id)
    elif isinstance(parsed, Move):
        source = await services.accounts.for_channel(actor, channel_id)
        assert parsed.account is not None
        before = await services.numbers.get(actor, parsed.number, channel_id=channel_id)
        moved = await services.numbers.move(
            actor, parsed.number, parsed.account, channel_id=channel_id
        )
        target = await services.accounts.get(moved.account_id or "")
        text, blocks = moved_message(moved, source.name, target.name)
    elif isinstance(parsed, Restore):
        account = await services.accounts.for_channel(actor, channel_id)
        restored = await services.numbers.restore(actor, parsed.number, channel_id=channel_id)
        text, blocks = restored_message(restored, account.name)
    else:
        text, blocks = await history_reply(kit, actor, parsed.number)
    await respond(text=text, blocks=blocks, response_type="ephemeral")
    if isinstance(parsed, Move):
        await tell_former(client, actor, before, moved, "moved")
    if isinstance(parsed, AccountCreate | AccountUse | Move | Restore):
        await changed(kit, client, actor.workspace_id)
