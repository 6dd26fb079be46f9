"""The number list: show a page, and redraw it in place on `Next` / `Previous`."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.ids import ActionId
from bot.blocks.number_list import number_list_message
from bot.blocks.payloads import HomeRef, ListRef
from bot.domain.records import AssignmentFilter, NumberFilter
from bot.handlers.buy import open_buy_modal
from bot.handlers.context import Click, clicked_in, on_click
from bot.handlers.kit import Kit, Track
from bot.service.context import Actor

Json = dict[str, Any]


async def list_reply(
    kit: Kit,
    actor: Actor,
    flt: NumberFilter,
    *,
    title: str | None = None,
    after: str | None = None,
    before: str | None = None,
    page: int = 1,
    channel_id: str | None = None,
) -> tuple[str, list[Json]]:
    """The list message for one page, as Slack takes it."""
    found = await kit.services.listing.page(
        actor, flt, after=after, before=before, page=page, channel_id=channel_id
    )
    text, blocks = number_list_message(found, admin=actor.is_admin, title=title)
    return text, [b.to_dict() for b in blocks]


async def send(kit: Kit, respond: AsyncRespond, response_url: str | None, **payload: Any) -> None:
    """Post to the `response_url` on the app's pooled connections (bolt's `respond` opens a
    new connection for every message); `respond` when there is no pool."""
    if kit.http is not None and not kit.http.closed and response_url:
        sent = await AsyncWebhookClient(response_url, session=kit.http).send_dict(payload)
        if sent.status_code == 200:
            return
    await respond(**payload)


async def show_list(
    respond: AsyncRespond,
    kit: Kit,
    actor: Actor,
    flt: NumberFilter,
    *,
    title: str | None = None,
    channel_id: str | None = None,
    response_url: str | None = None,
) -> None:
    text, blocks = await list_reply(kit, actor, flt, title=title, channel_id=channel_id)
    await send(kit, respond, response_url, text=text, blocks=blocks, response_type="ephemeral")


async def on_page(click: Click[ListRef]) -> None:
    """`Next` / `Previous`: the same message, redrawn with the page the button names."""
    ref = click.payload
    assignment = AssignmentFilter.parse(ref.assignment) if ref.assignment else None
    flt = NumberFilter(assignment=assignment, e911=ref.e911, kind=ref.kind, npa=ref.npa)
    text, blocks = await list_reply(
        click.kit,
        click.actor,
        flt,
        title=ref.title,
        after=ref.after,
        before=ref.before,
        page=ref.page,
        channel_id=click.channel_id,
    )
    await send(
        click.kit,
        click.respond,
        click.response_url,
        text=text,
        blocks=blocks,
        response_type="ephemeral",
        replace_original=True,
    )


async def on_buy(click: Click[HomeRef]) -> None:
    """`Buy Numbers` under a list opens the same modal as `/numbers buy`."""
    click.actor.require_admin("buy numbers")
    await open_buy_modal(
        click.client,
        click.kit,
        click.actor,
        trigger_id=click.trigger_id,
        channel_id=click.channel_id,
        response_url=click.response_url,
    )


def register(app: AsyncApp, track: Track) -> None:
    page = on_click(ListRef, on_page, channel=clicked_in)
    app.action(ActionId.LIST_NEXT)(track(page))
    app.action(ActionId.LIST_PREVIOUS)(track(page))
    app.action(ActionId.LIST_BUY)(track(on_click(HomeRef, on_buy, channel=clicked_in)))
