"""User text echoed into mrkdwn: clipped, then escaped, so it can neither break a block's
length limit nor forge a mention or a link."""

from __future__ import annotations

from bot.blocks.text import escape

ECHO_LIMIT = 200


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """At most `limit` characters of `text` (an ellipsis when cut), escaped for mrkdwn."""
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(clipped)
