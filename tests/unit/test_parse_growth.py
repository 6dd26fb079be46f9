"""Issue 13, item 1: parsing `/numbers TEXT` is linear in the text, and bounded.

Work is counted, not timed: every Python line executed, plus the size of every string or
list handed to a function called during the parse (a parser handed a longer and longer
prefix of the words, as `move` once did for every cut, adds up quadratically even though
its lines do not).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

from bot.handlers import commands
from bot.handlers.commands import Help, parse_command

# Every verb, and the ways of starting it that lead a parser furthest before the filler.
STARTS = [
    "",
    "help",
    "zap",
    "buy",
    "buy local",
    "buy tollfree 800 for",
    "search",
    "search local",
    "spare",
    "list",
    "list main local",
    "e911",
    "assign",
    "assign (415) 555-2671",
    "unassign",
    "requests",
    "account",
    "account create",
    "account use",
    "move",
    "move (415) 555-2671",
    "release",
    "restore",
    "history",
]
# What the rest is made of: words of every kind the parsers look at.
FILLERS = ["x", "415", "(415)", "555-2671", "+1", "<@U1|x>", "for", "local", "e911", "main"]


def _text(start: str, filler: str, size: int) -> str:
    head = f"{start} " if start else ""
    return head + " ".join([filler] * max(1, (size - len(head)) // (len(filler) + 1) + 1))


def _size(value: object) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def steps(text: str) -> int:
    """Lines run and argument sizes of every call made while `text` is parsed."""
    count = 0
    outer: list[FrameType | None] = [None]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "call":
            if outer[0] is None:
                outer[0] = frame  # the text handed in is not work done
            else:
                count += 1 + sum(_size(v) for v in frame.f_locals.values())
        return local

    sys.settrace(tracer)
    try:
        parse_command(text)
    finally:
        sys.settrace(None)
    return count


@pytest.fixture
def uncapped(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The parsers themselves, without the refusal of long texts in front of them."""
    monkeypatch.setattr(commands, "MAX_COMMAND_TEXT", 10**9)
    yield


@pytest.mark.usefixtures("uncapped")
@pytest.mark.parametrize("start", STARTS)
def test_no_verb_parses_in_more_than_linear_steps(start: str) -> None:
    small, large = 2_000, 16_000  # characters; 8 times as many
    for filler in FILLERS:
        few, many = steps(_text(start, filler, small)), steps(_text(start, filler, large))
        # Linear work grows 8 times (less with fixed costs); quadratic work 64 times.
        assert many <= 10 * few, (start, filler, few, many)


@pytest.mark.parametrize("start", ["move", "buy", "list", "assign", "zap"])
def test_a_text_longer_than_any_command_is_refused_at_once_in_words(start: str) -> None:
    counted = [steps(_text(start, "x", kb * 1024)) for kb in (4, 16, 40)]
    assert max(counted) - min(counted) <= 2, counted  # the same few steps, whatever the size
    parsed = parse_command(_text(start, "x", 40 * 1024))
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert "no /numbers command is longer than 500" in parsed.problem


def test_the_longest_real_commands_fit() -> None:
    mention = "<@U0123456789ABCDEFGHIJ|" + "a" * 80 + ">"
    name = "N" * 64
    for text in (
        f"assign +1 (415) 555-2671 {mention}",
        f"buy tollfree 800 for {mention}",
        f"account create {name}",
        f"move +1 (415) 555-2671 {name}",
        f"list {mention} tollfree 800 no-e911",
    ):
        parsed = parse_command(text)
        assert not isinstance(parsed, Help), (text, parsed)
