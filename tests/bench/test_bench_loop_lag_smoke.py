"""The loop-lag benchmark still runs end to end (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import gc

from bench import loop_lag


async def test_loop_lag_benchmark_runs() -> None:
    options = loop_lag.Options(
        sync_numbers=60, list_numbers=200, purchases=6, command_kb=2, idle_probes=5, page_size=20
    )
    report = await loop_lag.run(options)

    names = [p.name for p in report.phases]
    assert names == [
        "idle",
        "mixed load",
        "alone: mirror sync",
        "alone: /numbers list",
        "alone: 2 KB command",
        "alone: 6 purchases",
    ]
    idle, mixed = report.phases[0], report.phases[1]
    assert idle.acks is not None and len(idle.acks.samples) == 5
    assert mixed.acks is not None and mixed.acks.samples
    assert "sync: 60 numbers" in mixed.done and "purchases:" in mixed.done
    assert all(p.samples > 0 for p in report.phases)
    assert gc.get_freeze_count() == 0  # the benchmark leaves the heap as it found it
    shown = loop_lag.render(report)
    assert "worst lag ms" in shown and "ack p99 of /numbers help" in shown
