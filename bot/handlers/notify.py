"""Telling people what a change did: where they work, else by DM."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.error_text import error_text as harmless
from bot.handlers.errors import user_message

log = logging.getLogger(__name__)


async def confirm(
    client: AsyncWebClient,
    user_id: str,
    text: str,
    response_url: str | None,
    *,
    blocks: Sequence[Block] = (),
) -> None:
    """An ephemeral note where the change was started (the list or the command), else a DM.

    A modal has no channel of its own; the list or command it came from left its
    `response_url` in the modal's metadata, which reaches the person even in a
    channel the bot is not a member of.
    """
    if response_url:
        try:
            sent = await AsyncWebhookClient(response_url).send(
                text=text,
                blocks=list(blocks) or None,
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:  # a dead response_url must not lose the confirmation
            log.warning("response_url failed; confirming by DM", exc_info=True)
        else:
            if sent.status_code == 200:
                return
            log.info("response_url answered %s; confirming by DM", sent.status_code)
    await dm(client, user_id, text, blocks=blocks)


async def dm(
    client: AsyncWebClient, user_id: str, text: str, *, blocks: Sequence[Block] = ()
) -> None:
    try:
        await client.chat_postMessage(channel=user_id, text=text, blocks=list(blocks) or None)
    except SlackApiError as exc:
        log.warning("cannot DM %s: %s", user_id, exc.response.get("error"))


async def report(
    client: AsyncWebClient, user_id: str, error: BaseException, response_url: str | None
) -> None:
    """A change that failed after its modal was answered: the reason, where it was asked
    for, else by DM (nothing was changed; the person may try again)."""
    message = user_message(error, "a change failed after its modal was answered")
    await confirm(client, user_id, harmless(message), response_url)
