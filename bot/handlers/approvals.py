"""Buttons on the billing and approval cards: Accept, Cancel, Approve, Reject, Retry.

Each click is one conditional transition in the service; a click on a card
that is out of date loses there (Conflict) and the person is told, privately,
who decided and when. The card itself is left alone: the winner redraws it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.cards import reject_modal, stale_text
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import CardRef, RejectMeta
from bot.handlers.cards import post_response
from bot.handlers.errors import field_errors
from bot.handlers.kit import Kit, Track, actor_of, kit_of
from bot.service.context import Actor
from bot.service.errors import Conflict, NumbersBotError, StaleRequest
from bot.service.purchases import HoldExpired, PurchaseService

Json = dict[str, Any]
T = TypeVar("T")


def _ref(body: Json) -> CardRef:
    return CardRef.model_validate_json(body["actions"][0]["value"])


def _ephemeral_card_url(body: Json) -> str | None:
    """A card shown only through a response_url (private channel) is redrawn through it."""
    container = body.get("container") or {}
    return body.get("response_url") if container.get("is_ephemeral") else None


def _stale(conflict: Conflict) -> str:
    # The service hands back the request as it is now: no second read to explain it.
    if isinstance(conflict, StaleRequest):
        return stale_text(conflict.request)
    return conflict.message


async def _tell(kit: Kit, body: Json, respond: AsyncRespond, text: str) -> None:
    """An ephemeral answer to the clicker, reusing the app's connections when it has them."""
    url = body.get("response_url")
    if kit.http is None or not url:
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    await post_response(url, kit.http, text=text, response_type="ephemeral", replace_original=False)


async def _card_click(
    ack: AsyncAck,
    body: Json,
    context: AsyncBoltContext,
    respond: AsyncRespond,
    move: Callable[[PurchaseService, Actor, str], Awaitable[T]],
) -> tuple[Kit, T] | None:
    """Ack, then move the card's request; a stale click is answered and goes no further."""
    await ack()
    kit, ref = kit_of(context), _ref(body)
    actor = await actor_of(context)
    try:
        return kit, await move(kit.services.purchases, actor, ref.request_id)
    except Conflict as exc:
        await _tell(kit, body, respond, _stale(exc))
        if isinstance(exc, HoldExpired):  # this click expired it: its cards say so now
            await kit.cards.announce(exc.request, response_url=_ephemeral_card_url(body))
        return None


async def on_accept(
    ack: AsyncAck, body: Json, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    clicked = await _card_click(ack, body, context, respond, PurchaseService.accept)
    if clicked is None:
        return
    kit, accepted = clicked
    url = _ephemeral_card_url(body)
    if accepted.needs_approval:
        await kit.cards.ask_approvers(accepted.request, response_url=url)
        return
    await kit.cards.refresh(accepted.request, response_url=url)
    await kit.cards.provision(accepted.request.id, response_url=url)


async def on_cancel(
    ack: AsyncAck, body: Json, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    clicked = await _card_click(ack, body, context, respond, PurchaseService.cancel)
    if clicked is not None:
        kit, request = clicked
        await kit.cards.refresh(request, response_url=_ephemeral_card_url(body))


async def on_approve(
    ack: AsyncAck, body: Json, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    clicked = await _card_click(ack, body, context, respond, PurchaseService.approve)
    if clicked is not None:
        kit, request = clicked
        await kit.cards.refresh(request)
        await kit.cards.provision(request.id)


async def on_reject_click(
    ack: AsyncAck, body: Json, client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Reject opens a small modal for an optional reason; the decision happens on submit."""
    await ack()
    ref = _ref(body)
    meta = RejectMeta(request_id=ref.request_id)
    await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(meta))


async def on_reject_submit(ack: AsyncAck, body: Json, context: AsyncBoltContext) -> None:
    kit = kit_of(context)
    view = body["view"]
    meta = RejectMeta.model_validate_json(view["private_metadata"])
    entry = view["state"]["values"].get(BlockId.REJECT_REASON, {}).get(ActionId.REJECT_REASON, {})
    actor = await actor_of(context)
    try:
        request = await kit.services.purchases.reject(actor, meta.request_id, entry.get("value"))
    except Conflict as exc:
        text = _stale(exc)
        await ack(response_action="errors", errors={BlockId.REJECT_REASON: text})
        if isinstance(exc, HoldExpired):
            await kit.cards.announce(exc.request)
        return
    except NumbersBotError as exc:
        errors = field_errors(exc, {"reason": BlockId.REJECT_REASON}, BlockId.REJECT_REASON)
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    await kit.cards.announce(request)


async def on_retry(
    ack: AsyncAck, body: Json, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    """A new quote for the numbers that failed; it gets its own billing card."""
    await ack()
    kit, ref = kit_of(context), _ref(body)
    actor = await actor_of(context)
    request = await kit.services.purchases.retry(actor, ref.request_id)
    await kit.cards.post_billing_card(
        request, request.channel_id, body.get("response_url"), trigger_id=body.get("trigger_id")
    )


def register(app: AsyncApp, track: Track) -> None:
    app.action(ActionId.CARD_ACCEPT)(track(on_accept))
    app.action(ActionId.CARD_CANCEL)(track(on_cancel))
    app.action(ActionId.CARD_APPROVE)(track(on_approve))
    app.action(ActionId.CARD_REJECT)(track(on_reject_click))
    app.action(ActionId.CARD_RETRY)(track(on_retry))
    app.view(CallbackId.REJECT)(track(on_reject_submit))
