"""Ephemeral answers to `/numbers`: help, usage, search results, requests."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.buy import chunks, offer_label
from bot.blocks.text import MAX_MESSAGE_BLOCKS, escape, mention, when
from bot.domain.records import AvailableNumber, PurchaseRequestRecord

USAGE = "\n".join(
    [
        "*/numbers* manages the company's phone numbers:",
        "• `/numbers buy`: open *Buy Numbers* "
        "(also `buy local 415`, `buy tollfree 800`, `buy for conference`, `buy @user`)",
        "• `/numbers search local 415` or `/numbers search tollfree 800`: numbers for sale",
        "• `/numbers list [main|conference|faxbox|users|@user|spare|e911|no-e911] "
        "[local|tollfree] [AREA]`: the account's numbers, each with its menu "
        "(`Assign`, `Unassign`, `e911`, `Move`, `Release`)",
        "• `/numbers spare`: the account's spare numbers",
        "• `/numbers e911 NUMBER`: set or remove a number's emergency address",
        "• `/numbers assign NUMBER main|conference|faxbox|@user`, "
        "`/numbers unassign NUMBER` (it becomes spare)",
        "• Numbers can be typed as +14155552671, 415-555-2671 or (415) 555-2671",
        "• `/numbers requests [mine|pending|all]`: purchase requests",
        "• `/numbers help`: this message",
    ]
)


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
    text = f":warning: {escape(problem)}\n\n{USAGE}" if problem else USAGE
    return (problem or "How to use /numbers"), [_md(text)]


def search_message(label: str, offers: Sequence[AvailableNumber]) -> tuple[str, list[Block]]:
    if not offers:
        return "No numbers found", [_md(f"No numbers found for {escape(label)}.")]
    lines = [f"• {escape(offer_label(o))}" for o in offers]
    footer = "Use `/numbers buy` to buy some of them."
    return f"{len(offers)} numbers", _lines(f"*Numbers for {escape(label)}*", lines, footer)


def requests_message(requests: Sequence[PurchaseRequestRecord]) -> tuple[str, list[Block]]:
    if not requests:
        return "No purchase requests", [_md("No purchase requests.")]
    lines = [
        f"• {when(r.created_at)}: {len(r.items)} numbers for {escape(r.target.label)}, "
        f"by {mention(r.requester_id)}: *{r.state.value.replace('_', ' ')}*"
        for r in requests
    ]
    return f"{len(requests)} purchase requests", _lines("*Purchase requests*", lines)
