"""Values read back from a modal's state or a select: checked where they are read.

Slack sends back what the client holds, and a client can send anything: an option value
we never drew, a `selected_user` of `<!channel>`. Each is refused here with words on its
field (`InvalidInput`), never a `ValueError` from deep inside.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from bot.domain.assignment import SLACK_USER_ID, Assignment, is_slack_user
from bot.domain.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

# A mention as Slack sends it in typed text: `<@U123>` or `<@U123|name>`.
_MENTION = re.compile(rf"^<@({SLACK_USER_ID})(?:\|[^>]*)?>$")


def choice(options: type[E], raw: object, field: str, what: str) -> E:
    """One of the options we drew; `what` names the field for the person (`the target`)."""
    try:
        return options(str(raw))
    except ValueError:
        raise InvalidInput(field, f"Choose {what} from the list.") from None


def slack_user(raw: object, field: str = "user") -> str:
    """A person picked in a user select: a Slack user id, nothing else."""
    text = str(raw or "")
    if not is_slack_user(text):
        raise InvalidInput(field, "Choose the person from the list.")
    return text


def target_from_text(text: str) -> Assignment:
    """A target as a person types it: `main`, `conference`, `faxbox`, a Slack mention
    (`<@U123|name>`, `<@U123>`), `@U123` or `U123`, or the stored form (`user:ID`)."""
    raw = text.strip()
    mention = _MENTION.match(raw)
    person = mention.group(1) if mention else raw.removeprefix("@")
    if is_slack_user(person):
        return Assignment.user(person)
    return Assignment.parse(raw)
