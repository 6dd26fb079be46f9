"""The acknowledgement benchmark still runs end to end (tiny numbers; no timing is asserted)."""

from __future__ import annotations

from bench import ack


async def test_ack_benchmark_runs() -> None:
    options = ack.Options(requests=20, concurrency=5, warmup=2)
    report = await ack.run(options)

    ran = {(r.operation, r.app) for r in report.runs}
    operations = {"/numbers help", "/numbers buy", "Cancel (decided card)"}
    assert ran == {(op, app) for op in operations for app in ack.APPS}
    for run in report.runs:
        # Every request, warm-up included, was answered 200; every measured one was timed.
        assert run.statuses == {200: options.requests + options.warmup}, run
        assert len(run.samples) == options.requests
        assert len(run.inside) == options.requests
    # The real app did its work after the acks, against the stand-in.
    assert report.background["views.open"].startswith("22 ok, 0 failed")
    assert report.background["response_url"].startswith("22 ok, 0 failed")
    assert "real/bare" in ack.render(report)
