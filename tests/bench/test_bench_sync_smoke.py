"""The mirror-sync benchmark still runs (tiny size; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import sync


def test_sync_benchmark_runs_and_the_second_sync_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sync.main(["--numbers", "40", "--page-size", "7", "--e911", "0.2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    first = next(line for line in lines if "first sync (empty database)" in line)
    second = next(line for line in lines if "second sync (nothing changed)" in line)
    traced = next(line for line in lines if "under tracemalloc" in line)
    alone = next(line for line in lines if "pages alone" in line)
    assert "40 numbers seen" in alone
    assert "40 numbers seen: 40 added" in first
    assert "; 0 changes" in second and "40 unchanged" in second
    assert "peak Python memory" in traced and "40 added" in traced
    assert "peak RSS of the bot's process" in out
