"""Parsing `/numbers list|e911|assign|unassign` into commands."""

from __future__ import annotations

import pytest

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.errors import InvalidInput
from bot.domain.phone import Kind
from bot.domain.records import AssignmentFilter, NumberFilter
from bot.handlers.commands import Help, Spare, parse_command
from bot.handlers.manage_commands import (
    AssignNumber,
    ListNumbers,
    OpenE911,
    UnassignNumber,
    number_ref,
)

NUMBER = "+14155552671"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", NumberFilter()),
        ("list main", NumberFilter(assignment=AssignmentFilter.parse("main"))),
        (
            "list conference tollfree",
            NumberFilter(assignment=AssignmentFilter.parse("conference"), kind=Kind.TOLLFREE),
        ),
        ("list faxbox", NumberFilter(assignment=AssignmentFilter.parse("faxbox"))),
        ("list users", NumberFilter(assignment=AssignmentFilter.parse("users"))),
        ("list <@U123ABC|dave>", NumberFilter(assignment=AssignmentFilter.parse("user:U123ABC"))),
        (
            "list spare local",
            NumberFilter(assignment=AssignmentFilter.parse("spare"), kind=Kind.LOCAL),
        ),
        ("list e911", NumberFilter(e911=True)),
        ("list no-e911 415", NumberFilter(e911=False, npa="415")),
        ("list (212)", NumberFilter(npa="212")),
        ("list 800", NumberFilter(npa="800", kind=Kind.TOLLFREE)),
    ],
)
def test_list_filters(text: str, expected: NumberFilter) -> None:
    assert parse_command(text) == ListNumbers(expected)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("list everything", "I did not understand “everything”"),
        ("list main users", "one assignment at a time"),
        ("list e911 no-e911", "not both"),
        ("list 911", "service code"),
        ("list 415-555", "3-digit area code"),
        ("list @nobody", "There is no one called “@nobody”"),
        ("list local 800", "toll-free prefix"),
    ],
)
def test_list_mistakes_become_help(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert problem in parsed.problem


def test_spare_is_still_its_own_command() -> None:
    assert parse_command("spare") == Spare()


@pytest.mark.parametrize(
    "typed",
    [
        "+14155552671",
        "4155552671",
        "415-555-2671",
        "(415) 555-2671",
        "1 415 555 2671",
        "+1 (415) 555-2671",
    ],
)
def test_number_formats(typed: str) -> None:
    assert number_ref(typed) == NUMBER
    assert parse_command(f"e911 {typed}") == OpenE911(NUMBER, typed)
    assert parse_command(f"unassign {typed}") == UnassignNumber(NUMBER, typed)
    assert parse_command(f"assign {typed} faxbox") == AssignNumber(
        NUMBER, typed, Assignment(AssignmentKind.FAXBOX)
    )


def test_assign_to_a_person() -> None:
    parsed = parse_command(f"assign {NUMBER} <@U777|erin>")
    assert parsed == AssignNumber(NUMBER, NUMBER, Assignment.user("U777"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("e911", "Say which number"),
        ("unassign 415-555-01", "“415-555-01” is not a US or Canadian number"),
        ("e911 (415) 555-0123", "fictional 555-01XX"),
        ("assign 4155552671", "Use `/numbers assign NUMBER"),
        ("assign 4155552671 boss", "“boss” is not a target"),
    ],
)
def test_number_mistakes_say_what_is_accepted(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert problem in parsed.problem


def test_a_long_number_is_clipped_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        number_ref("4" * 300)
    assert "4" * 41 not in caught.value.message
    assert "(415) 555-2671" in caught.value.message
