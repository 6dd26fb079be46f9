"""The one place service errors become something a person reads.

Commands and buttons get an ephemeral message; modal submissions get
`response_action: errors` on the field concerned (see `field_errors`). Anything
unexpected is logged once, here (`user_message`), with its traceback and a short
reference (the request's id), and the person gets an apology naming that
reference, never the traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from bot.blocks.error_text import error_text as harmless
from bot.blocks.errors import error_text, unexpected_text
from bot.domain.errors import InvalidInput, NumbersBotError
from bot.logs import REQUEST_ID, new_request_id

log = logging.getLogger(__name__)


def user_message(error: BaseException, doing: str = "a listener failed") -> str:
    """The words for any error, the one route every surface takes: a refusal is worded by
    `bot/blocks/errors.py`; anything else is logged with a reference the person is shown."""
    if isinstance(error, NumbersBotError):
        return error_text(error)
    reference = REQUEST_ID.get() or new_request_id()
    log.error("%s (reference %s)", doing, reference, exc_info=error)
    return unexpected_text(reference)


def field_errors(error: NumbersBotError, fields: Mapping[str, str], default: str) -> dict[str, str]:
    """`{block_id: message}` for a modal: the field the error names, else `default`."""
    block = fields.get(error.field, default) if isinstance(error, InvalidInput) else default
    return {block: error_text(error)}


def check_errors(error: Exception, fields: Mapping[str, str], default: str) -> dict[str, str]:
    """A modal's checks failed before its answer: the reason on its field; anything
    unexpected is logged and apologised for on `default`, so Slack still gets an answer."""
    if isinstance(error, NumbersBotError):
        return field_errors(error, fields, default)
    return {default: user_message(error, "checking a modal submission failed")}


async def tell(
    error: Exception, context: AsyncBoltContext, doing: str = "unhandled error in a listener"
) -> None:
    """Show a person what went wrong: ephemeral where they are, else a DM."""
    await say(user_message(error, doing), context)


async def say(message: str, context: AsyncBoltContext) -> None:
    """Post `message` (from `user_message`) ephemeral where the person is, else as a DM.

    The message may quote what they typed, so it goes out escaped and clipped; a post
    that fails is logged (a response_url answers a failure with a status, not a raise).
    """
    text = harmless(message)
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
