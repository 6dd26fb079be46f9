"""SmartPBX's callflows: which one a target is, and how a number joins or leaves it.

Pure functions over callflow documents (dicts as Kazoo returns them), so the
rules are tested without a server. The bot only ever changes a callflow's
`numbers` list (and which faxbox MainFaxing rings); the backend PATCHes just
those, so every other field stays as Kazoo has it.

Each rule is SmartPBX's (monster-ui-voip, submodules/strategy/strategy.js and
submodules/users/users.js):
- `MainCallflow` (`type: main`): `["undefinedMainNumber"]` while it has no
  number; the first number turns the placeholder into `"0"` (dial 0 reaches the
  company, strategy.js:1141-1147); when the last leaves, the lone `"0"` turns
  back into `"undefinedMainNumber"` (strategy.js:1274-1279, 2812-2819).
- `MainConference` (`type: conference`): the conference numbers, or
  `"undefinedconf"` when there are none.
- `MainFaxing` (`type: faxing`): its numbers, or `"undefinedfaxing"`
  (strategy.js:1586-1589, 1797-1800); `flow.data.id` names the faxbox that
  answers. SmartPBX may hold several numbers there; the first is the one it
  shows and the faxbox's caller ID, so it is the one the bot calls the faxbox's.
- A person's numbers live in their callflow of `type: mainUserCallflow` (or an
  untyped one, as users.js:4444 accepts), never in their mobile callflow, which
  also carries their `owner_id` (app.js:306-325).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.backends.carrier import RouteTarget
from bot.domain.assignment import AssignmentKind

MAIN_PLACEHOLDER = "undefinedMainNumber"
DIAL_ZERO = "0"
MAIN_PLACEHOLDERS = (DIAL_ZERO, MAIN_PLACEHOLDER)
USER_CALLFLOW_TYPE = "mainUserCallflow"
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


def is_user_callflow(doc: Mapping[str, Any]) -> bool:
    """A person's own callflow (users.js:4444), not their mobile one."""
    owner = doc.get("owner_id")
    if not isinstance(owner, str) or not owner:
        return False
    return doc.get("type") == USER_CALLFLOW_TYPE or "type" not in doc


def target_of(doc: Mapping[str, Any]) -> RouteTarget | None:
    """The route a callflow document stands for, or None for callflows the bot leaves alone."""
    if is_user_callflow(doc):
        return RouteTarget.user(str(doc["owner_id"]))
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
        # The first number turns the placeholder into "0", wherever it is.
        numbers = [DIAL_ZERO if n == MAIN_PLACEHOLDER else n for n in numbers]
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
        if target.kind is AssignmentKind.MAIN and numbers in ([DIAL_ZERO], []):
            # No main number left: "0" must not stay routed (strategy.js:1274-1279).
            numbers = [MAIN_PLACEHOLDER]
        elif target.kind is AssignmentKind.CONFERENCE and not numbers:
            numbers = [CONFERENCE_PLACEHOLDER]
        elif target.kind is AssignmentKind.FAXBOX and not numbers:
            numbers = [FAXING_PLACEHOLDER]
    return {**doc, "numbers": numbers}


def faxbox_id(doc: Mapping[str, Any]) -> str | None:
    """The faxbox MainFaxing rings (`flow.data.id`), None while SmartPBX has made none."""
    flow = doc.get("flow")
    data = flow.get("data") if isinstance(flow, dict) else None
    found = data.get("id") if isinstance(data, dict) else None
    return found if isinstance(found, str) and found else None


def faxbox_number(doc: Mapping[str, Any]) -> str | None:
    """The number SmartPBX shows for MainFaxing (its first real one)."""
    return next((n for n in numbers_of(doc) if is_real_number(n)), None)


def pick_user(docs: Sequence[Mapping[str, Any]], owner_id: str) -> Mapping[str, Any] | None:
    """A person's SmartPBX callflow: `mainUserCallflow` first, else an untyped one."""
    mine = [d for d in docs if d.get("owner_id") == owner_id and is_user_callflow(d)]
    typed = [d for d in mine if d.get("type") == USER_CALLFLOW_TYPE]
    found = typed or mine
    return found[0] if found else None


def pick_company(
    docs: Sequence[Mapping[str, Any]], kind: AssignmentKind
) -> Mapping[str, Any] | None:
    """SmartPBX's callflow for a company target: by type, preferring its usual name."""
    wanted = TYPE_OF[kind]
    candidates = [d for d in docs if d.get("type") == wanted and is_company(d)]
    named = [d for d in candidates if d.get("name") == NAME_OF[kind]]
    found = named or candidates
    return found[0] if found else None
