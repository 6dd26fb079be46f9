"""The App Home tab: published on `app_home_opened`, its account select and its buttons."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.buy import BuyForm, buy_modal, opening_modal
from bot.blocks.ids import ManageId
from bot.blocks.payloads import BuyMeta, HomeRef
from bot.domain.records import NumberFilter
from bot.handlers.buy import open_buy_modal
from bot.handlers.context import Click, Event, NoValue, on_click, on_event
from bot.handlers.home_publish import publish_home
from bot.handlers.kit import Kit, Track
from bot.handlers.number_list import list_reply
from bot.service.context import Actor

Json = dict[str, Any]


async def on_home_opened(opened: Event) -> None:
    if opened.event.get("tab", "home") != "home":
        return  # the Messages tab
    await publish_home(opened.kit.services, opened.client, opened.actor)


async def on_account(click: Click[NoValue]) -> None:
    """The account select: this viewer's home shows that account from now on."""
    picked = (click.action.get("selected_option") or {}).get("value")
    account_id = str(picked) if picked else None
    await publish_home(click.kit.services, click.client, click.actor, account_id=account_id)


async def on_buy(click: Click[HomeRef]) -> None:
    """`Buy Numbers`: the same modal as `/numbers buy`, for the account the Home shows;
    its card goes to the person's DM."""
    click.actor.require_admin("buy numbers")
    await open_buy_modal(
        click.client, click.kit, click.actor, trigger_id=click.trigger_id, channel_id=None
    )


async def on_spares(click: Click[HomeRef]) -> None:
    """`Add from Spare Numbers`: the buy modal, opened at once, then showing the spares of
    the account the Home shows."""
    kit, actor, client = click.kit, click.actor, click.client
    actor.require_admin("assign spare numbers")
    account = await kit.services.accounts.for_channel(actor)
    form = BuyForm(
        meta=BuyMeta(account_id=account.id),
        currency=kit.settings.plan.currency,
        account_name=account.name,
    )
    opened = await client.views_open(trigger_id=click.trigger_id, view=opening_modal(form))
    spares = await kit.services.numbers.spares(actor, kind=form.kind)
    view = opened["view"]
    # hash_conflict: the person changed the modal meanwhile, and what they did wins.
    with contextlib.suppress(SlackApiError):
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=buy_modal(replace(form, spares=tuple(spares))),
        )


async def post_numbers_list(client: AsyncWebClient, kit: Kit, actor: Actor) -> None:
    """`List numbers` on the App Home: the first page of the list of the account the Home
    shows, by DM (the home is not a channel); its `Next` and `Previous` redraw that message
    and its rows act on that account."""
    text, blocks = await list_reply(kit, actor, NumberFilter())
    await client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)


async def on_list(click: Click[HomeRef]) -> None:
    await post_numbers_list(click.client, click.kit, click.actor)


def register(app: AsyncApp, track: Track) -> None:
    app.event("app_home_opened")(track(on_event(on_home_opened)))
    app.action(ManageId.HOME_ACCOUNT)(track(on_click(NoValue, on_account)))
    app.action(ManageId.HOME_BUY)(track(on_click(HomeRef, on_buy)))
    app.action(ManageId.HOME_SPARES)(track(on_click(HomeRef, on_spares)))
    app.action(ManageId.HOME_LIST)(track(on_click(HomeRef, on_list)))
