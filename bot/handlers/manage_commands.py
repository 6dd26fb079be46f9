"""`/numbers list|spare|e911|assign|unassign`: parsing the words into a command.

Numbers are accepted as people type them, even split over several words
(`(415) 555-2671`); what cannot be read is named back, clipped, with the forms
that are accepted. Messages here are plain text: the help message escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.picked import target_from_text
from bot.blocks.text import clip
from bot.domain.assignment import Assignment
from bot.domain.errors import InvalidInput
from bot.domain.phone import TOLLFREE_PREFIXES, Kind, parse_area_code, parse_number
from bot.domain.records import AssignmentFilter, NumberFilter

ACCEPTED_FORMATS = (
    "+14155552671, 4155552671, 415-555-2671, (415) 555-2671, 1 415 555 2671 or +1 (415) 555-2671"
)
ECHO_MAX = 40
ASSIGNMENT_WORDS = ("main", "conference", "faxbox", "users", "spare")
KIND_WORDS = {"local": Kind.LOCAL, "tollfree": Kind.TOLLFREE, "toll-free": Kind.TOLLFREE}
LIST_USAGE = (
    "Use `/numbers list [main|conference|faxbox|users|@user|spare|e911|no-e911] "
    "[local|tollfree] [AREA]`."
)


@dataclass(frozen=True, slots=True)
class ListNumbers:
    flt: NumberFilter
    title: str | None = None


@dataclass(frozen=True, slots=True)
class OpenE911:
    number: str  # E.164
    typed: str


@dataclass(frozen=True, slots=True)
class AssignNumber:
    number: str
    typed: str
    target: Assignment


@dataclass(frozen=True, slots=True)
class UnassignNumber:
    number: str
    typed: str


ManageCommand = ListNumbers | OpenE911 | AssignNumber | UnassignNumber
VERBS = ("list", "e911", "assign", "unassign")
SPARES = ListNumbers(NumberFilter(assignment=AssignmentFilter()), title="Spare numbers")


def shown(text: str) -> str:
    """What someone typed, on one line and clipped (the caller escapes it)."""
    return clip(" ".join(text.split()), ECHO_MAX)


def number_ref(text: str) -> str:
    """A number as typed (`(415) 555-2671`, `+1 415 555 2671`...) as E.164."""
    raw = " ".join(text.split())
    if not raw:
        raise InvalidInput("number", f"Say which number: type it as {ACCEPTED_FORMATS}.")
    try:
        return parse_number(shown(raw))
    except InvalidInput as exc:
        message = f"{exc.message} Numbers can be typed as {ACCEPTED_FORMATS}."
        raise InvalidInput("number", message) from None


def no_such_person(word: str) -> InvalidInput:
    """`@nobody`: in the @user form, but Slack linked no one (it links the people it knows)."""
    return InvalidInput(
        "target",
        f"There is no one called “{shown(word)}” in this workspace: type @ and pick the "
        "person from Slack's list, so their name becomes a link.",
    )


def target_word(word: str) -> Assignment:
    """`main`, `conference`, `faxbox` or a person as Slack sends a mention."""
    try:
        return target_from_text(word)
    except InvalidInput:
        if word.startswith("@"):
            raise no_such_person(word) from None
        raise InvalidInput(
            "target",
            f"“{shown(word)}” is not a target: say main, conference, faxbox or @user.",
        ) from None


def _area(word: str) -> tuple[str, Kind | None]:
    digits = word.strip("()+-")
    if digits in TOLLFREE_PREFIXES:
        return digits, Kind.TOLLFREE
    try:
        query = parse_area_code(shown(word))
    except InvalidInput as exc:
        raise InvalidInput("area", f"{exc.message} {LIST_USAGE}") from None
    if query.nxx is not None:
        raise InvalidInput("area", f"List by a 3-digit area code, not “{shown(word)}”.")
    return query.npa, None


def parse_list(args: list[str]) -> ListNumbers:
    assignment: str | None = None
    e911: bool | None = None
    kind: Kind | None = None
    npa: str | None = None
    for word in args:
        lowered = word.lower()
        if lowered in ASSIGNMENT_WORDS or word.startswith(("<@", "@")):
            if assignment is not None:
                raise InvalidInput("filter", f"List one assignment at a time. {LIST_USAGE}")
            if lowered in ASSIGNMENT_WORDS:
                assignment = lowered
            else:
                try:
                    assignment = target_from_text(word).key
                except InvalidInput:
                    if word.startswith("@"):
                        raise no_such_person(word) from None
                    raise InvalidInput(
                        "filter", f"“{shown(word)}” is not a person. {LIST_USAGE}"
                    ) from None
        elif lowered in ("e911", "no-e911"):
            if e911 is not None:
                raise InvalidInput("filter", f"Say e911 or no-e911, not both. {LIST_USAGE}")
            e911 = lowered == "e911"
        elif lowered in KIND_WORDS:
            kind = KIND_WORDS[lowered]
        elif any(ch.isdigit() for ch in word):
            npa, implied = _area(word)
            kind = kind or implied
        else:
            raise InvalidInput("filter", f"I did not understand “{shown(word)}”. {LIST_USAGE}")
    if kind is Kind.LOCAL and npa in TOLLFREE_PREFIXES:
        raise InvalidInput("filter", f"{npa} is a toll-free prefix, not a local area code.")
    wanted = AssignmentFilter.parse(assignment) if assignment else None
    return ListNumbers(NumberFilter(assignment=wanted, e911=e911, kind=kind, npa=npa))


def parse_manage(verb: str, args: list[str]) -> ManageCommand | None:
    """The command for one of VERBS; None for other verbs. Raises `InvalidInput`."""
    if verb == "list":
        return parse_list(args)
    typed = " ".join(args)
    if verb == "e911":
        return OpenE911(number_ref(typed), typed)
    if verb == "unassign":
        return UnassignNumber(number_ref(typed), typed)
    if verb == "assign":
        if len(args) < 2:
            raise InvalidInput(
                "target", "Use `/numbers assign NUMBER main|conference|faxbox|@user`."
            )
        number_text = " ".join(args[:-1])
        target = target_word(args[-1])
        return AssignNumber(number_ref(number_text), number_text, target)
    return None
