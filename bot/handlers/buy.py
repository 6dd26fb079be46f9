"""The `Buy Numbers` modal: open at once, search and spares in place, submit to a quote.

The modal is opened before any slow work (a trigger_id lives 3 seconds) and
then redrawn with `views.update`, passing the view's hash so a stale redraw
never overwrites what the user did meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.buy import BuyForm, Results, buy_modal, opening_modal, with_target_notice
from bot.blocks.buy import spares_added_modal as done_modal
from bot.blocks.errors import error_text
from bot.blocks.ids import ActionId, BlockId, CallbackId
from bot.blocks.payloads import BuyMeta
from bot.blocks.picked import choice, slack_user
from bot.blocks.text import count, escape, target_text
from bot.domain.assignment import Assignment, AssignmentKind, is_limited
from bot.domain.errors import InvalidInput, NumbersBotError
from bot.domain.phone import Kind, SearchQuery, parse_query
from bot.domain.records import PurchaseRequestRecord
from bot.handlers.context import Click, Submission, named, on_click, on_submit
from bot.handlers.errors import field_errors, user_message
from bot.handlers.kit import Kit, Track
from bot.handlers.slack_people import require_person
from bot.service.context import Actor
from bot.service.ports import Reply

log = logging.getLogger(__name__)
Json = dict[str, Any]


# --- reading the modal ------------------------------------------------------------------


def _value(values: Json, block: str, key: str) -> Any:
    entry = values.get(block, {}).get(block, {})  # action ids equal block ids in this modal
    return entry.get(key) if isinstance(entry, dict) else None


def _picked(values: Json, prefix: str) -> list[str]:
    found: list[str] = []
    for block_id, entries in values.items():
        if not block_id.startswith(prefix + "."):
            continue
        for entry in entries.values():
            found += [o["value"] for o in entry.get("selected_options") or []]
    return found


def read_form(view: Json, meta: BuyMeta) -> tuple[BuyForm, list[str], list[str]]:
    """The form as the user left it, with the ticked search results and spare numbers."""
    values: Json = view.get("state", {}).get("values", {})
    target = (_value(values, BlockId.BUY_TARGET, "selected_option") or {}).get("value")
    kind = (_value(values, BlockId.BUY_KIND, "selected_option") or {}).get("value")
    prefix = (_value(values, BlockId.BUY_PREFIX, "selected_option") or {}).get("value")
    form = BuyForm(
        meta=meta,
        target=choice(AssignmentKind, target or AssignmentKind.MAIN, "target", "who to buy for"),
        user_id=_value(values, BlockId.BUY_USER, "selected_user"),
        kind=choice(Kind, kind or Kind.LOCAL, "target", "Local or Toll-free"),
        area_code=str(_value(values, BlockId.BUY_AREA_CODE, "value") or ""),
        prefix=prefix,
    )
    return form, _picked(values, BlockId.BUY_RESULTS), _picked(values, BlockId.BUY_SPARES)


def target_of(form: BuyForm) -> Assignment:
    if form.target is not AssignmentKind.USER:
        return Assignment(form.target)
    if not form.user_id:
        raise InvalidInput("user", "Choose the person to buy the numbers for.")
    return Assignment.user(slack_user(form.user_id))


def _query_text(form: BuyForm) -> str:
    return form.area_code if form.kind is Kind.LOCAL else (form.prefix or "")


def _label(query: SearchQuery) -> str:
    if query.kind is Kind.TOLLFREE:
        return f"toll-free prefix {query.npa}"
    return f"area code {query.npa}" + (f"-{query.nxx}" if query.nxx else "")


def _input_blocks(view: Json, prefix: str) -> list[str]:
    return [
        b["block_id"]
        for b in view.get("blocks", [])
        if b.get("type") == "input" and str(b.get("block_id", "")).startswith(prefix + ".")
    ]


# --- drawing ----------------------------------------------------------------------------


async def _redraw(client: AsyncWebClient, view: Json, modal: View | Json) -> None:
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        # hash_conflict: the user changed the modal meanwhile; their newer action redraws it.
        log.info("views.update skipped: %s", exc.response.get("error"))


async def _target_notice(kit: Kit, actor: Actor, form: BuyForm) -> str | None:
    """Why the chosen target cannot take a number (the faxbox has one), or None."""
    if not is_limited(form.target):  # a person has no limit (and no id to build one from)
        return None
    full = await kit.services.purchases.target_room(
        actor, Assignment(form.target), channel_id=form.meta.channel_id
    )
    return None if full is None else error_text(full)


async def _with_search(kit: Kit, actor: Actor, form: BuyForm) -> BuyForm:
    try:
        found = await kit.services.numbers.search(
            actor, form.kind, _query_text(form), channel_id=form.meta.channel_id
        )
    except NumbersBotError as exc:
        return replace(form, notice=error_text(exc), results=None, spares=None)
    key = f"{found.query.kind.value}{found.query.prefix}"
    results = Results(key=key, label=_label(found.query), offers=found.all)
    return replace(form, notice=None, results=results, spares=None)


async def open_buy_modal(
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    *,
    trigger_id: str,
    channel_id: str | None,
    response_url: str | None = None,
    kind: Kind | None = None,
    query: str | None = None,
    target: Assignment | None = None,
) -> None:
    """Open the modal first, then run the search the command asked for, if any.

    The modal names the account it buys for (the channel's, or the one the App Home
    shows) and carries it, so everything done in it acts on that account."""
    account = await kit.services.accounts.for_channel(actor, channel_id)
    form = BuyForm(
        meta=BuyMeta(channel_id=channel_id, response_url=response_url, account_id=account.id),
        account_name=account.name,
        target=target.kind if target else AssignmentKind.MAIN,
        user_id=target.user_id if target else None,
        kind=kind or Kind.LOCAL,
        area_code=(query or "") if kind is not Kind.TOLLFREE else "",
        prefix=query if kind is Kind.TOLLFREE else None,
        currency=kit.settings.plan.currency,
    )
    opened = await client.views_open(trigger_id=trigger_id, view=opening_modal(form))
    notice = await _target_notice(kit, actor, form)
    if kind is not None and query:
        form = await _with_search(kit, actor, form)
    elif notice is None:
        return
    await _redraw(client, opened["view"], buy_modal(replace(form, target_notice=notice)))


# --- listeners --------------------------------------------------------------------------


async def _form(click: Click[BuyMeta]) -> BuyForm:
    form, _, _ = read_form(click.view, click.payload)
    account = await click.kit.services.accounts.for_channel(click.actor, click.channel_id)
    return replace(form, currency=click.kit.settings.plan.currency, account_name=account.name)


async def on_kind(click: Click[BuyMeta]) -> None:
    """`Local` / `Toll-free`: swap the area code input for the prefix select."""
    form = await _form(click)
    form = replace(form, target_notice=await _target_notice(click.kit, click.actor, form))
    await _redraw(click.client, click.view, buy_modal(form))


async def on_target(click: Click[BuyMeta]) -> None:
    """A target was picked: say at once when it is full, before the user searches."""
    form, _, _ = read_form(click.view, click.payload)
    notice = await _target_notice(click.kit, click.actor, form)
    redrawn = with_target_notice(click.view, notice)
    if redrawn is None:
        return  # nothing to say or take back: the modal stays as the user has it
    await _redraw(click.client, click.view, redrawn)


async def _redraw_after(
    click: Click[BuyMeta], step: Callable[[Kit, Actor, BuyForm], Awaitable[BuyForm]]
) -> None:
    """Run `step` on the form of the modal clicked in, and redraw the modal in place."""
    form = await _form(click)
    form = replace(form, target_notice=await _target_notice(click.kit, click.actor, form))
    await _redraw(click.client, click.view, buy_modal(await step(click.kit, click.actor, form)))


async def on_search(click: Click[BuyMeta]) -> None:
    await _redraw_after(click, _with_search)


async def _with_spares(kit: Kit, actor: Actor, form: BuyForm) -> BuyForm:
    try:
        text = _query_text(form).strip()
        prefix = parse_query(form.kind, text).prefix if text else None
        spares = await kit.services.numbers.spares(
            actor, kind=form.kind, prefix=prefix, channel_id=form.meta.channel_id
        )
    except NumbersBotError as exc:
        return replace(form, notice=error_text(exc), results=None, spares=None)
    return replace(form, notice=None, results=None, spares=tuple(spares))


async def on_show_spares(click: Click[BuyMeta]) -> None:
    """`Add from Spare Numbers`: list the account's spares matching kind and area code."""
    await _redraw_after(click, _with_spares)


async def on_add_spares(click: Click[BuyMeta]) -> None:
    """`Add selected numbers`: assign the ticked spares to the target; nothing is bought."""
    kit, actor, client, view = click.kit, click.actor, click.client, click.view
    _, _, picked = read_form(view, click.payload)
    form = await _form(click)
    try:
        target = target_of(form)
        if target.user_id is not None:
            actor.require_admin("assign spare numbers")
            await require_person(client, target.user_id)
        added = await kit.services.numbers.add_spares(
            actor, picked, target, channel_id=form.meta.channel_id
        )
    except NumbersBotError as exc:
        redrawn = await _with_spares(kit, actor, form)
        await _redraw(client, view, buy_modal(replace(redrawn, notice=error_text(exc))))
        return
    names = "\n".join(f"• {escape(n.display)}" for n in added)
    text = (
        f":white_check_mark: Added {count(len(added), 'spare number')} "
        f"to *{target_text(target.label, target.user_id)}*:\n"
        f"{names}\nNo purchase and no change to the monthly bill."
    )
    await _redraw(client, view, done_modal(text))


async def on_buy(sub: Submission[BuyMeta]) -> None:
    """`Buy Numbers`: quote and hold the ticked numbers, then post the billing card."""
    kit, ack, view = sub.kit, sub.ack, sub.view
    try:
        form, results, spares = read_form(view, sub.meta)
    except InvalidInput as exc:  # an option we never drew
        await ack(response_action="errors", errors={BlockId.BUY_TARGET: error_text(exc)})
        return
    # A repeated delivery of the same submission must not quote (and post) twice.
    key = f"{view['id']}:{view.get('hash')}"
    query_block = BlockId.BUY_AREA_CODE if form.kind is Kind.LOCAL else BlockId.BUY_PREFIX
    picked_blocks = _input_blocks(view, BlockId.BUY_RESULTS) + _input_blocks(
        view, BlockId.BUY_SPARES
    )
    first = picked_blocks[0] if picked_blocks else query_block
    fields = {
        "numbers": first,
        "spares": first,
        "area_code": BlockId.BUY_AREA_CODE,
        "prefix": BlockId.BUY_PREFIX,
        "target": BlockId.BUY_TARGET,
        "user": BlockId.BUY_USER,
    }
    answered: list[bool] = []  # once quoted, nothing acks again

    async def quoted(_: PurchaseRequestRecord) -> None:
        answered.append(True)
        await ack()  # the modal closes; the billing card follows

    try:
        target = target_of(form)
        if target.user_id is not None:
            sub.actor.require_admin("buy numbers")
            await require_person(sub.client, target.user_id)
        numbers = results + spares
        if not numbers:
            text = _query_text(form).strip()
            if text:
                parse_query(form.kind, text)  # a bad area code is the first thing to fix
            raise InvalidInput("numbers", "Search, then tick the numbers to buy.")
        reply = Reply(
            channel_id=form.meta.channel_id,
            response_url=form.meta.response_url,
            trigger_id=sub.body.get("trigger_id"),
            answer=quoted,
        )
        request = await kit.services.purchases.submit(
            sub.actor, numbers, target, key=key, reply=reply
        )
    except NumbersBotError as exc:
        if answered:
            raise
        await ack(response_action="errors", errors=field_errors(exc, fields, first))
        return
    except Exception as exc:
        if answered:
            raise
        # Nothing was quoted (and the submission was given back, so pressing Buy Numbers
        # again works): the modal stays open with an apology rather than closing on nothing.
        message = user_message(exc, "a Buy Numbers submission failed")
        await ack(response_action="errors", errors={first: message})
        return
    if request is None:
        await ack()  # a repeated delivery: answered, nothing done


def register(app: AsyncApp, track: Track) -> None:
    for action_id, listener in (
        (ActionId.BUY_TARGET, on_target),
        (ActionId.BUY_KIND, on_kind),
        (ActionId.BUY_SEARCH, on_search),
        (ActionId.BUY_SHOW_SPARES, on_show_spares),
        (ActionId.BUY_ADD_SPARES, on_add_spares),
    ):
        # Buttons in the modal: their payload is the modal's, with where it was opened from.
        app.action(action_id)(track(on_click(BuyMeta, listener, channel=named, in_view=True)))
    app.view(CallbackId.BUY)(track(on_submit(BuyMeta, on_buy, channel=named)))
