"""Every pick in a listed number's overflow menu goes through `on_menu`, to the handler
registered for its item in `HANDLERS`.

`Move` opens the same modal as `/numbers move NUMBER`; `Release` answers with the same
confirm-carrying message as `/numbers release NUMBER`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.ids import ActionId
from bot.blocks.payloads import MenuOp, MenuPick
from bot.handlers import assign as assigning
from bot.handlers import manage as moving
from bot.handlers.context import Click, clicked_in, on_click
from bot.handlers.e911 import open_e911_modal
from bot.handlers.kit import Kit, Track
from bot.service.context import Actor

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MenuClick:
    """Everything an item's handler may need: who, which number, where, how to answer."""

    kit: Kit
    actor: Actor
    client: AsyncWebClient
    respond: AsyncRespond
    number: str  # E.164
    trigger_id: str
    channel_id: str | None
    response_url: str | None

    async def say(self, text: str) -> None:
        """An ephemeral answer under the list; the list itself stays as it is."""
        await self.respond(text=text, response_type="ephemeral", replace_original=False)


MenuHandler = Callable[[MenuClick], Awaitable[None]]


async def open_assign(click: MenuClick) -> None:
    await assigning.open_assign_modal(
        click.client,
        click.kit,
        click.actor,
        click.number,
        trigger_id=click.trigger_id,
        channel_id=click.channel_id,
        response_url=click.response_url,
    )


async def unassign(click: MenuClick) -> None:
    _, text = await assigning.unassign(
        click.client, click.kit, click.actor, click.number, channel_id=click.channel_id
    )
    await click.say(text)


async def open_e911(click: MenuClick) -> None:
    await open_e911_modal(
        click.client,
        click.kit,
        click.actor,
        click.number,
        trigger_id=click.trigger_id,
        channel_id=click.channel_id,
        response_url=click.response_url,
    )


async def open_move(click: MenuClick) -> None:
    await moving.open_move_modal(
        click.client,
        click.kit,
        click.actor,
        trigger_id=click.trigger_id,
        number=click.number,
        channel_id=click.channel_id,
    )


async def confirm_release(click: MenuClick) -> None:
    await moving.confirm_release(
        click.kit,
        click.actor,
        number=click.number,
        channel_id=click.channel_id,
        respond=click.respond,
    )


HANDLERS: dict[MenuOp, MenuHandler] = {
    "assign": open_assign,
    "unassign": unassign,
    "e911": open_e911,
    "move": open_move,
    "release": confirm_release,
}


async def on_menu(click: Click[MenuPick]) -> None:
    await HANDLERS[click.payload.op](
        MenuClick(
            kit=click.kit,
            actor=click.actor,
            client=click.client,
            respond=click.respond,
            number=click.payload.number,
            trigger_id=click.trigger_id,
            channel_id=click.channel_id,
            response_url=click.response_url,
        )
    )


def register(app: AsyncApp, track: Track) -> None:
    # An overflow item carries the pick in its option; the card's `e911` button in its value.
    menu = on_click(MenuPick, on_menu, channel=clicked_in)
    app.action(ActionId.NUMBER_MENU)(track(menu))
    app.action(ActionId.CARD_E911)(track(menu))
