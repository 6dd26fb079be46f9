"""SmartPBX's callflows: which one a target is, and how a number joins or leaves it.

Pure functions over callflow documents (dicts as Kazoo returns them), so the
rules are tested without a server. The bot only ever changes a callflow's
`numbers` list; every other field (flow, name, metadata, ids) is sent back
as it was read.

- `MainCallflow` (`type: main`): the list starts with a placeholder (`"0"` or
  `"undefinedMainNumber"`) that always stays; real numbers follow it.
- `MainConference` (`type: conference`): the conference numbers, or
  `"undefinedconf"` when there are none.
- `MainFaxing` (`type: faxing`): one number, or `"undefinedfaxing"`.
- A user's callflow (`owner_id`): the user's extension and numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.backends.carrier import RouteTarget
from bot.domain.assignment import AssignmentKind

MAIN_PLACEHOLDERS = ("0", "undefinedMainNumber")
CONFERENCE_PLACEHOLDER = "undefinedconf"
FAXING_PLACEHOLDER = "undefinedfaxing"
PLACEHOLDERS = frozenset({*MAIN_PLACEHOLDERS, CONFERENCE_PLACEHOLDER, FAXING_PLACEHOLDER})

TYPE_OF: Mapping[AssignmentKind, str] = {
    AssignmentKind.MAIN: "main",
    AssignmentKind.CONFERENCE: "conference",
    AssignmentKind.FAXBOX: "faxing",
}
NAME_OF: Mapping[AssignmentKind, str] = {
    AssignmentKind.MAIN: "MainCallflow",
    AssignmentKind.CONFERENCE: "MainConference",
    AssignmentKind.FAXBOX: "MainFaxing",
}
KIND_OF_TYPE: Mapping[str, AssignmentKind] = {v: k for k, v in TYPE_OF.items()}


class FaxboxTaken(Exception):
    """MainFaxing already answers on another real number."""

    def __init__(self, current: str) -> None:
        super().__init__(current)
        self.current = current


def same_number(entry: str, e164: str) -> bool:
    """Callflows may hold `+14155550123`, `14155550123` or `4155550123`."""
    digits = e164.lstrip("+")
    return entry in (e164, digits, digits[1:] if digits.startswith("1") else digits)


def is_real_number(entry: str) -> bool:
    """An E.164 number, not a placeholder or an extension."""
    return entry.startswith("+") and entry[1:].isascii() and entry[1:].isdigit()


def numbers_of(doc: Mapping[str, Any]) -> list[str]:
    raw = doc.get("numbers")
    return [str(n) for n in raw] if isinstance(raw, list) else []


def is_company(doc: Mapping[str, Any]) -> bool:
    """A company-wide callflow: neither a user's nor a group's."""
    return not doc.get("owner_id") and not doc.get("group_id")


def target_of(doc: Mapping[str, Any]) -> RouteTarget | None:
    """The route a callflow document stands for, or None for callflows the bot leaves alone."""
    owner = doc.get("owner_id")
    if isinstance(owner, str) and owner:
        return RouteTarget.user(owner)
    kind = KIND_OF_TYPE.get(str(doc.get("type", "")))
    if kind is not None and is_company(doc):
        return RouteTarget(kind)
    return None


def contains(doc: Mapping[str, Any], e164: str) -> bool:
    return any(same_number(n, e164) for n in numbers_of(doc))


def with_number(doc: Mapping[str, Any], target: RouteTarget, e164: str) -> dict[str, Any]:
    """The document with `e164` added for `target`; raises FaxboxTaken when MainFaxing is full."""
    numbers = numbers_of(doc)
    if any(same_number(n, e164) for n in numbers):
        return dict(doc)
    if target.kind is AssignmentKind.MAIN:
        if not any(n in MAIN_PLACEHOLDERS for n in numbers):
            # SmartPBX keeps the placeholder first; restore it if someone removed it.
            numbers.insert(0, MAIN_PLACEHOLDERS[0])
        numbers.append(e164)
    elif target.kind is AssignmentKind.CONFERENCE:
        numbers = [n for n in numbers if n != CONFERENCE_PLACEHOLDER] + [e164]
    elif target.kind is AssignmentKind.FAXBOX:
        current = [n for n in numbers if n != FAXING_PLACEHOLDER]
        if current:
            raise FaxboxTaken(current[0])
        numbers = [e164]
    else:
        numbers.append(e164)
    return {**doc, "numbers": numbers}


def without_number(doc: Mapping[str, Any], e164: str) -> dict[str, Any]:
    """The document without `e164`, putting SmartPBX's placeholder back when it would be empty."""
    numbers = [n for n in numbers_of(doc) if not same_number(n, e164)]
    target = target_of(doc)
    if target is not None and target.kind is not AssignmentKind.USER:
        if target.kind is AssignmentKind.MAIN and not any(n in MAIN_PLACEHOLDERS for n in numbers):
            numbers.insert(0, MAIN_PLACEHOLDERS[0])
        elif target.kind is AssignmentKind.CONFERENCE and not numbers:
            numbers = [CONFERENCE_PLACEHOLDER]
        elif target.kind is AssignmentKind.FAXBOX and not numbers:
            numbers = [FAXING_PLACEHOLDER]
    return {**doc, "numbers": numbers}


def pick_company(
    docs: Sequence[Mapping[str, Any]], kind: AssignmentKind
) -> Mapping[str, Any] | None:
    """SmartPBX's callflow for a company target: by type, preferring its usual name."""
    wanted = TYPE_OF[kind]
    candidates = [d for d in docs if d.get("type") == wanted and is_company(d)]
    named = [d for d in candidates if d.get("name") == NAME_OF[kind]]
    found = named or candidates
    return found[0] if found else None
