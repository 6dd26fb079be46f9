"""Values read back from a modal's state or a select: checked where they are read.

Slack sends back what the client holds, and a client can send anything: an option value
we never drew, a `selected_user` of `<!channel>`. Each is refused here with words on its
field (`InvalidInput`), never a `ValueError` from deep inside.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from bot.domain.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)

# What Slack's user ids look like (U… or, on Enterprise Grid, W…).
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def choice(options: type[E], raw: object, field: str, what: str) -> E:
    """One of the options we drew; `what` names the field for the person (`the target`)."""
    try:
        return options(str(raw))
    except ValueError:
        raise InvalidInput(field, f"Choose {what} from the list.") from None


def slack_user(raw: object, field: str = "user") -> str:
    """A person picked in a user select: a Slack user id, nothing else."""
    text = str(raw or "")
    if not SLACK_USER_ID.fullmatch(text):
        raise InvalidInput(field, "Choose the person from the list.")
    return text
