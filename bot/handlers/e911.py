"""The `e911` modal: open it, save an address (or choose among candidates), remove it.

The form is checked while Slack waits for the submission's answer, so a mistake shows
on its field and the modal stays open. The provider's verdict (and the write) come
after the answer, under a "working" view that is then redrawn with the outcome: Slack
gives up after 3 seconds, and nothing may be saved after the person saw it fail.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.e911 import (
    FIELD_BLOCKS,
    as_fields,
    charges_modal,
    choose_modal,
    done_modal,
    e911_modal,
    form_fields,
    removed_text,
    saved_text,
    working_modal,
)
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import AddressFields, E911Meta
from bot.handlers.context import Click, Submission, named, on_click, on_submit
from bot.handlers.errors import check_errors, user_message
from bot.handlers.kit import Kit, Track
from bot.handlers.notify import confirm, report
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
    account = await kit.services.accounts.for_channel(actor, channel_id)
    meta = E911Meta(
        number=record.e164,
        channel_id=channel_id,
        response_url=response_url,
        account_id=account.id,
    )
    price = await kit.services.e911.price(actor, record, channel_id=channel_id)
    view = e911_modal(record, meta, account=account.name, price=price, simulated=_simulated(kit))
    await client.views_open(trigger_id=trigger_id, view=view)


def _simulated(kit: Kit) -> bool:
    """The embedded backend's geocoder is simulated: the modal says how to steer it."""
    return kit.settings.backend == "embedded"


async def _save(
    sub: Submission[E911Meta],
    fields: dict[str, Any],
    default_block: str,
    *,
    accept_charges: bool = False,
) -> None:
    """Check the form while Slack waits (mistakes show on their field), answer with a
    "working" view, then have the provider validate and the address saved; the view shows
    the outcome: saved, candidates to choose from, the carrier's charges to accept, or the
    form again with the reason."""
    kit, actor, meta, view, client = sub.kit, sub.actor, sub.meta, sub.view, sub.client
    e911 = kit.services.e911
    try:
        await e911.check_address(actor, meta.number, fields, channel_id=meta.channel_id)
    except Exception as exc:
        errors = check_errors(exc, FIELD_BLOCKS, default_block)
        await sub.ack(response_action="errors", errors=errors)
        return
    await sub.ack(response_action="update", view=working_modal(meta.number))
    key = f"{view['id']}:{view.get('hash')}"
    try:
        if not await kit.services.deliveries.first_time(key):
            return  # a repeated delivery: the first one is being handled
        result = await e911.set_address(
            actor,
            meta.number,
            fields,
            channel_id=meta.channel_id,
            accept_charges=accept_charges,
        )
    except Exception as exc:
        # Given back, so the person's retry is not dropped; the form shows why.
        with contextlib.suppress(Exception):
            await kit.services.deliveries.forget(key)
        await _refused(sub, fields, exc)
        return
    if result.charges is not None:
        await kit.services.deliveries.forget(key)
        pending = AddressFields.model_validate(
            {k: fields.get(k) for k in AddressFields.model_fields}
        )
        priced = meta.model_copy(update={"pending": pending, "candidates": ()})
        await _update(client, view, charges_modal(result.number, priced, result.charges))
        return
    if not result.saved:
        await kit.services.deliveries.forget(key)
        caller = fields.get("caller_name")
        candidates = tuple(as_fields(c) for c in result.candidates)
        if caller:
            candidates = tuple(c.model_copy(update={"caller_name": caller}) for c in candidates)
        chosen = meta.model_copy(update={"candidates": candidates})
        await _update(client, view, choose_modal(result.number, chosen))
        return
    assert result.number.e911 is not None
    text = saved_text(result.number, result.number.e911)
    await _update(client, view, done_modal(text))
    await confirm(client, actor.user_id, text, meta.response_url)
    kit.homes.changed(actor.workspace_id)


async def _refused(sub: Submission[E911Meta], fields: dict[str, Any], error: Exception) -> None:
    """The form again, with what was typed and why it was not saved; by message when the
    modal is gone. Nothing was saved (a failed write puts the provider back)."""
    kit, actor, meta = sub.kit, sub.actor, sub.meta
    if not isinstance(error, NumbersBotError):
        log.error("saving an e911 address failed", exc_info=error)
    try:
        record = await kit.services.numbers.get(actor, meta.number, channel_id=meta.channel_id)
        account = await kit.services.accounts.for_channel(actor, meta.channel_id)
        notice = user_message(error)
        price = await kit.services.e911.price(actor, record, channel_id=meta.channel_id)
        form = e911_modal(
            record,
            meta,
            notice=notice,
            typed=fields,
            account=account.name,
            price=price,
            simulated=_simulated(kit),
        )
        if await _update(sub.client, sub.view, form):
            return
    except NumbersBotError:
        pass  # the number is no longer the account's: the message below says why it failed
    await report(sub.client, actor.user_id, error, meta.response_url)


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


async def on_accept_charges(sub: Submission[E911Meta]) -> None:
    """`Accept e911 charges`: save the address the charges were shown for."""
    pending = sub.meta.pending
    if pending is None:
        await sub.ack()
        return
    await _save(sub, pending.model_dump(), BlockId.E911_STREET, accept_charges=True)


async def on_remove(click: Click[E911Meta]) -> None:
    """`Remove e911` (after Slack's confirm dialog); a refusal is shown on the modal."""
    kit, actor, meta, client = click.kit, click.actor, click.payload, click.client
    try:
        removed = await kit.services.e911.remove_address(
            actor, meta.number, channel_id=meta.channel_id
        )
    except NumbersBotError as exc:
        record = await kit.services.numbers.get(actor, meta.number, channel_id=meta.channel_id)
        account = await kit.services.accounts.for_channel(actor, meta.channel_id)
        price = await kit.services.e911.price(actor, record, channel_id=meta.channel_id)
        modal = e911_modal(
            record,
            meta,
            notice=user_message(exc),
            account=account.name,
            price=price,
            simulated=_simulated(kit),
        )
        await _update(client, click.view, modal, check_hash=True)
        return
    await _update(client, click.view, done_modal(removed_text(removed)), check_hash=True)
    await confirm(client, actor.user_id, removed_text(removed), meta.response_url)
    kit.homes.changed(actor.workspace_id)


async def _update(
    client: AsyncWebClient, view: Json, modal: Any, *, check_hash: bool = False
) -> bool:
    """Redraw the modal in place; False when it is gone (the person closed it)."""
    try:
        await client.views_update(
            view_id=view["id"], hash=view.get("hash") if check_hash else None, view=modal
        )
    except SlackApiError as exc:
        log.info("views.update skipped: %s", exc.response.get("error"))
        return False
    return True


def register(app: AsyncApp, track: Track) -> None:
    app.view(CallbackId.E911)(track(on_submit(E911Meta, on_save, channel=named)))
    app.view(CallbackId.E911_CHOOSE)(track(on_submit(E911Meta, on_choose, channel=named)))
    accept = on_submit(E911Meta, on_accept_charges, channel=named)
    app.view(CallbackId.E911_CHARGES)(track(accept))
    remove = on_click(E911Meta, on_remove, channel=named, in_view=True)
    app.action(ActionId.E911_REMOVE)(track(remove))
