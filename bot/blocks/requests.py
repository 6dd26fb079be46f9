"""`/numbers requests` (and the App Home's requests): each request with its numbers,
target, state in words, who accepted and decided and why, and when; with `Cancel` for
the requester's open ones and `Approve`/`Reject` for approvers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import assert_never

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.ids import ActionId, ManageId
from bot.blocks.payloads import CardRef, RequestsRef
from bot.blocks.text import MAX_MESSAGE_BLOCKS, count, echo, escape, mention, target_text, when
from bot.domain.phone import display
from bot.domain.purchase import RequestFilter
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import OPEN_REQUEST_STATES, ItemOutcome, RequestState

STATE_WORDS: dict[RequestState, str] = {
    RequestState.QUOTED: "Waiting for Accept",
    RequestState.AWAITING_APPROVAL: "Awaiting approval",
    RequestState.PROVISIONING: "Buying",
    RequestState.COMPLETED: "Bought",
    RequestState.PARTIALLY_COMPLETED: "Partly bought",
    RequestState.FAILED: "Failed",
    RequestState.REJECTED: "Rejected",
    RequestState.CANCELLED: "Cancelled",
    RequestState.EXPIRED: "Expired",
}
NUMBERS_SHOWN = 10
REASON_LIMIT = 300
_PAST_APPROVAL = frozenset(
    {
        RequestState.PROVISIONING,
        RequestState.COMPLETED,
        RequestState.PARTIALLY_COMPLETED,
        RequestState.FAILED,
    }
)
MayDecide = Callable[[PurchaseRequestRecord], bool]


def accepted_by(request: PurchaseRequestRecord) -> str | None:
    """Who pressed Accept, if anyone has."""
    return request.accepted_by


def _numbers(request: PurchaseRequestRecord) -> str:
    shown = [f"• {escape(display(i.number))}" for i in request.items[:NUMBERS_SHOWN]]
    more = len(request.items) - NUMBERS_SHOWN
    return "\n".join(shown) + (f"\n• and {more} more" if more > 0 else "")


def _outcome(request: PurchaseRequestRecord) -> str:
    if request.state not in (RequestState.PARTIALLY_COMPLETED, RequestState.FAILED):
        return ""
    bought = len(request.items_with(ItemOutcome.BOUGHT))
    failed = len(request.items_with(ItemOutcome.FAILED))
    return f" ({bought} bought, {failed} failed)"


def decision_text(request: PurchaseRequestRecord) -> str:
    """Who accepted, who decided and why, in words."""
    state = request.state
    parts = []
    accepter = accepted_by(request)
    if accepter:
        parts.append(f"accepted by {mention(accepter)} at {when(request.accepted_at)}")
    decider = mention(request.decided_by) if request.decided_by else None
    at = when(request.decided_at)
    if state is RequestState.QUOTED:
        parts.append(f"held until {when(request.hold_expires_at)}")
    elif state is RequestState.AWAITING_APPROVAL:
        parts.append(f"waiting for an approver; held until {when(request.hold_expires_at)}")
    elif state in _PAST_APPROVAL:
        parts.append(f"approved by {decider} at {at}" if decider else "no approval needed")
    elif state is RequestState.REJECTED:
        why = (
            f": “{echo(request.reason, REASON_LIMIT)}”" if request.reason else " (no reason given)"
        )
        parts.append(f"rejected by {decider or 'an approver'} at {at}{why}")
    elif state is RequestState.CANCELLED:
        parts.append(f"cancelled by {decider or mention(request.requester_id)} at {at}")
    elif state is RequestState.EXPIRED:
        parts.append(f"expired at {when(request.updated_at)}: the hold ran out")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def request_text(request: PurchaseRequestRecord, account_name: str | None = None) -> str:
    target = target_text(request.target.label, request.target.user_id)
    where = f" · account *{echo(account_name, 64)}*" if account_name else ""
    return (
        f"*{STATE_WORDS[request.state]}*{_outcome(request)} · "
        f"{count(len(request.items))} for {target}{where}\n"
        f"{_numbers(request)}\n"
        f"Requested by {mention(request.requester_id)} at {when(request.created_at)}. "
        f"{decision_text(request)}."
    )


def _ref(request: PurchaseRequestRecord, which: str | None) -> str:
    return RequestsRef(request_id=request.id, which=which).dump()


def request_blocks(
    request: PurchaseRequestRecord,
    *,
    viewer_id: str,
    may_decide: MayDecide,
    which: str | None,
    account_name: str | None = None,
) -> list[Block]:
    """One request: its text, `Cancel` for its requester while open, `Approve`/`Reject`
    for an approver who may decide it."""
    section = SectionBlock(text=MarkdownTextObject(text=request_text(request, account_name)))
    if request.state in OPEN_REQUEST_STATES and request.requester_id == viewer_id:
        section.accessory = ButtonElement(
            text="Cancel", action_id=ManageId.REQUESTS_CANCEL, value=_ref(request, which)
        )
    blocks: list[Block] = [section]
    if request.state is RequestState.AWAITING_APPROVAL and may_decide(request):
        card = CardRef(request_id=request.id).dump()
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Approve",
                        action_id=ManageId.REQUESTS_APPROVE,
                        value=_ref(request, which),
                        style="primary",
                    ),
                    # The card's own Reject: it asks for the reason in the same modal.
                    ButtonElement(
                        text="Reject", action_id=ActionId.CARD_REJECT, value=card, style="danger"
                    ),
                ]
            )
        )
    return blocks


def titles(which: RequestFilter) -> tuple[str, str]:
    """A list's title, and what it says when empty; mypy checks every filter has both."""
    match which:
        case RequestFilter.MINE:
            return "Your purchase requests", "You have no purchase requests."
        case RequestFilter.PENDING:
            return (
                "Purchase requests awaiting approval",
                "No purchase request is awaiting approval.",
            )
        case RequestFilter.ALL:
            return "Purchase requests", "No purchase requests."
        case _:
            assert_never(which)


def requests_view(
    requests: Sequence[PurchaseRequestRecord],
    *,
    which: str,
    viewer_id: str,
    may_decide: MayDecide,
    account_names: Mapping[str, str],
) -> tuple[str, list[Block]]:
    """Newest first; each request's account is named (a workspace may have several)."""
    title, empty = titles(RequestFilter.parse(which))
    if not requests:
        return empty, [SectionBlock(text=MarkdownTextObject(text=empty))]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{title}*"))]
    shown = 0
    for request in requests:
        more = request_blocks(
            request,
            viewer_id=viewer_id,
            may_decide=may_decide,
            which=which,
            account_name=account_names.get(request.account_id),
        )
        if len(blocks) + len(more) > MAX_MESSAGE_BLOCKS - 1:
            break
        blocks += more
        shown += 1
    if shown < len(requests):
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text=f"The newest {shown} of {len(requests)} are shown.")
                ]
            )
        )
    return f"{title}: {count(len(requests), 'request')}", blocks
