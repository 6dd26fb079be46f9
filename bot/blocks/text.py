"""Text helpers shared by the builders: escaping, money, times, limits."""

from __future__ import annotations

from datetime import datetime

# Limits Slack enforces that slack_sdk does not check.
MAX_MESSAGE_BLOCKS = 50
MAX_CHECKBOX_OPTIONS = 10
MAX_SELECT_OPTIONS = 100
MAX_SECTION_TEXT = 3000


def escape(text: str) -> str:
    """Escape user text for mrkdwn so nobody can forge a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "earlier"


def clip(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def count(n: int, noun: str = "number") -> str:
    """`1 number`, `2 numbers`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def target_text(label: str, user_id: str | None) -> str:
    """An assignment for mrkdwn: a real mention for a user, escaped text otherwise."""
    return mention(user_id) if user_id else escape(label)
