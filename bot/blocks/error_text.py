"""An error message as a person reads it in mrkdwn: what they typed made harmless.

Error messages quote what was typed between “ and ” (`“415-55” is not …`) and may
name people with our own mentions (`Only <@U1> can …`). Everything is escaped, so
nobody can forge a mention, a link or `<!channel>` through what they typed; our own
mentions outside the quotes stay mentions; each quote is clipped; the whole is clipped.
Escaping is done once: a message already escaped (`typed`, `echo`) is not escaped again.
"""

from __future__ import annotations

import re

from bot.blocks.text import MAX_ECHO, MAX_SECTION_TEXT, clip
from bot.domain.assignment import SLACK_USER_ID

_QUOTED = re.compile(r"“([^”]*)”")
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")
_OUR_MENTION = re.compile(rf"&lt;@({SLACK_USER_ID})&gt;")


def escape_once(text: str) -> str:
    """`escape`, leaving alone the entities an earlier escape made."""
    return _ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def error_text(message: str) -> str:
    parts: list[str] = []
    start = 0
    for quoted in _QUOTED.finditer(message):
        parts.append(_OUR_MENTION.sub(r"<@\1>", escape_once(message[start : quoted.start()])))
        parts.append(f"“{clip(escape_once(quoted.group(1)), MAX_ECHO)}”")
        start = quoted.end()
    parts.append(_OUR_MENTION.sub(r"<@\1>", escape_once(message[start:])))
    return clip("".join(parts), MAX_SECTION_TEXT)
