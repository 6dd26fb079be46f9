"""The `e911` modal: open it, save an address (or choose among candidates), remove it.

The address is validated while Slack waits for the submission's answer, so a
bad field or a geocoder refusal shows on that field and the modal stays open;
the simulated geocoder answers at once, and a real one within the 3 seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.e911 import (
    FIELD_BLOCKS,
    as_fields,
    choose_modal,
    done_modal,
    e911_modal,
    form_fields,
    removed_text,
    saved_text,
)
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import E911Meta
from bot.handlers.context import Click, Submission, named, on_click, on_submit
from bot.handlers.errors import field_errors, user_message
from bot.handlers.home_publish import republish_homes
from bot.handlers.kit import Kit, Track
from bot.handlers.notify import confirm
from bot.service.context import Actor
from bot.service.errors import NumbersBotError

log = logging.getLogger(__name__)
Json = dict[str, Any]


async def open_e911_modal(
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    number: str,
    *,
    trigger_id: str,
    channel_id: str | None,
    response_url: str | None,
) -> None:
    """Refused before any modal opens for a non-admin or a number not the account's."""
    actor.require_admin("set e911 addresses")
    record = await kit.services.numbers.get(actor, number, channel_id=channel_id)
    meta = E911Meta(number=record.e164, channel_id=channel_id, response_url=response_url)
    price = await kit.services.e911.price(actor, record, channel_id=channel_id)
    modal = e911_modal(record, meta, price=price, simulated=_simulated(kit))
    await client.views_open(trigger_id=trigger_id, view=modal)


def _simulated(kit: Kit) -> bool:
    """The embedded backend's geocoder is simulated: the modal says how to steer it."""
    return kit.settings.backend == "embedded"


async def _save(sub: Submission[E911Meta], fields: dict[str, Any], default_block: str) -> None:
    """Save an address; answer the submission with field errors, candidates, or close."""
    kit, actor, meta, ack, view = sub.kit, sub.actor, sub.meta, sub.ack, sub.view
    key = f"{view['id']}:{view.get('hash')}"
    if not await kit.services.deliveries.first_time(key):
        await ack()  # a repeated delivery: the first one is being handled
        return
    try:
        result = await kit.services.e911.set_address(
            actor, meta.number, fields, channel_id=meta.channel_id
        )
    except NumbersBotError as exc:
        await kit.services.deliveries.forget(key)
        await ack(response_action="errors", errors=field_errors(exc, FIELD_BLOCKS, default_block))
        return
    except BaseException:
        # Any other failure gives the claim back too, so the person's retry is not dropped.
        await kit.services.deliveries.forget(key)
        raise
    if not result.saved:
        await kit.services.deliveries.forget(key)
        caller = fields.get("caller_name")
        candidates = tuple(as_fields(c) for c in result.candidates)
        if caller:
            candidates = tuple(c.model_copy(update={"caller_name": caller}) for c in candidates)
        chosen = meta.model_copy(update={"candidates": candidates})
        await ack(response_action="update", view=choose_modal(result.number, chosen))
        return
    await ack()
    assert result.number.e911 is not None
    text = saved_text(result.number, result.number.e911)
    await confirm(sub.client, actor.user_id, text, meta.response_url)
    await republish_homes(kit.services, kit.roles, sub.client, actor.workspace_id)


async def on_save(sub: Submission[E911Meta]) -> None:
    await _save(sub, form_fields(sub.values), BlockId.E911_STREET)


async def on_choose(sub: Submission[E911Meta]) -> None:
    """`Choose correct address`: save the candidate the person picked."""
    candidates = sub.meta.candidates
    entry = sub.values.get(BlockId.E911_CHOICE, {}).get(ActionId.E911_CHOICE, {})
    picked = (entry.get("selected_option") or {}).get("value")
    if picked is None or not str(picked).isdigit() or int(picked) >= len(candidates):
        message = "Choose one of the addresses."
        await sub.ack(response_action="errors", errors={BlockId.E911_CHOICE: message})
        return
    await _save(sub, candidates[int(picked)].model_dump(), BlockId.E911_CHOICE)


async def on_remove(click: Click[E911Meta]) -> None:
    """`Remove e911` (after Slack's confirm dialog); a refusal is shown on the modal."""
    kit, actor, meta, client = click.kit, click.actor, click.payload, click.client
    try:
        removed = await kit.services.e911.remove_address(
            actor, meta.number, channel_id=meta.channel_id
        )
    except NumbersBotError as exc:
        record = await kit.services.numbers.get(actor, meta.number, channel_id=meta.channel_id)
        price = await kit.services.e911.price(actor, record, channel_id=meta.channel_id)
        modal = e911_modal(
            record, meta, notice=user_message(exc), price=price, simulated=_simulated(kit)
        )
        await _update(client, click.view, modal)
        return
    await _update(client, click.view, done_modal(removed_text(removed)))
    await confirm(client, actor.user_id, removed_text(removed), meta.response_url)
    await republish_homes(kit.services, kit.roles, client, actor.workspace_id)


async def _update(client: AsyncWebClient, view: Json, modal: Any) -> None:
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        log.info("views.update skipped: %s", exc.response.get("error"))


def register(app: AsyncApp, track: Track) -> None:
    app.view(CallbackId.E911)(track(on_submit(E911Meta, on_save, channel=named)))
    app.view(CallbackId.E911_CHOOSE)(track(on_submit(E911Meta, on_choose, channel=named)))
    remove = on_click(E911Meta, on_remove, channel=named, in_view=True)
    app.action(ActionId.E911_REMOVE)(track(remove))
