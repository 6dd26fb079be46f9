"""Running the managing commands of `/numbers` (parsed in manage_commands.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.assign import assigned_message
from bot.blocks.number_list import typed
from bot.handlers import assign as assigning
from bot.handlers.e911 import open_e911_modal
from bot.handlers.kit import Kit
from bot.handlers.manage_commands import (
    ACCEPTED_FORMATS,
    AssignNumber,
    ListNumbers,
    ManageCommand,
    OpenE911,
    UnassignNumber,
)
from bot.handlers.number_list import show_list
from bot.service.context import Actor
from bot.service.errors import NotFound, OnOtherAccount


def not_ours(raw: str) -> NotFound:
    """A number that is not the account's, named as it was typed (clipped, escaped)."""
    return NotFound(
        f"“{typed(raw)}” is not a number of this channel's account; `/numbers list` shows "
        f"its numbers. Numbers can be typed as {ACCEPTED_FORMATS}."
    )


async def run_manage(
    parsed: ManageCommand,
    command: dict[str, Any],
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    respond: AsyncRespond,
) -> None:
    """One command, after the ack; errors reach the person through the listener's wrapper."""
    channel_id = str(command.get("channel_id") or "") or None
    if isinstance(parsed, ListNumbers):
        await show_list(
            respond,
            kit,
            actor,
            parsed.flt,
            title=parsed.title,
            channel_id=channel_id,
            response_url=command.get("response_url"),
        )
        return
    try:
        if isinstance(parsed, OpenE911):
            await open_e911_modal(
                client,
                kit,
                actor,
                parsed.number,
                trigger_id=str(command["trigger_id"]),
                channel_id=channel_id,
                response_url=command.get("response_url"),
            )
            return
        if isinstance(parsed, AssignNumber):
            before, after = await assigning.assign(
                client, kit, actor, parsed.number, parsed.target, channel_id=channel_id
            )
            text = assigned_message(after, actor.user_id)
            await respond(text=text, response_type="ephemeral")
            await assigning.after_assign(client, kit, actor, before, after)
            return
        assert isinstance(parsed, UnassignNumber)
        _, text = await assigning.unassign(client, kit, actor, parsed.number, channel_id=channel_id)
        await respond(text=text, response_type="ephemeral")
    except OnOtherAccount:
        raise  # it names the account the number is on: more use than the typed form
    except NotFound as exc:
        raise not_ours(parsed.typed) from exc
