"""`/numbers`: parse the text into a command, then one service call and a reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.lists import help_message, requests_message, search_message
from bot.domain.assignment import Assignment
from bot.domain.phone import TOLLFREE_PREFIXES, Kind
from bot.handlers.buy import open_buy_modal
from bot.handlers.kit import Track, actor_of, kit_of
from bot.handlers.manage import run_manage
from bot.handlers.manage_commands import SPARES, ManageCommand, parse_manage
from bot.handlers.manage_commands import VERBS as MANAGE_VERBS
from bot.service.errors import InvalidInput

COMMAND = "/numbers"
KIND_WORDS = {"local": Kind.LOCAL, "tollfree": Kind.TOLLFREE, "toll-free": Kind.TOLLFREE}
LATER = {"move", "release", "restore", "account"}
REQUEST_FILTERS = ("mine", "pending", "all")
MAX_QUANTITY = 50


@dataclass(frozen=True, slots=True)
class Help:
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Buy:
    kind: Kind | None = None
    query: str | None = None
    target: Assignment | None = None


@dataclass(frozen=True, slots=True)
class Search:
    kind: Kind
    query: str
    quantity: int = 10


@dataclass(frozen=True, slots=True)
class Spare:
    pass


@dataclass(frozen=True, slots=True)
class Requests:
    which: str = "mine"


Command = Help | Buy | Search | Spare | Requests | ManageCommand


class _Usage(Exception):
    pass


def _buy(args: list[str]) -> Buy:
    kind: Kind | None = None
    query: str | None = None
    target: Assignment | None = None
    rest = list(args)
    if rest and rest[0].lower() in KIND_WORDS:
        kind = KIND_WORDS[rest.pop(0).lower()]
        if rest and rest[0].lower() != "for":
            query = rest.pop(0)
    if rest and rest[0].lower() == "for":
        rest.pop(0)
        if not rest:
            raise _Usage("Say who to buy for: main, conference, faxbox or @user.")
        target = Assignment.parse(rest.pop(0))
    elif rest and kind is None:
        target = Assignment.parse(rest.pop(0))  # `buy @user`, `buy conference`
    if rest:
        raise _Usage(f"I did not understand “{' '.join(rest)}” after `buy`.")
    return Buy(kind, query, target)


def _search(args: list[str]) -> Search:
    rest = list(args)
    kind: Kind | None = None
    if rest and rest[0].lower() in KIND_WORDS:
        kind = KIND_WORDS[rest.pop(0).lower()]
    if not rest:
        raise _Usage("Say what to search: `/numbers search local 415` or `search tollfree 800`.")
    query = rest.pop(0)
    if kind is None:
        kind = Kind.TOLLFREE if query.strip("()+-") in TOLLFREE_PREFIXES else Kind.LOCAL
    quantity = 10
    if rest:
        raw = rest.pop(0)
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_QUANTITY:
            raise _Usage(f"The quantity is a number from 1 to {MAX_QUANTITY}, not “{raw}”.")
        quantity = int(raw)
    if rest:
        raise _Usage(f"I did not understand “{' '.join(rest)}” after `search`.")
    return Search(kind, query, quantity)


def parse_command(text: str) -> Command:
    """The command in `/numbers TEXT`; what cannot be understood becomes Help(problem)."""
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    verb, args = words[0].lower(), words[1:]
    try:
        if verb == "buy":
            return _buy(args)
        if verb == "search":
            return _search(args)
        if verb in ("spare", "spares"):
            if args:
                raise _Usage("`/numbers spare` takes no arguments.")
            return Spare()
        if verb in MANAGE_VERBS:
            managed = parse_manage(verb, args)
            if managed is not None:
                return managed
        if verb == "requests":
            which = args[0].lower() if args else "mine"
            if which not in REQUEST_FILTERS or len(args) > 1:
                raise _Usage("Use `/numbers requests mine`, `pending` or `all`.")
            return Requests(which)
    except _Usage as exc:
        return Help(str(exc))
    except InvalidInput as exc:
        return Help(exc.message)
    if verb in LATER:
        return Help(f"`/numbers {verb}` is not available in this version yet.")
    return Help(f"“{words[0]}” is not a /numbers command.")


async def on_numbers(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    parsed = parse_command(str(command.get("text") or ""))
    if isinstance(parsed, Help):
        text, blocks = help_message(parsed.problem)
        await ack(text=text, blocks=blocks, response_type="ephemeral")
        return
    await ack()
    actor = await actor_of(context)
    kit = kit_of(context)
    if isinstance(parsed, Buy):
        # Refused before any modal opens; the service checks the role again on every call.
        actor.require_admin("buy numbers")
        await open_buy_modal(
            client,
            kit,
            actor,
            trigger_id=str(command["trigger_id"]),
            channel_id=str(command.get("channel_id") or "") or None,
            response_url=command.get("response_url"),
            kind=parsed.kind,
            query=parsed.query,
            target=parsed.target,
        )
        return
    if isinstance(parsed, ManageCommand):
        await run_manage(parsed, command, client, context, respond)
        return
    if isinstance(parsed, Search):
        found = await kit.services.numbers.search(
            actor, parsed.kind, parsed.query, quantity=parsed.quantity
        )
        label = f"{KIND_LABEL[found.query.kind]} {found.query.prefix}"
        text, blocks = search_message(label, found.all)
    elif isinstance(parsed, Spare):
        await run_manage(SPARES, command, client, context, respond)
        return
    else:
        text, blocks = requests_message(
            await kit.services.purchases.list_requests(actor, parsed.which)
        )
    await respond(text=text, blocks=blocks, response_type="ephemeral")


KIND_LABEL = {Kind.LOCAL: "area code", Kind.TOLLFREE: "toll-free prefix"}


def register(app: AsyncApp, track: Track) -> None:
    app.command(COMMAND)(track(on_numbers))
