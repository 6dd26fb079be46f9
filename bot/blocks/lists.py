"""Ephemeral answers to `/numbers`: help, usage, search results, requests."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.buy import chunks, offer_label
from bot.blocks.text import MAX_MESSAGE_BLOCKS, echo, escape
from bot.domain.phone import TOLLFREE_PREFIXES
from bot.domain.records import AvailableNumber

USAGE = "\n".join(
    [
        "*/numbers* manages the company's phone numbers:",
        "• `/numbers buy [local|tollfree] [AREA-CODE|PREFIX] [for] "
        "[main|conference|faxbox|@user]`: open *Buy Numbers*, "
        "searching at once when an area code or prefix is given "
        "(`buy`, `buy 415`, `buy tollfree 800`, `buy for conference`, `buy @user`)",
        "• `/numbers search [local|tollfree] [AREA-CODE|PREFIX] [HOW-MANY]`: numbers for sale, "
        "10 unless HOW-MANY (1 to 50) is given "
        "(`search 415`, `search local 415-629 20`, `search tollfree`)",
        "• `/numbers list [main|conference|faxbox|users|@user|spare|e911|no-e911] "
        "[local|tollfree] [AREA]`: the account's numbers, each with its menu "
        "(`Assign`, `Unassign`, `e911`, `Move`, `Release`)",
        "• `/numbers spare`: the account's spare numbers",
        "• `/numbers e911 NUMBER`: set or remove a number's emergency address",
        "• `/numbers assign NUMBER main|conference|faxbox|@user`, "
        "`/numbers unassign NUMBER` (it becomes spare)",
        "• `/numbers requests [mine|pending|all]`: purchase requests (yours when left out)",
        "• `/numbers history NUMBER`: who did what to a number, newest first",
        "• `/numbers move NUMBER ACCOUNT`: move a number to another account",
        "• `/numbers release NUMBER`, `/numbers restore NUMBER`: release (it ages), bring back",
        "• `/numbers account [list|create NAME|use NAME]`: accounts; `use` binds this channel",
        "• `/numbers help`: this message",
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


def help_message(problem: str | None = None) -> tuple[str, list[Block]]:
    """Usage, led by what was wrong when the command was not understood."""
    text = f":warning: {echo(problem, MAX_PROBLEM)}\n\n{USAGE}" if problem else USAGE
    return (echo(problem, MAX_PROBLEM) if problem else "How to use /numbers"), [_md(text)]


def search_message(label: str, offers: Sequence[AvailableNumber]) -> tuple[str, list[Block]]:
    if not offers:
        return "No numbers found", [_md(f"No numbers found for {echo(label)}.")]
    lines = [f"• {escape(offer_label(o))}" for o in offers]
    footer = "Use `/numbers buy` to buy some of them."
    return f"{len(offers)} numbers", _lines(f"*Numbers for {echo(label)}*", lines, footer)
