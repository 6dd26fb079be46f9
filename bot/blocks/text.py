"""Text helpers shared by the builders: escaping, money, times, limits."""

from __future__ import annotations

from datetime import datetime

from bot.domain.assignment import is_slack_user

# Limits Slack enforces that slack_sdk does not check.
MAX_MESSAGE_BLOCKS = 50
MAX_CHECKBOX_OPTIONS = 10
MAX_SELECT_OPTIONS = 100
MAX_SECTION_TEXT = 3000
# User text quoted back (a command's words, a reason, an address) is clipped to this: enough
# to recognise it, small enough that several fit in one block with our own words.
MAX_ECHO = 300


def escape(text: str) -> str:
    """Escape user text for mrkdwn so nobody can forge a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "earlier"


def clip(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """At most `limit` characters, ending in `…` when cut; never half an `&amp;` entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", -len("&amp;"))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # an entity cut in half would show as `&am`
    return cut + "…"


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """User text quoted back in mrkdwn: escaped (so it forges no mention or link), then
    clipped (escaping can triple its length, and Slack refuses a block over its limit)."""
    return clip(escape(text), limit)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def count(n: int, noun: str = "number") -> str:
    """`1 number`, `2 numbers`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def person_text(user_id: str) -> str:
    """An assignee for mrkdwn: a Slack user as a mention; a person known only to Kazoo
    (no Slack user matched) by their Kazoo id, since Slack cannot resolve that mention."""
    return mention(user_id) if is_slack_user(user_id) else f"Kazoo user `{escape(user_id)}`"


def target_text(label: str, user_id: str | None) -> str:
    """An assignment for mrkdwn: the person (`person_text`) for a user, escaped text otherwise.

    The one place an assignment becomes words a person reads; `bot/domain` has no mentions.
    """
    return person_text(user_id) if user_id else escape(label)
