"""Ephemeral answers to `/numbers`: help, usage, search results, requests."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.buy import chunks, offer_label
from bot.blocks.text import MAX_MESSAGE_BLOCKS, echo, escape
from bot.domain.phone import TOLLFREE_PREFIXES
from bot.domain.records import AvailableNumber

# One line per command, with the verbs it covers: together the usage, and alone the answer
# to a mistyped verb ("did you mean `list`?").
COMMAND_LINES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("buy",),
        "• `/numbers buy [local|tollfree] [AREA-CODE|PREFIX] [for] "
        "[main|conference|faxbox|@user]`: open *Buy Numbers*, "
        "searching at once when an area code or prefix is given "
        "(`buy`, `buy 415`, `buy tollfree 800`, `buy for conference`, `buy @user`)",
    ),
    (
        ("search",),
        "• `/numbers search [local|tollfree] [AREA-CODE|PREFIX] [HOW-MANY]`: numbers for sale, "
        "10 unless HOW-MANY (1 to 50) is given "
        "(`search 415`, `search local 415-629 20`, `search tollfree`)",
    ),
    (
        ("list",),
        "• `/numbers list [main|conference|faxbox|users|@user|spare|e911|no-e911] "
        "[local|tollfree] [AREA]`: the account's numbers, each with its menu "
        "(`Assign`, `Unassign`, `e911`, `Move`, `Release`)",
    ),
    (("spare",), "• `/numbers spare`: the account's spare numbers"),
    (("e911",), "• `/numbers e911 NUMBER`: set or remove a number's emergency address"),
    (
        ("assign", "unassign"),
        "• `/numbers assign NUMBER main|conference|faxbox|@user`, "
        "`/numbers unassign NUMBER` (it becomes spare)",
    ),
    (
        ("requests",),
        "• `/numbers requests [mine|pending|all]`: purchase requests (yours when left out)",
    ),
    (("history",), "• `/numbers history NUMBER`: who did what to a number, newest first"),
    (("move",), "• `/numbers move NUMBER ACCOUNT`: move a number to another account"),
    (
        ("release", "restore"),
        "• `/numbers release NUMBER`, `/numbers restore NUMBER`: release (it ages), bring back",
    ),
    (
        ("account",),
        "• `/numbers account [list|create NAME|use NAME]`: accounts; `use` binds this channel",
    ),
    (("help",), "• `/numbers help`: this message"),
)
VERBS: tuple[str, ...] = tuple(verb for verbs, _ in COMMAND_LINES for verb in verbs)
USAGE = "\n".join(
    [
        "*/numbers* manages the company's phone numbers:",
        *(line for _, line in COMMAND_LINES),
        "AREA-CODE is 3 digits (`415`) or area code and exchange (`415-629`, `(415) 629`); "
        "PREFIX is one of " + ", ".join(TOLLFREE_PREFIXES) + ". "
        "Left out (`search local`, `search tollfree`, an empty field in *Buy Numbers*), "
        "any area code or prefix is searched. `local` or `tollfree` may be left out "
        "when the digits say which. "
        "NUMBER can be typed as +14155552671, 4155552671, 415-555-2671, (415) 555-2671, "
        "1 415 555 2671 or +1 (415) 555-2671.",
    ]
)
# How much of a problem (which quotes the user's words) the usage message repeats.
MAX_PROBLEM = 500


def _md(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _lines(header: str, lines: Sequence[str], footer: str | None = None) -> list[Block]:
    blocks: list[Block] = [_md(header)]
    blocks += [_md("\n".join(part)) for part in chunks(lines, 20)]
    if footer:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks[:MAX_MESSAGE_BLOCKS]


def usage_line(verb: str) -> str:
    """The one line of the usage that explains `verb`."""
    return next(line for verbs, line in COMMAND_LINES if verb in verbs)


def help_message(
    problem: str | None = None, *, brief: bool = False, verb: str | None = None
) -> tuple[str, list[Block]]:
    """Usage, led by what was wrong when the command was not understood.

    `brief`: the problem, the usage line of `verb` (the command meant) or else the list of
    commands, and where the whole usage is; not all twenty lines.
    """
    if brief:
        shown = (
            usage_line(verb)
            if verb
            else "The commands: " + ", ".join(f"`{v}`" for v in VERBS) + "."
        )
        rest = f"{shown}\n`/numbers help` explains every command."
    else:
        rest = USAGE
    text = f":warning: {echo(problem, MAX_PROBLEM)}\n\n{rest}" if problem else rest
    return (echo(problem, MAX_PROBLEM) if problem else "How to use /numbers"), [_md(text)]


def search_message(label: str, offers: Sequence[AvailableNumber]) -> tuple[str, list[Block]]:
    if not offers:
        return "No numbers found", [_md(f"No numbers found for {echo(label)}.")]
    lines = [f"• {escape(offer_label(o))}" for o in offers]
    footer = "Use `/numbers buy` to buy some of them."
    return f"{len(offers)} numbers", _lines(f"*Numbers for {echo(label)}*", lines, footer)
