"""bench.parse still runs (one small size, few parses; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import parse
from bot.handlers import commands


def test_parse_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse.main(["--sizes", "1", "--iterations", "5", "--budget", "0.01"]) == 0
    out = capsys.readouterr().out
    for verb, *_ in parse.VERBS:
        assert f"\n{verb} " in out, verb
    assert "uncapped/split" in out
    assert commands.MAX_COMMAND_TEXT == 500  # the refusal is back in place after the run
