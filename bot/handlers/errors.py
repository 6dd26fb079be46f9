"""The one place service errors become something a person reads.

Commands and buttons get an ephemeral message; modal submissions get
`response_action: errors` on the field concerned (see `field_errors`). Anything
unexpected is logged with its traceback and the user gets a short apology,
never the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.blocks.error_text import error_text as harmless
from bot.blocks.errors import error_text
from bot.service.errors import InvalidInput, NumbersBotError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side; it is logged. Try again in a moment."


def user_message(error: BaseException) -> str:
    if isinstance(error, NumbersBotError):
        return error_text(error)
    return UNEXPECTED


def field_errors(error: NumbersBotError, fields: Mapping[str, str], default: str) -> dict[str, str]:
    """`{block_id: message}` for a modal: the field the error names, else `default`."""
    block = fields.get(error.field, default) if isinstance(error, InvalidInput) else default
    return {block: error.message}


def check_errors(error: Exception, fields: Mapping[str, str], default: str) -> dict[str, str]:
    """A modal's checks failed before its answer: the reason on its field; anything
    unexpected is logged and apologised for on `default`, so Slack still gets an answer."""
    if isinstance(error, NumbersBotError):
        return field_errors(error, fields, default)
    log.error("checking a modal submission failed", exc_info=error)
    return {default: UNEXPECTED}


async def tell(error: Exception, context: AsyncBoltContext) -> None:
    """Show a person what went wrong: ephemeral where they are, else a DM.

    The message may quote what they typed, so it goes out escaped and clipped; a post
    that fails is logged (a response_url answers a failure with a status, not a raise).
    """
    if not isinstance(error, NumbersBotError):
        log.error("unhandled error in a listener", exc_info=error)
    text = harmless(user_message(error))
    client = context.client
    try:
        if context.response_url and context.respond is not None:
            sent = await context.respond(
                text=text, response_type="ephemeral", replace_original=False
            )
            if sent.status_code != 200:
                log.warning(
                    "cannot tell the user about an error: response_url answered %s %s",
                    sent.status_code,
                    sent.body,
                )
        elif client is not None and context.user_id and context.channel_id:
            await client.chat_postEphemeral(
                channel=context.channel_id, user=context.user_id, text=text
            )
        elif client is not None and context.user_id:  # a modal: no channel, so a DM
            await client.chat_postMessage(channel=context.user_id, text=text)
    except SlackApiError as exc:
        log.warning("cannot tell the user about an error: %s", exc.response.get("error"))
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("cannot tell the user about an error: %s", type(exc).__name__)


async def on_error(error: Exception, context: AsyncBoltContext) -> None:
    """bolt's global error handler, for errors raised before a listener runs."""
    await tell(error, context)
