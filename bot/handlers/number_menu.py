"""Every pick in a listed number's overflow menu goes through `on_menu`, to the handler
registered for its item in `HANDLERS`.

`Move` opens the same modal as `/numbers move NUMBER`; `Release` answers with the same
confirm-carrying message as `/numbers release NUMBER`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.blocks.ids import ActionId
from bot.blocks.payloads import MenuOp, MenuPick
from bot.blocks.release import restored_message
from bot.handlers import assign as assigning
from bot.handlers import manage as moving
from bot.handlers.context import Click, clicked_in, on_click
from bot.handlers.e911 import open_e911_modal
from bot.handlers.kit import Track

MenuClick = Click[MenuPick]


async def _say(click: MenuClick, text: str) -> None:
    """An ephemeral answer under the list; the list itself stays as it is."""
    await click.respond(text=text, response_type="ephemeral", replace_original=False)


MenuHandler = Callable[[MenuClick], Awaitable[None]]


async def open_assign(click: MenuClick) -> None:
    await assigning.open_assign_modal(
        click.client,
        click.kit,
        click.actor,
        click.payload.number,
        trigger_id=click.trigger_id,
        channel_id=click.channel_id,
        response_url=click.response_url,
    )


async def unassign(click: MenuClick) -> None:
    _, text = await assigning.unassign(
        click.client, click.kit, click.actor, click.payload.number, channel_id=click.channel_id
    )
    await _say(click, text)


async def open_e911(click: MenuClick) -> None:
    await open_e911_modal(
        click.client,
        click.kit,
        click.actor,
        click.payload.number,
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
        number=click.payload.number,
        channel_id=click.channel_id,
        response_url=click.response_url,
    )


async def confirm_release(click: MenuClick) -> None:
    await moving.confirm_release(
        click.kit,
        click.actor,
        number=click.payload.number,
        channel_id=click.channel_id,
        respond=click.respond,
    )


async def restore(click: MenuClick) -> None:
    """`Restore` on an aging row: the same as `/numbers restore NUMBER`."""
    kit, actor = click.kit, click.actor
    account = await kit.services.accounts.for_channel(actor, click.channel_id)
    restored = await kit.services.numbers.restore(
        actor, click.payload.number, channel_id=click.channel_id
    )
    text, blocks = restored_message(restored, account.name)
    await click.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    await moving.changed(kit, click.client, actor.workspace_id)


async def history(click: MenuClick) -> None:
    text, blocks = await moving.history_reply(click.kit, click.actor, click.payload.number)
    await click.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


HANDLERS: dict[MenuOp, MenuHandler] = {
    "assign": open_assign,
    "unassign": unassign,
    "e911": open_e911,
    "move": open_move,
    "release": confirm_release,
    "restore": restore,
    "history": history,
}


async def on_menu(click: MenuClick) -> None:
    await HANDLERS[click.payload.op](click)


def register(app: AsyncApp, track: Track) -> None:
    # An overflow item carries the pick in its option; the card's `e911` button in its value.
    menu = on_click(MenuPick, on_menu, channel=clicked_in)
    app.action(ActionId.NUMBER_MENU)(track(menu))
    app.action(ActionId.CARD_E911)(track(menu))
