"""The benchmarks still run (tiny sizes; no timing is asserted) and the double-sale proof holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench import contention, search
from tests import postgres


def test_search_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert search.main(["--sizes", "300", "500", "--iterations", "3", "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    for op in ("search local", "list all", "list tollfree", "list deep page", "list faxbox"):
        assert op in out
    assert "raw sqlite3 (baseline)" in out


def test_contention_benchmark_proves_no_double_sale(capsys: pytest.CaptureFixture[str]) -> None:
    # With PostgreSQL here, also on it with one app process and with three replicas.
    sqlite_only = [] if postgres.unavailable() is None else ["--sqlite-only"]
    argv = ["--contenders", "20", "--numbers", "5", "--accounts", "2", *sqlite_only]
    assert contention.main(argv) == 0
    out = capsys.readouterr().out
    assert "zero double sales: PASS" in out
    assert "FAIL" not in out


async def test_double_sale_check_catches_a_second_sale(tmp_path: Path) -> None:
    run = await contention.run_mode(
        "sqlite concurrent", contention.concurrently, 12, 4, 2, 7, db_dir=tmp_path
    )
    assert run.ok, [c for c in run.checks if not c.ok]
    assert run.db_path is not None and run.bought > 0
    # Forge a second request that also "bought" an already sold number.
    with sqlite3.connect(run.db_path) as conn:
        request_id, number = conn.execute(
            "SELECT request_id, number FROM purchase_items WHERE outcome = 'bought' LIMIT 1"
        ).fetchone()
        conn.execute(
            "CREATE TEMP TABLE r AS SELECT * FROM purchase_requests WHERE id = ?", (request_id,)
        )
        conn.execute("UPDATE r SET id = 'forged'")
        conn.execute("INSERT INTO purchase_requests SELECT * FROM r")
        conn.execute(
            "INSERT INTO purchase_items (request_id, number, position, spare, outcome, updated_at)"
            " SELECT 'forged', number, position, spare, outcome, updated_at FROM purchase_items"
            " WHERE request_id = ? AND number = ?",
            (request_id, number),
        )
    checks = await contention.verify(run.database_url, run.numbers, run.orders)
    failed = {c.name for c in checks if not c.ok}
    assert "one `bought` item per number" in failed
