"""bench.list_handler still runs (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import list_handler


def test_list_handler_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--sizes", "300", "600", "--iterations", "3", "--warmup", "1"]
    assert list_handler.main(argv) == 0
    out = capsys.readouterr().out
    for op in list_handler.OPERATIONS:
        assert f"  600  {op}" in out or f"600  {op}" in out
    assert "handler p99 / smallest" in out
