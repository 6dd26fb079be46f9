"""Buttons on the billing and approval cards: Accept, Cancel, Approve, Reject, Retry.

Each click is one conditional transition in the service; a click on a card
that is out of date loses there (Conflict) and the person is told, privately,
who decided and when. The card itself is left alone: the winner redraws it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp

from bot.blocks.cards import reject_modal
from bot.blocks.errors import error_text
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import CardRef, RejectMeta
from bot.domain.errors import Conflict, NumbersBotError
from bot.domain.records import PurchaseRequestRecord
from bot.handlers.cards import post_response
from bot.handlers.context import Click, Submission, on_click, on_submit
from bot.handlers.errors import field_errors
from bot.handlers.kit import Track
from bot.service.context import Actor
from bot.service.ports import Reply
from bot.service.purchase import PurchaseService

Json = dict[str, Any]
T = TypeVar("T")


def _ephemeral_card_url(click: Click[CardRef]) -> str | None:
    """A card shown only through a response_url (private channel) is redrawn through it."""
    container = click.body.get("container") or {}
    return click.response_url if container.get("is_ephemeral") else None


def _stale(conflict: Conflict) -> str:
    # The service hands back the request as it is now: no second read to explain it.
    return error_text(conflict)


async def _tell(click: Click[CardRef], text: str) -> None:
    """An ephemeral answer to the clicker, reusing the app's connections when it has them."""
    url, http = click.response_url, click.kit.http
    if http is None or not url:
        await click.respond(text=text, response_type="ephemeral", replace_original=False)
        return
    await post_response(url, http, text=text, response_type="ephemeral", replace_original=False)


def _reply(click: Click[CardRef]) -> Reply:
    """A card shown only through a response_url (private channel) is redrawn through it."""
    return Reply(response_url=_ephemeral_card_url(click))


async def _card_click(
    click: Click[CardRef], move: Callable[[PurchaseService, Actor, str, Reply], Awaitable[T]]
) -> None:
    """One use case moves the card's request and does what follows; a stale click is
    answered here and goes no further."""
    kit = click.kit
    try:
        await move(kit.services.purchases, click.actor, click.payload.request_id, _reply(click))
    except Conflict as exc:
        await _tell(click, _stale(exc))


async def on_accept(click: Click[CardRef]) -> None:
    await _card_click(click, PurchaseService.accept)


async def on_cancel(click: Click[CardRef]) -> None:
    await _card_click(click, PurchaseService.cancel)


async def on_approve(click: Click[CardRef]) -> None:
    await _card_click(click, PurchaseService.approve)


async def on_reject_click(click: Click[CardRef]) -> None:
    """Reject opens a small modal for an optional reason; the decision happens on submit."""
    meta = RejectMeta(request_id=click.payload.request_id)
    await click.client.views_open(trigger_id=click.trigger_id, view=reject_modal(meta))


async def on_reject_submit(sub: Submission[RejectMeta]) -> None:
    kit, ack = sub.kit, sub.ack
    entry = sub.values.get(BlockId.REJECT_REASON, {}).get(ActionId.REJECT_REASON, {})

    async def closed(_: PurchaseRequestRecord) -> None:
        await ack()

    try:
        await kit.services.purchases.reject(
            sub.actor, sub.meta.request_id, entry.get("value"), Reply(answer=closed)
        )
    except Conflict as exc:
        await ack(response_action="errors", errors={BlockId.REJECT_REASON: _stale(exc)})
    except NumbersBotError as exc:
        errors = field_errors(exc, {"reason": BlockId.REJECT_REASON}, BlockId.REJECT_REASON)
        await ack(response_action="errors", errors=errors)


async def on_retry(click: Click[CardRef]) -> None:
    """A new quote for the numbers that failed; it gets its own billing card."""
    reply = Reply(response_url=click.response_url, trigger_id=click.trigger_id or None)
    await click.kit.services.purchases.retry(click.actor, click.payload.request_id, reply)


def register(app: AsyncApp, track: Track) -> None:
    app.action(ActionId.CARD_ACCEPT)(track(on_click(CardRef, on_accept)))
    app.action(ActionId.CARD_CANCEL)(track(on_click(CardRef, on_cancel)))
    app.action(ActionId.CARD_APPROVE)(track(on_click(CardRef, on_approve)))
    app.action(ActionId.CARD_REJECT)(track(on_click(CardRef, on_reject_click)))
    app.action(ActionId.CARD_RETRY)(track(on_click(CardRef, on_retry)))
    app.view(CallbackId.REJECT)(track(on_submit(RejectMeta, on_reject_submit)))
