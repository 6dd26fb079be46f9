"""Parsing `/numbers TEXT`."""

from __future__ import annotations

import pytest

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.phone import Kind
from bot.handlers.commands import Buy, Help, Requests, Search, Spare, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("buy", Buy()),
        ("buy local 415", Buy(Kind.LOCAL, "415")),
        (
            "buy tollfree 800 for conference",
            Buy(Kind.TOLLFREE, "800", Assignment(AssignmentKind.CONFERENCE)),
        ),
        ("buy toll-free", Buy(Kind.TOLLFREE)),
        ("buy local for faxbox", Buy(Kind.LOCAL, None, Assignment(AssignmentKind.FAXBOX))),
        ("buy for main", Buy(target=Assignment.main())),
        ("buy <@U123ABC|dave>", Buy(target=Assignment.user("U123ABC"))),
        (
            "BUY Local 415-555 FOR <@U123ABC>",
            Buy(Kind.LOCAL, "415-555", Assignment.user("U123ABC")),
        ),
        ("search local 415", Search(Kind.LOCAL, "415")),
        ("search 800", Search(Kind.TOLLFREE, "800")),
        ("search 212 25", Search(Kind.LOCAL, "212", 25)),
        ("search 415 500", Search(Kind.LOCAL, "415 500")),  # an exchange, not 500 numbers
        ("spare", Spare()),
        ("requests", Requests("mine")),
        ("requests pending", Requests("pending")),
    ],
)
def test_understood(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("frobnicate", "“frobnicate” is not a /numbers command"),
        ("buy for", "Say who to buy for"),
        ("buy for nobody-at-all", "is not a target"),
        ("buy local 415 extra words", "I did not understand"),
        ("search", "Say what to search"),
        ("search 415 ten", "from 1 to 50"),
        ("search 415 ²", "from 1 to 50"),  # isdigit() but not a number int() reads
        ("spare 415", "takes no arguments"),
        ("requests everything", "mine`, `pending` or `all"),
    ],
)
def test_not_understood_becomes_usage_naming_the_problem(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help)
    assert parsed.problem is not None and problem in parsed.problem
