"""The mirror sync of the kazoo backend: every number of a Kazoo cluster into the bot's database.

    python -m bench.sync [--numbers 100000] [--page-size 500] [--routed 0.3] [--e911 0.01]

The stand-in Kazoo (standins/kazoo) runs in a child process, filled with
`--numbers` in-service numbers over two sub-accounts (`--routed` of them in
SmartPBX's main callflow or a user's, `--e911` with an emergency address), so
the figures below are the bot's alone: its process reads every page over HTTP
(`KazooCarrier`), writes one short transaction per page (`InventorySync`) into a
fresh SQLite file and audits every number it adds. Printed:

- the first sync into an empty database (time, numbers/s);
- a second sync with nothing changed (reads everything, writes nothing);
- the first sync again into another empty database under `tracemalloc`:
  the peak of Python allocations during the sync (slower: not timed);
- every page read alone, nothing written: what the stand-in (which filters
  and sorts all its numbers for every page) and HTTP cost, to subtract;
- the process's peak RSS (`resource.getrusage`), which includes the interpreter
  and the libraries.

Nothing asserts on timing (tests/bench/test_bench_sync_smoke.py runs it tiny).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.backends.carrier import Carrier
from bot.backends.kazoo import KazooCarrier
from bot.domain.mirror import SyncReport
from bot.service.inventory_sync import InventorySync
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory

from ._common import WORKSPACE, environment


@dataclass(frozen=True, slots=True)
class Options:
    numbers: int = 100_000
    page_size: int = 500
    routed: float = 0.3
    e911: float = 0.01
    seed: int = 7


@dataclass(frozen=True, slots=True)
class Run:
    label: str
    report: SyncReport
    seconds: float
    peak_bytes: int | None = None


# --------------------------------------------------------------------------- the stand-in (child)


async def _serve(options: Options) -> None:
    from standins.kazoo import CHILD_A, CHILD_B, Number, running

    rng = random.Random(options.seed)
    async with running() as kazoo:
        model = kazoo.model
        main = model.callflows[CHILD_A][f"{CHILD_A}-main"]["numbers"]
        alice = model.callflows[CHILD_A][f"{CHILD_A}-alice"]["numbers"]
        for i in range(options.numbers):
            e164 = f"+1{415 + i % 7}{2000000 + i:07d}"
            account = CHILD_A if i % 4 else CHILD_B
            number = Number(e164, "in_service", assigned_to=account, features=["local"])
            if account == CHILD_A and rng.random() < options.routed:
                (main if rng.random() < 0.5 else alice).append(e164)
                number.used_by = "callflow"
            if rng.random() < options.e911:
                number.features.append("e911")
                number.public["e911"] = {
                    "street_address": f"{100 + i % 900} Natoma St",
                    "locality": "San Francisco",
                    "region": "CA",
                    "postal_code": "94105",
                    "caller_name": "Acme",
                    "status": "PROVISIONED",
                }
            model.numbers[e164] = number
        # The listing sorts on every request: sort once so a page costs a slice.
        model.numbers = dict(sorted(model.numbers.items()))
        print(kazoo.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# --------------------------------------------------------------------------- the bot (parent)


async def _sync_once(url: str, db: Path, options: Options, *, traced: bool) -> Run:
    from standins.kazoo import API_KEY, ROOT

    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    await upgrade(engine)
    carrier = KazooCarrier.connect(url, API_KEY, ROOT, timeout=60)
    sync = InventorySync(
        Carrier(carrier, phone_system=carrier, inventory=carrier),
        UnitOfWorkFactory(session_factory(engine)),
        workspace_id=WORKSPACE,
        root_account_id=ROOT,
        root_name="Main",
        page_size=options.page_size,
    )
    try:
        if traced:
            tracemalloc.start()
            tracemalloc.reset_peak()
        started = time.perf_counter()
        report = await sync.run()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else None
        if traced:
            tracemalloc.stop()
        return Run("", report, seconds, peak)
    finally:
        await carrier.close()
        await engine.dispose()


async def _pages_alone(url: str, options: Options) -> Run:
    """Every page read and parsed, nothing written: the stand-in's share and HTTP's."""
    from standins.kazoo import API_KEY, ROOT

    carrier = KazooCarrier.connect(url, API_KEY, ROOT, timeout=60)
    report = SyncReport()
    try:
        started = time.perf_counter()
        for account in await carrier.accounts():
            key: str | None = None
            while True:
                page = await carrier.list_numbers(
                    account_id=account.id, start_key=key, page_size=options.page_size
                )
                report.pages += 1
                report.seen += len(page.numbers)
                if page.next_start_key is None:
                    break
                key = page.next_start_key
            report.accounts += 1
        return Run("pages alone (no database)", report, time.perf_counter() - started)
    finally:
        await carrier.close()


async def measure(url: str, workdir: Path, options: Options) -> list[Run]:
    first = await _sync_once(url, workdir / "a.db", options, traced=False)
    second = await _sync_once(url, workdir / "a.db", options, traced=False)
    traced = await _sync_once(url, workdir / "b.db", options, traced=True)
    # Last, so the stand-in is as warm as for the second sync.
    pages = await _pages_alone(url, options)
    return [
        Run("first sync (empty database)", first.report, first.seconds),
        Run("second sync (nothing changed)", second.report, second.seconds),
        Run("first sync under tracemalloc", traced.report, traced.seconds, traced.peak_bytes),
        pages,
    ]


def run(options: Options) -> list[Run]:
    """Serve the stand-in in a child process, and sync from it here."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.sync", "--serve", *_argv(options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the stand-in Kazoo did not start")
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            return asyncio.run(measure(url, Path(tmp), options))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)


def render(options: Options, runs: Sequence[Run]) -> str:
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        environment(),
        f"bench.sync: {options.numbers:,} numbers on 2 sub-accounts, page size"
        f" {options.page_size}, ~{options.routed:.0%} of one account routed,"
        f" ~{options.e911:.0%} with e911",
    ]
    for r in runs:
        rate = r.report.seen / r.seconds if r.seconds else 0.0
        timing = (
            f"peak Python memory {r.peak_bytes / 1e6:.1f} MB"
            if r.peak_bytes is not None
            else f"{r.seconds:.1f} s ({rate:,.0f} numbers/s)"
        )
        lines.append(f"  {r.label:<30} {timing}; {r.report.line()}; {r.report.changes} changes")
    lines.append(f"  peak RSS of the bot's process: {rss_mb:.0f} MB")
    return "\n".join(lines)


def _argv(options: Options) -> list[str]:
    return [
        "--numbers", str(options.numbers), "--page-size", str(options.page_size),
        "--routed", str(options.routed), "--e911", str(options.e911), "--seed", str(options.seed),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    defaults = Options()
    parser.add_argument("--numbers", type=int, default=defaults.numbers)
    parser.add_argument("--page-size", type=int, default=defaults.page_size)
    parser.add_argument("--routed", type=float, default=defaults.routed)
    parser.add_argument("--e911", type=float, default=defaults.e911)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    options = Options(args.numbers, args.page_size, args.routed, args.e911, args.seed)
    if args.serve:
        asyncio.run(_serve(options))
        return 0
    print(render(options, run(options)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
