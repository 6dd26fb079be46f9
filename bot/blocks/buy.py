"""The `Buy Numbers` modal (seed flows 3.1-3.5 and 3.7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.accounts import account_context
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import BuyMeta
from bot.blocks.text import MAX_CHECKBOX_OPTIONS, escape
from bot.domain.assignment import LABELS, AssignmentKind
from bot.domain.billing import format_money
from bot.domain.phone import TOLLFREE_PREFIXES, Kind
from bot.domain.records import AvailableNumber, NumberRecord

TITLE = "Buy Numbers"
KIND_LABELS = {Kind.LOCAL: "Local", Kind.TOLLFREE: "Toll-free"}
TARGET_LABELS: dict[AssignmentKind, str] = {
    AssignmentKind.MAIN: LABELS[AssignmentKind.MAIN],
    AssignmentKind.CONFERENCE: LABELS[AssignmentKind.CONFERENCE],
    AssignmentKind.FAXBOX: LABELS[AssignmentKind.FAXBOX],
    AssignmentKind.USER: "A user",
}
OPTION_TEXT_MAX = 75
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Results:
    """One search's offers: the account's matching spares first, then carrier stock."""

    key: str  # identifies the search in block ids, so a new search starts unticked
    label: str
    offers: tuple[AvailableNumber, ...]


@dataclass(frozen=True, slots=True)
class BuyForm:
    """Everything the modal shows; the handlers rebuild it from the view state."""

    meta: BuyMeta
    target: AssignmentKind = AssignmentKind.MAIN
    user_id: str | None = None
    kind: Kind = Kind.LOCAL
    area_code: str = ""
    prefix: str | None = None
    notice: str | None = None  # a problem with the search fields, shown under them
    target_notice: str | None = None  # the target is full (the faxbox), shown under it
    results: Results | None = None
    spares: tuple[NumberRecord, ...] | None = None  # after `Add from Spare Numbers`
    currency: str = "USD"
    account_name: str | None = None  # the account it buys for (`meta.account_id`)


def _option(label: str, value: str) -> Option:
    if len(label) > OPTION_TEXT_MAX:
        label = label[: OPTION_TEXT_MAX - 1] + "…"
    return Option(value=value, label=label)


def offer_label(offer: AvailableNumber, currency: str = "USD") -> str:
    """`(415) 555-0123 · San Francisco, CA · $1.00/mo`, or `... · spare · free`."""
    price = "spare · free" if offer.spare else f"{format_money(offer.monthly, currency)}/mo"
    return f"{offer.display} · {price}"


def chunks(items: Sequence[T], size: int = MAX_CHECKBOX_OPTIONS) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _checkbox_groups(
    block_prefix: str, action_id: str, label: str, options: Sequence[Option]
) -> list[Block]:
    """Checkbox groups of at most 10 options (Slack's limit for one group)."""
    groups = chunks(options)
    blocks: list[Block] = []
    for n, group in enumerate(groups):
        shown = label if n == 0 else f"{label} (more)"
        blocks.append(
            InputBlock(
                block_id=f"{block_prefix}.{n}",
                label=shown,
                optional=True,
                element=CheckboxesElement(action_id=action_id, options=list(group)),
            )
        )
    return blocks


def target_notice_block(text: str) -> ContextBlock:
    return ContextBlock(
        block_id=BlockId.BUY_TARGET_NOTICE,
        elements=[MarkdownTextObject(text=f":warning: {escape(text)}")],
    )


def _target_blocks(form: BuyForm) -> list[Block]:
    options = {kind: _option(text, kind.value) for kind, text in TARGET_LABELS.items()}
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.BUY_TARGET,
            label="Buy for",
            # Picking a target tells the app at once, so a full faxbox is said before a search.
            dispatch_action=True,
            element=StaticSelectElement(
                action_id=ActionId.BUY_TARGET,
                placeholder="Choose a target",
                options=list(options.values()),
                initial_option=options[form.target],
            ),
        ),
        InputBlock(
            block_id=BlockId.BUY_USER,
            label="User",
            optional=True,
            hint="Only for “A user”: the person the numbers ring.",
            element=UserSelectElement(
                action_id=ActionId.BUY_USER,
                placeholder="Choose a person",
                initial_user=form.user_id,
            ),
        ),
    ]
    if form.target_notice:
        blocks.append(target_notice_block(form.target_notice))
    return blocks


def _search_blocks(form: BuyForm) -> list[Block]:
    kinds = {kind: _option(text, kind.value) for kind, text in KIND_LABELS.items()}
    blocks: list[Block] = [
        ActionsBlock(
            block_id=BlockId.BUY_KIND,
            elements=[
                RadioButtonsElement(
                    action_id=ActionId.BUY_KIND,
                    options=list(kinds.values()),
                    initial_option=kinds[form.kind],
                )
            ],
        )
    ]
    if form.kind is Kind.LOCAL:
        blocks.append(
            InputBlock(
                block_id=BlockId.BUY_AREA_CODE,
                label="Area code",
                optional=True,
                hint="3 digits (415) or area code and exchange (415-629).",
                element=PlainTextInputElement(
                    action_id=ActionId.BUY_AREA_CODE,
                    placeholder="415",
                    initial_value=form.area_code or None,
                    max_length=20,
                ),
            )
        )
    else:
        prefixes = {p: _option(p, p) for p in TOLLFREE_PREFIXES}
        blocks.append(
            InputBlock(
                block_id=BlockId.BUY_PREFIX,
                label="Prefix",
                optional=True,
                element=StaticSelectElement(
                    action_id=ActionId.BUY_PREFIX,
                    placeholder="Choose a prefix",
                    options=list(prefixes.values()),
                    initial_option=prefixes.get(form.prefix or ""),
                ),
            )
        )
    if form.notice:
        blocks.append(
            ContextBlock(
                block_id=BlockId.BUY_NOTICE,
                elements=[MarkdownTextObject(text=f":warning: {escape(form.notice)}")],
            )
        )
    blocks.append(
        ActionsBlock(
            block_id=BlockId.BUY_BUTTONS,
            elements=[
                ButtonElement(text="Search", action_id=ActionId.BUY_SEARCH, style="primary"),
                ButtonElement(text="Add from Spare Numbers", action_id=ActionId.BUY_SHOW_SPARES),
            ],
        )
    )
    return blocks


def _results_blocks(results: Results, currency: str) -> list[Block]:
    spares = [o for o in results.offers if o.spare]
    offered = [o for o in results.offers if not o.spare]
    if not results.offers:
        text = f"No numbers found for {escape(results.label)}. Try another area code."
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    summary = f"{_bold_count(len(offered))} for sale for {escape(results.label)}"
    if spares:
        summary += f", and {_bold_count(len(spares), 'spare number')} of yours (free)"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=summary + "."))]
    prefix = f"{BlockId.BUY_RESULTS}.{results.key}"
    if spares:
        blocks += _checkbox_groups(
            f"{prefix}.s",
            ActionId.BUY_RESULTS,
            "Spare numbers",
            [_option(offer_label(o, currency), o.e164) for o in spares],
        )
    if offered:
        blocks += _checkbox_groups(
            f"{prefix}.a",
            ActionId.BUY_RESULTS,
            "Numbers",
            [_option(offer_label(o, currency), o.e164) for o in offered],
        )
    return blocks


def _bold_count(n: int, noun: str = "number") -> str:
    """`*1* number`, `*2* numbers`."""
    return f"*{n}* {noun}" if n == 1 else f"*{n}* {noun}s"


def _spare_blocks(spares: Sequence[NumberRecord]) -> list[Block]:
    if not spares:
        text = "The account has no spare numbers that match. Search to buy new ones."
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{_bold_count(len(spares), 'spare number')}: assigning "
                f"{'it' if len(spares) == 1 else 'them'} costs nothing."
            )
        )
    ]
    options = [_option(f"{s.display} · spare · free", s.e164) for s in spares]
    blocks += _checkbox_groups(
        BlockId.BUY_SPARES, ActionId.BUY_SPARE_PICK, "Spare numbers to add", options
    )
    blocks.append(
        ActionsBlock(
            block_id=BlockId.BUY_SPARE_BUTTONS,
            elements=[
                ButtonElement(text="Add selected numbers", action_id=ActionId.BUY_ADD_SPARES)
            ],
        )
    )
    return blocks


def buy_modal(form: BuyForm) -> View:
    blocks: list[Block] = [account_context(form.account_name)] if form.account_name else []
    blocks += _target_blocks(form) + _search_blocks(form)
    if form.results is not None:
        blocks += _results_blocks(form.results, form.currency)
    if form.spares is not None:
        blocks += _spare_blocks(form.spares)
    return View(
        type="modal",
        callback_id=CallbackId.BUY,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        private_metadata=form.meta.dump(),
        blocks=blocks,
    )


@lru_cache(maxsize=64)
def _opening_modal(form: BuyForm) -> dict[str, Any]:
    return buy_modal(form).to_dict()


def opening_modal(form: BuyForm) -> dict[str, Any]:
    """The modal as `/numbers buy` first opens it, as a dict.

    Built and checked against Slack's limits once per shape, then reused: the
    command is answered on a busy event loop, and slack_sdk validates a `View`
    object again on every call but sends a dict as it is.
    """
    assert form.results is None and form.spares is None
    view = dict(_opening_modal(replace(form, meta=BuyMeta())))
    view["private_metadata"] = form.meta.dump()
    return view


_VIEW_KEYS = ("type", "callback_id", "title", "submit", "close", "private_metadata")


def with_target_notice(view: dict[str, Any], text: str | None) -> dict[str, Any] | None:
    """The open modal as it is, with the target's notice shown or removed.

    Everything else (a search's results, what the user typed) stays; None when
    nothing would change, so the modal is not redrawn for nothing.
    """
    blocks: list[dict[str, Any]] = list(view.get("blocks") or [])
    kept = [b for b in blocks if b.get("block_id") != BlockId.BUY_TARGET_NOTICE]
    if text is None and len(kept) == len(blocks):
        return None
    if text is not None:
        notice = target_notice_block(text).to_dict()
        if notice in blocks:
            return None
        at = next(
            (i + 1 for i, b in enumerate(kept) if b.get("block_id") == BlockId.BUY_USER),
            len(kept),
        )
        kept.insert(at, notice)
    redrawn = {key: view[key] for key in _VIEW_KEYS if key in view}
    redrawn["blocks"] = kept
    return redrawn


def spares_added_modal(text: str) -> View:
    """What the modal shows once spare numbers were assigned: no purchase, no bill change."""
    return View(
        type="modal",
        callback_id=CallbackId.BUY,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(block_id=BlockId.BUY_DONE, text=MarkdownTextObject(text=text))],
    )
