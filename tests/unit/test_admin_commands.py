"""Parsing `/numbers account|move|release|restore|history`."""

from __future__ import annotations

import pytest

from bot.handlers.admin_commands import (
    AccountCreate,
    AccountList,
    AccountUse,
    History,
    Move,
    Release,
    Restore,
)
from bot.handlers.commands import Help, parse_command

N = "+14155552671"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("account", AccountList()),
        ("account list", AccountList()),
        ("accounts", AccountList()),
        ("account create Branch Office", AccountCreate("Branch Office")),
        ("account use  branch   office", AccountUse("branch office")),
        ("move (415) 555-2671 Branch Office", Move(N, "Branch Office")),
        ("move +14155552671 Main", Move(N, "Main")),
        ("move 415-555-2671", Move(N, None)),
        ("move (415) 555-2671", Move(N, None)),
        ("release (415) 555-2671", Release(N)),
        ("restore 4155552671", Restore(N)),
        ("history +1 415 555 2671", History(N)),
    ],
)
def test_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("account rename X", "is not an account command"),
        ("account use", "Say the account's name"),
        ("account list extra", "takes nothing more"),
        ("move", "Say the number"),
        ("move Branch Office", "Say the number, then the account"),
        ("release", "Say which number"),
        ("restore 911", "is not a US or Canadian number"),
        ("history", "Say which number"),
    ],
)
def test_bad_commands_say_what_is_accepted(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert problem in parsed.problem


@pytest.mark.parametrize("verb", ["account", "history", "release", "restore", "move"])
def test_a_long_wrong_word_is_quoted_short(verb: str) -> None:
    parsed = parse_command(f"{verb} " + "<" * 4000)
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert len(parsed.problem) < 300
