"""The billing card (requester) and the approval card (approvers) of a purchase request.

Both are drawn from the request record alone, so any replica can redraw them in
place (`chat.update`) whenever the request moves.
"""

from __future__ import annotations

from decimal import Decimal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.buy import chunks
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import CardRef, MenuPick, RejectMeta
from bot.blocks.text import MAX_MESSAGE_BLOCKS, count, escape, mention, target_text, when
from bot.domain.billing import Quote, format_money
from bot.domain.phone import display
from bot.domain.records import PurchaseItemRecord, PurchaseRequestRecord
from bot.domain.states import ItemOutcome, RequestState

# Held numbers a request lets go are free again (never "released": that is a number's
# own lifecycle, which ages it).
LET_GO = "the numbers it held are free again"


def _active_within(n: int) -> str:
    return f"{'It' if n == 1 else 'They'} will be active within 5 minutes."


def _reason(request: PurchaseRequestRecord) -> str:
    """`: “Too expensive”.` after "Rejected by …", or a full stop when none was given."""
    return f": “{escape(request.reason)}”." if request.reason else "."


_NUMBERS_PER_SECTION = 20  # 20 lines of ~70 characters stay under a section's 3000


def _md(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), block_id=block_id)


def _item_line(item: PurchaseItemRecord, state: RequestState) -> str:
    line = escape(display(item.number))
    if item.spare:
        line += " · spare · free"
    if item.outcome is ItemOutcome.BOUGHT:
        return f":white_check_mark: {line}"
    if item.outcome is ItemOutcome.FAILED:
        return f":x: {line} — failed: {escape(item.reason or 'unknown reason')}"
    if item.outcome is ItemOutcome.RELEASED:
        return f":heavy_minus_sign: {line}"
    return f":hourglass: {line}" if state is RequestState.PROVISIONING else f"• {line}"


def _numbers(request: PurchaseRequestRecord) -> list[Block]:
    lines = [_item_line(i, request.state) for i in request.items]
    return [_md("\n".join(part)) for part in chunks(lines, _NUMBERS_PER_SECTION)]


def quote_text(quote: Quote) -> str:
    def fmt(amount: Decimal) -> str:
        return format_money(amount, quote.currency)

    lines = [
        f"{escape(i.name)}: {i.quantity} × {fmt(i.rate)} = {fmt(i.total)}/mo" for i in quote.items
    ]
    if quote.spare_count:
        lines.append(f"Spare numbers: {quote.spare_count} × free")
    diff = quote.difference
    sign = "+" if diff >= 0 else ""
    lines.append(
        f"*Monthly bill:* {fmt(quote.monthly_before)} → {fmt(quote.monthly_after)} "
        f"({sign}{fmt(diff)})"
    )
    lines.append(f"*Activation charges today:* {fmt(quote.activation_today)}")
    return "\n".join(lines)


def _decided(request: PurchaseRequestRecord) -> str:
    return f"{mention(request.decided_by or request.requester_id)} at {when(request.decided_at)}"


def _accepter(request: PurchaseRequestRecord) -> str:
    return mention(request.accepted_by or request.requester_id)


def _cancelled_by_bot(request: PurchaseRequestRecord) -> bool:
    """Cancelled by the bot itself (nobody could see or decide it): no decider is named."""
    return request.state is RequestState.CANCELLED and not request.decided_by


def status_text(request: PurchaseRequestRecord, *, for_approver: bool = False) -> str:
    state = request.state
    n = len(request.items)
    bought = len(request.items_with(ItemOutcome.BOUGHT))
    failed = request.items_with(ItemOutcome.FAILED)
    approved = f" Approved by {_decided(request)}." if request.decided_by else ""
    if state is RequestState.QUOTED:
        return (
            "Review the monthly billing change, then *Accept* or *Cancel*. "
            f"The numbers are held until {when(request.hold_expires_at)}."
        )
    held = f"The numbers are held until {when(request.hold_expires_at)}."
    if state is RequestState.AWAITING_APPROVAL:
        if for_approver:
            return f"*Approve* or *Reject*. {held}"
        return (
            f":hourglass: Accepted by {_accepter(request)}; awaiting approval. "
            f"The numbers are held until {when(request.hold_expires_at)}."
        )
    if state is RequestState.PROVISIONING:
        done = n - len(request.items_with(ItemOutcome.PENDING))
        return f":gear: Purchasing… {done} of {n} done.{approved}"
    if state is RequestState.COMPLETED:
        if request.activation_notified_at:
            active = "it is active now" if n == 1 else "all of them are active now"
            return f":white_check_mark: Bought {count(n)}; {active}.{approved}"
        return f":white_check_mark: Bought {count(n)}. {_active_within(n)}{approved}"
    if state is RequestState.PARTIALLY_COMPLETED:
        tail = (
            "The bought ones are active now."
            if request.activation_notified_at
            else "The bought ones will be active within 5 minutes."
        )
        return (
            f":warning: Bought {bought} of {n} numbers; {len(failed)} failed (named above). "
            f"{tail}{approved}"
        )
    if state is RequestState.FAILED:
        return f":x: The purchase failed: no number was bought (reasons above).{approved}"
    if state is RequestState.REJECTED:
        return f":no_entry: Rejected by {_decided(request)}{_reason(request)} Nothing was bought."
    if _cancelled_by_bot(request):
        why = escape(request.reason or "nobody could act on it")
        return (
            f":warning: Cancelled at {when(request.updated_at)}: {why}. Nothing was bought "
            f"and {LET_GO}."
        )
    if state is RequestState.CANCELLED:
        return f":heavy_multiplication_x: Cancelled by {_decided(request)}. Nothing was bought."
    return (
        f":hourglass_flowing_sand: Expired at {when(request.updated_at)}: the hold ran out and "
        f"{LET_GO}. Search again to buy."
    )


def _button(
    text: str, action: ActionId, request: PurchaseRequestRecord, style: str | None = None
) -> ButtonElement:
    value = CardRef(request_id=request.id).dump()
    return ButtonElement(text=text, action_id=action, value=value, style=style)


def _title(request: PurchaseRequestRecord, account_name: str) -> str:
    target = target_text(request.target.label, request.target.user_id)
    accepted = f", accepted by {mention(request.accepted_by)}" if request.accepted_by else ""
    return (
        f"*Buy {count(len(request.items))}* for *{target}* "
        f"on account *{escape(account_name)}* "
        f"(requested by {mention(request.requester_id)}{accepted})"
    )


def _card(
    request: PurchaseRequestRecord,
    account_name: str,
    buttons: list[ButtonElement],
    for_approver: bool,
) -> list[Block]:
    blocks: list[Block] = [_md(_title(request, account_name))]
    blocks += _numbers(request)
    blocks.append(_md(quote_text(request.quote)))
    blocks.append(
        ContextBlock(
            elements=[MarkdownTextObject(text=status_text(request, for_approver=for_approver))]
        )
    )
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.CARD_ACTIONS, elements=buttons))
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    return blocks


def billing_card(
    request: PurchaseRequestRecord, account_name: str, *, offer_e911: bool = False
) -> tuple[str, list[Block]]:
    """What the requester sees in the channel; buttons only while they can act.

    `offer_e911`: the main line was bought and no main number is emergency enabled
    yet, so the card offers `e911` for the first new number (as SmartPBX prompts).
    """
    buttons: list[ButtonElement] = []
    if request.state is RequestState.QUOTED:
        buttons = [
            _button("Accept", ActionId.CARD_ACCEPT, request, "primary"),
            _button("Cancel", ActionId.CARD_CANCEL, request),
        ]
    elif request.state is RequestState.AWAITING_APPROVAL:
        buttons = [_button("Cancel", ActionId.CARD_CANCEL, request)]
    elif request.state in (RequestState.PARTIALLY_COMPLETED, RequestState.FAILED):
        buttons = [_button("Retry", ActionId.CARD_RETRY, request, "primary")]
    bought = request.items_with(ItemOutcome.BOUGHT)
    if offer_e911 and bought:
        pick = MenuPick(op="e911", number=bought[0].number, account_id=request.account_id).dump()
        buttons.append(ButtonElement(text="e911", action_id=ActionId.CARD_E911, value=pick))
    n = len(request.items)
    text = f"Purchase of {n} numbers: {request.state.value.replace('_', ' ')}"
    return text, _card(request, account_name, buttons, for_approver=False)


def approval_card(
    request: PurchaseRequestRecord,
    account_name: str,
    *,
    shared: bool = False,
    self_approval: bool = False,
) -> tuple[str, list[Block]]:
    """What approvers see; Approve/Reject only while the request awaits approval.

    `shared`: the card is in the approvals channel, where everyone sees the same buttons,
    the person who accepted included; it says that they may not decide it (four eyes).
    """
    buttons: list[ButtonElement] = []
    if request.state is RequestState.AWAITING_APPROVAL:
        buttons = [
            _button("Approve", ActionId.CARD_APPROVE, request, "primary"),
            _button("Reject", ActionId.CARD_REJECT, request, "danger"),
        ]
    n = len(request.items)
    text = f"Approval needed: {mention(request.requester_id)} wants to buy {n} numbers"
    blocks = _card(request, account_name, buttons, for_approver=True)
    if shared and buttons and request.accepted_by and not self_approval:
        note = (
            f"{mention(request.accepted_by)} accepted this request, so another approver "
            "approves or rejects it."
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return text, blocks


def stale_text(request: PurchaseRequestRecord) -> str:
    """The answer to a click on a card that no longer shows the request's state."""
    state = request.state
    if state is RequestState.EXPIRED:
        return f"This request already expired at {when(request.updated_at)}."
    if state is RequestState.QUOTED:
        return "This request is still waiting for its requester to accept it."
    if state is RequestState.AWAITING_APPROVAL:
        when_ = when(request.accepted_at)
        return f"This request was already accepted by {_accepter(request)} at {when_}."
    if _cancelled_by_bot(request):
        return f"This request was already cancelled at {when(request.updated_at)}."
    if state in (RequestState.REJECTED, RequestState.CANCELLED):
        return f"This request was already {state.value} by {_decided(request)}."
    if request.decided_by:
        return f"This request was already approved by {_decided(request)}."
    when_ = when(request.accepted_at)
    return f"This request was already accepted by {_accepter(request)} at {when_}."


def bought_text(request: PurchaseRequestRecord) -> str:
    """The note to the requester once provisioning ends."""
    bought = request.items_with(ItemOutcome.BOUGHT)
    failed = request.items_with(ItemOutcome.FAILED)
    lines = [f"{mention(request.requester_id)} "]
    if bought:
        names = ", ".join(escape(display(i.number)) for i in bought)
        target = target_text(request.target.label, request.target.user_id)
        noun = "number is" if len(bought) == 1 else "numbers are"
        lines[0] += f"your {noun} bought for {target}: {names}. "
        lines[0] += _active_within(len(bought))
    else:
        lines[0] += "no number could be bought."
    for item in failed:
        lines.append(f"• {escape(display(item.number))} failed: {escape(item.reason or 'unknown')}")
    return "\n".join(lines)


def given_text(request: PurchaseRequestRecord) -> str | None:
    """The DM to the person numbers were bought for (when someone else bought them)."""
    user = request.target.user_id
    bought = request.items_with(ItemOutcome.BOUGHT)
    if not user or user == request.requester_id or not bought:
        return None
    names = ", ".join(escape(display(i.number)) for i in bought)
    return (
        f"{mention(request.requester_id)} got you {count(len(bought), 'new number')}: "
        f"{names}. {_active_within(len(bought))}"
    )


def moved_text(request: PurchaseRequestRecord) -> str | None:
    """The @-mention for a request that ended without a purchase, None for other moves."""
    who = mention(request.requester_id)
    what = f"your purchase of {count(len(request.items))}"
    if request.state is RequestState.REJECTED:
        return (
            f"{who} {what} was rejected by {_decided(request)}{_reason(request)} "
            f"Nothing was bought and {LET_GO}."
        )
    if request.state is RequestState.EXPIRED:
        return (
            f"{who} {what} expired at {when(request.updated_at)}: the hold ran out and "
            f"{LET_GO}. Search again to buy."
        )
    if _cancelled_by_bot(request):
        why = escape(request.reason or "nobody could act on it")
        return (
            f"{who} {what} was cancelled: {why}. Nothing was bought and {LET_GO}. "
            "Search again to buy."
        )
    return None


def unposted_modal(request: PurchaseRequestRecord) -> View:
    """Said where the user last was when their billing card could be shown nowhere."""
    text = (
        f":warning: I could not show you the billing card for {count(len(request.items))} "
        "(Slack refused every way to post it), so I cancelled the request: nothing was "
        f"bought, and {LET_GO}. Try again in a moment."
    )
    return View(
        type="modal",
        title=PlainTextObject(text="Buy Numbers"),
        close=PlainTextObject(text="Close"),
        blocks=[_md(text)],
    )


def active_text(request: PurchaseRequestRecord) -> str:
    bought = request.items_with(ItemOutcome.BOUGHT)
    names = ", ".join(escape(display(i.number)) for i in bought)
    return f"{mention(request.requester_id)} your numbers are active now: {names}."


def reject_modal(meta: RejectMeta) -> View:
    """Reject asks for an optional reason; it is shown on every card of the request."""
    return View(
        type="modal",
        callback_id=CallbackId.REJECT,
        title=PlainTextObject(text="Reject purchase"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Back"),
        private_metadata=meta.dump(),
        blocks=[
            InputBlock(
                block_id=BlockId.REJECT_REASON,
                label="Reason",
                optional=True,
                hint="Optional; the requester sees it.",
                element=PlainTextInputElement(
                    action_id=ActionId.REJECT_REASON, multiline=True, max_length=500
                ),
            )
        ],
    )
