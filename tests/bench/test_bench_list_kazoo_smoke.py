"""The list benchmark on both backends still runs (tiny size; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import list_kazoo


def test_list_benchmark_prints_both_backends_and_kazoo_is_not_called(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert list_kazoo.main(["--size", "30", "--iterations", "5", "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    assert "start-up sync mirrored 30 numbers" in out
    table = out.split("\n\n")[-1].splitlines()
    embedded = next(line for line in table if line.startswith("embedded"))
    kazoo = next(line for line in table if line.startswith("kazoo"))
    assert "30" in embedded and "p99" in table[0]
    # The list is served from the mirror: listing made no call to Kazoo.
    assert kazoo.split()[-1] == "0"
