"""What an owned number rings (Kazoo's `used_by`): main, a person, conference or faxbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import InvalidInput


class AssignmentKind(StrEnum):
    MAIN = "main"
    USER = "user"
    CONFERENCE = "conference"
    FAXBOX = "faxbox"


LABELS: dict[AssignmentKind, str] = {
    AssignmentKind.MAIN: "Main Company Numbers",
    AssignmentKind.CONFERENCE: "Main Conference Number",
    AssignmentKind.FAXBOX: "Main Faxbox Number",
    AssignmentKind.USER: "User",
}

# The faxbox answers on one number only.
MAX_PER_ACCOUNT: dict[AssignmentKind, int] = {AssignmentKind.FAXBOX: 1}

# A Slack user id: the one pattern (bot/blocks parses and renders mentions with it).
SLACK_USER_ID = r"[UW][A-Z0-9]{2,20}"
_SLACK_USER = re.compile(rf"^{SLACK_USER_ID}$")
# A person known only to the carrier (a carrier user no Slack user matches, which the
# inventory sync records as it is): any carrier's id of letters, digits, `-` and `_`,
# 6 to 64 long (Kazoo's are 32 hex digits; a UUID or a numeric id fits too). Accepted
# only in the stored form `user:ID`.
_CARRIER_USER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{5,63}$")


def is_limited(kind: AssignmentKind) -> bool:
    """Whether the target takes a limited count of numbers (then `has_room` says more)."""
    return kind in MAX_PER_ACCOUNT


def has_room(kind: AssignmentKind, taken: int, adding: int = 1) -> bool:
    """The room rule, in one place: a target holding `taken` numbers can take `adding`
    more (the faxbox takes one; the other targets any count)."""
    limit = MAX_PER_ACCOUNT.get(kind)
    return limit is None or taken + adding <= limit


_ACCEPTED = "main, conference, faxbox or a user (@user or user:U123)"


@dataclass(frozen=True, slots=True)
class Assignment:
    kind: AssignmentKind
    user_id: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is AssignmentKind.USER) != (self.user_id is not None):
            raise InvalidInput("target", "A user assignment needs a user, and only it has one.")

    @property
    def key(self) -> str:
        """The stored form: `main`, `user:U123`, `conference`, `faxbox`."""
        return f"user:{self.user_id}" if self.user_id else self.kind.value

    @property
    def label(self) -> str:
        """Plain words; a person is `User` here (the blocks name them: `target_text`)."""
        return LABELS[self.kind]

    @classmethod
    def main(cls) -> Assignment:
        return cls(AssignmentKind.MAIN)

    @classmethod
    def user(cls, user_id: str) -> Assignment:
        return cls(AssignmentKind.USER, user_id)

    @classmethod
    def parse(cls, key: str) -> Assignment:
        """The stored form back: `main`, `conference`, `faxbox` or `user:ID`.

        Every stored key parses back to its assignment (`parse(a.key) == a`), a person
        known only to the carrier included: restore reads the key back from the audit.
        What a person types (a Slack mention) is read in the Slack layer
        (`bot.blocks.picked.target_from_text`).
        """
        raw = key.strip()
        lowered = raw.lower()
        for kind in (AssignmentKind.MAIN, AssignmentKind.CONFERENCE, AssignmentKind.FAXBOX):
            if lowered == kind.value:
                return cls(kind)
        person = raw.removeprefix("user:")
        if person != raw and (_SLACK_USER.match(person) or _CARRIER_USER.match(person)):
            return cls(AssignmentKind.USER, person)
        raise InvalidInput("target", f"“{raw}” is not a target; use {_ACCEPTED}.")


def is_slack_user(user_id: str) -> bool:
    """A Slack user id (as opposed to a person known only to the carrier)."""
    return _SLACK_USER.match(user_id) is not None
