"""`/numbers`: parse the text into a command, then one service call and a reply."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.blocks.lists import VERBS, help_message, search_message
from bot.domain.assignment import Assignment
from bot.domain.errors import InvalidInput
from bot.domain.phone import TOLLFREE_PREFIXES, Kind, parse_query
from bot.domain.purchase import RequestFilter
from bot.handlers.admin_commands import ADMIN_VERBS, AdminCommand, parse_admin, run_admin
from bot.handlers.buy import open_buy_modal
from bot.handlers.context import Reply, Slash, on_command
from bot.handlers.kit import Track
from bot.handlers.manage import requests_reply
from bot.handlers.manage_commands import SPARES, ManageCommand, parse_manage, target_word
from bot.handlers.manage_commands import VERBS as MANAGE_VERBS
from bot.handlers.manage_numbers import run_manage

COMMAND = "/numbers"
KIND_WORDS = {"local": Kind.LOCAL, "tollfree": Kind.TOLLFREE, "toll-free": Kind.TOLLFREE}
REQUEST_FILTERS = tuple(f.value for f in RequestFilter)
MAX_QUANTITY = 50
# No command is longer: the longest real ones (`account create` with a 64-character name,
# `assign NUMBER @person` as Slack sends a mention) are under 200 characters. A longer text
# is refused before it is split or parsed, so its length costs nothing.
MAX_COMMAND_TEXT = 500
MAX_VERB = 20  # how much of an unknown verb is compared with ours (difflib is quadratic)


@dataclass(frozen=True, slots=True)
class Help:
    problem: str | None = None
    brief: bool = False  # the problem and one line, not the whole usage
    verb: str | None = None  # with brief: the command meant, whose usage line is shown


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


Command = Help | Buy | Search | Spare | Requests | ManageCommand | AdminCommand


class _Usage(Exception):
    pass


def _is_query_word(word: str) -> bool:
    """A piece of an area code or prefix as people type it: `415`, `(415)`, `555-0123`, `+1`."""
    return not word.startswith(("<", "@")) and any(c.isdigit() for c in word)


def _kind_of(query: str) -> Kind:
    """`800` (or `1-800`) is toll-free; any other digits are a local area code."""
    digits = "".join(c for c in query if c.isascii() and c.isdigit())
    if len(digits) == 4 and digits.startswith("1"):
        digits = digits[1:]
    return Kind.TOLLFREE if digits in TOLLFREE_PREFIXES else Kind.LOCAL


def _checked(kind: Kind, query: str) -> str:
    """The query, refused here (with what is accepted) rather than after the ack."""
    parse_query(kind, query)
    return query


def _buy(args: list[str]) -> Buy:
    """`buy [local|tollfree] [AREA-CODE|PREFIX] [for] [TARGET]`."""
    kind: Kind | None = None
    target: Assignment | None = None
    at = 0  # an index, not list.pop(0): each pop(0) moves every word after it
    if args and args[0].lower() in KIND_WORDS:
        kind = KIND_WORDS[args[0].lower()]
        at = 1
    start = at
    while at < len(args) and _is_query_word(args[at]):
        at += 1
    query = " ".join(args[start:at]) or None
    rest = args[at:]
    if rest and rest[0].lower() == "for":
        if len(rest) == 1:
            raise _Usage("Say who to buy for: main, conference, faxbox or @user.")
        target, rest = target_word(rest[1]), rest[2:]
    elif len(rest) == 1:
        target, rest = target_word(rest[0]), []  # `buy @user`, `buy 415 conference`
    if rest:
        raise _Usage(f"I did not understand “{' '.join(rest)}” after `buy`.")
    if query is not None:
        kind = kind or _kind_of(query)
        query = _checked(kind, query)
    return Buy(kind, query, target)


def _is_quantity_word(word: str) -> bool:
    # Two digits at most: `(415) 555` is an area code and exchange, not 555 numbers.
    return (word.isdigit() and len(word) <= 2) or word.isalpha()


def _search(args: list[str]) -> Search:
    """`search [local|tollfree] [AREA-CODE|PREFIX] [HOW-MANY]`."""
    rest = list(args)
    kind: Kind | None = None
    if rest and rest[0].lower() in KIND_WORDS:
        kind = KIND_WORDS[rest.pop(0).lower()]
    if not rest and kind is None:
        raise _Usage(
            "Say what to search: `/numbers search local 415`, `search tollfree 800`, "
            "or `search local` for any area code."
        )
    quantity = 10
    # One or two digits can only be a quantity (area codes and prefixes have three).
    if rest and _is_quantity_word(rest[-1]) and (len(rest) > 1 or rest[-1].isdigit()):
        raw = rest.pop()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_QUANTITY:
            raise _Usage(
                f"How many numbers to show is a number from 1 to {MAX_QUANTITY}, not “{raw}”."
            )
        quantity = int(raw)
    query = " ".join(rest)
    kind = kind or _kind_of(query)
    return Search(kind, _checked(kind, query) if query else "", quantity)


def parse_command(text: str) -> Command:
    """The command in `/numbers TEXT`; what cannot be understood becomes Help(problem).

    Linear in the text and bounded: a text over MAX_COMMAND_TEXT is refused at once.
    """
    if len(text) > MAX_COMMAND_TEXT:
        return Help(
            f"That is {len(text):,} characters long; no /numbers command is longer than "
            f"{MAX_COMMAND_TEXT}.",
            brief=True,
        )
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
        if verb in ADMIN_VERBS:
            return parse_admin(verb, args)
    except _Usage as exc:
        return Help(str(exc))
    except InvalidInput as exc:
        return Help(exc.message)
    return _unknown(words[0])


def _unknown(word: str) -> Help:
    """A verb we do not have: the closest one we do, if any is close."""
    typed = word.lower()[:MAX_VERB]
    started = [verb for verb in VERBS if len(typed) >= 2 and verb.startswith(typed)]
    close = started if len(started) == 1 else difflib.get_close_matches(typed, VERBS, 1, 0.6)
    if not close:
        return Help(f"“{word}” is not a /numbers command.", brief=True)
    return Help(f"“{word}” is not a /numbers command. Did you mean `{close[0]}`?", True, close[0])


def at_once(parsed: Command) -> Reply | None:
    """Usage, led by what was not understood, goes out in the ack itself."""
    if not isinstance(parsed, Help):
        return None
    return help_message(parsed.problem, brief=parsed.brief, verb=parsed.verb)


async def on_numbers(cmd: Slash[Command]) -> None:
    parsed, kit, actor, respond = cmd.parsed, cmd.kit, cmd.actor, cmd.respond
    if isinstance(parsed, Buy):
        # Refused before any modal opens; the service checks the role again on every call.
        actor.require_admin("buy numbers")
        await open_buy_modal(
            cmd.client,
            kit,
            actor,
            trigger_id=cmd.trigger_id,
            channel_id=cmd.channel_id,
            response_url=cmd.response_url,
            kind=parsed.kind,
            query=parsed.query,
            target=parsed.target,
        )
        return
    if isinstance(parsed, ManageCommand):
        await run_manage(parsed, cmd.command, cmd.client, kit, actor, respond)
        return
    if isinstance(parsed, Search):
        found = await kit.services.numbers.search(
            actor, parsed.kind, parsed.query, quantity=parsed.quantity
        )
        query = found.query
        label = f"{KIND_LABEL[query.kind]} {query.npa}" + (f"-{query.nxx}" if query.nxx else "")
        text, blocks = search_message(label, found.all)
    elif isinstance(parsed, Spare):
        await run_manage(SPARES, cmd.command, cmd.client, kit, actor, respond)
        return
    elif isinstance(parsed, Requests):
        text, blocks = await requests_reply(kit, actor, parsed.which)
    else:
        assert not isinstance(parsed, Help)  # answered in the ack
        await run_admin(
            parsed, command=cmd.command, client=cmd.client, kit=kit, actor=actor, respond=respond
        )
        return
    await respond(text=text, blocks=blocks, response_type="ephemeral")


KIND_LABEL = {Kind.LOCAL: "area code", Kind.TOLLFREE: "toll-free prefix"}


def register(app: AsyncApp, track: Track) -> None:
    app.command(COMMAND)(track(on_command(parse_command, on_numbers, answer=at_once)))
