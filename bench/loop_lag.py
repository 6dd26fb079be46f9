"""Event-loop stalls under a mixed load, next to the ack latency of `/numbers help`.

    python -m bench.loop_lag [--sync-numbers 100000] [--list-numbers 1000000]
                             [--purchases 50] [--command-kb 40] [--idle-probes 200]
                             [--no-alone] [--slow-callbacks]

One event loop in this process runs, as one replica would:

- the kazoo backend's full mirror sync of `--sync-numbers` numbers from the
  stand-in Kazoo (tests/kazoo_standin, in a child process as in `bench.sync`),
  into its own SQLite file;
- the real app (`bot.app.build_app`, embedded backend) behind `bot.server.start_http`
  on a SQLite file holding `--list-numbers` numbers (bench/dataset.py), with the
  Slack stand-in (`bot.console.fake_slack`) and signed requests (`SlackDriver`):
  `/numbers list` again and again (each waits for its reply), a `--command-kb`
  command again and again, and `--purchases` concurrent purchases (request,
  accept, provision through the services, as `bench.contention` does);
- `/numbers help`, one at a time, timing each HTTP round trip (the ack).

A sampler task sleeps 2 ms again and again and records how late it woke: its
worst lateness is the worst stall of the loop (to within 2 ms). Printed: the
worst stall and the ack latency of `/numbers help` idle (nothing else running)
and under the load (until the sync ends), then each part of the load alone
(`--no-alone` skips that), to tell which one stalls the loop. Target: no stall
over 50 ms. `--slow-callbacks` turns on asyncio's debug mode and prints every
callback that held the loop 50 ms or more, with its coroutine (slower: for
finding causes, not for figures).

The Slack stand-in and the driver share the loop with the app: a stall delays
them too, as it would delay every other request of the replica. Nothing
asserts on timing (tests/bench/test_bench_loop_lag_smoke.py runs it tiny).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from bot.app import build_app, close_app
from bot.bootstrap import Runtime, start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack
from bot.metrics import LoopLagSampler
from bot.server import freeze_start_up_heap, start_http
from bot.service.context import Actor

from . import contention, dataset, sync
from ._common import ADMIN, WORKSPACE, Latency, bench_settings, environment, ms, table, verdict

SECRET = "bench-loop-lag-secret"
TOKEN = "xoxb-bench-loop-lag"
CHANNEL = "C0"
LISTER, TYPIST, PROBER = "ULISTER", "UTYPIST", "UPROBER"
STALL_TARGET_MS = 50.0
SAMPLE_SECONDS = 0.002
# Records of the Slack stand-in kept (per kind): the most recent ones, for replies in flight.
KEEP = 200
ROOT = Path(__file__).resolve().parents[1]
SLACK_ACK_LIMIT_MS = 3000.0


@dataclass(frozen=True, slots=True)
class Options:
    sync_numbers: int = 100_000
    list_numbers: int = 1_000_000
    purchases: int = 50
    command_kb: int = 40
    idle_probes: int = 200
    alone: bool = True
    slow_callbacks: bool = False
    stacks: bool = False
    # As `serve` does (bot.server.freeze_start_up_heap); --no-freeze shows the loop without.
    freeze: bool = True
    page_size: int = 500


@dataclass(slots=True)
class Phase:
    name: str
    seconds: float
    worst_ms: float
    stalls: int  # samples later than STALL_TARGET_MS
    samples: int
    worst_busy_ms: float  # the loop thread's CPU time between two samples
    busy_stalls: int
    worst_gc_ms: float  # the longest garbage collection
    acks: Latency | None = None
    done: str = ""


@dataclass(slots=True)
class Report:
    options: Options
    phases: list[Phase] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stacks: list[tuple[str, int]] = field(default_factory=list)


class Sampler(LoopLagSampler):
    """The loop-lag sampler, counting how many of its wake-ups came too late.

    Next to the wall-clock lateness it keeps the CPU time the loop's thread spent
    between two wake-ups (`worst_busy`): what the loop itself computed. Wall lag well
    above it is time the thread waited for the CPU or the GIL (other threads, other
    processes on a shared machine), not work done on the loop.
    """

    def __init__(self) -> None:
        super().__init__(None, interval=SAMPLE_SECONDS)
        self.stalls = 0
        self.busy_stalls = 0
        self.worst_busy = 0.0
        self.beat = time.perf_counter()

        self.worst_gc = 0.0
        self._gc_began = 0.0

    def reset(self) -> None:
        super().reset()
        self.stalls = self.busy_stalls = 0
        self.worst_busy = self.worst_gc = 0.0

    def gc_callback(self, phase: str, info: dict[str, int]) -> None:
        """Registered in `gc.callbacks`: the longest garbage collection of the phase."""
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.worst_gc = max(self.worst_gc, time.perf_counter() - self._gc_began)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - began - self.interval)
            busy = time.thread_time() - cpu
            self.beat = time.perf_counter()
            self.samples += 1
            self.worst = max(self.worst, lag)
            self.worst_busy = max(self.worst_busy, busy)
            self.stalls += lag * 1000 > STALL_TARGET_MS
            self.busy_stalls += busy * 1000 > STALL_TARGET_MS


class StallStacks:
    """`--stacks`: a thread that looks, every 10 ms, at where the loop's thread is while
    the sampler has not been woken for over 50 ms; each look counts ~10 ms of stall."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.thread_id = threading.get_ident()
        self.seen: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stall-stacks", daemon=True)

    def __enter__(self) -> StallStacks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            if time.perf_counter() - self.sampler.beat < STALL_TARGET_MS / 1000:
                continue
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                self.seen[_where(frame)] += 1


def _where(frame: FrameType) -> str:
    """The innermost frame, and the innermost three of the project's own."""
    innermost = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
    ours: list[str] = []
    current: FrameType | None = frame
    while current is not None and len(ours) < 3:
        path = Path(current.f_code.co_filename)
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            ours.append(f"{path.relative_to(ROOT)}:{current.f_lineno} {current.f_code.co_name}")
        current = current.f_back
    return f"{innermost} <- " + " <- ".join(ours)


# --------------------------------------------------------------------------- the stand-in Kazoo


@asynccontextmanager
async def standin_kazoo(options: Options) -> AsyncIterator[str]:
    """`bench.sync`'s stand-in, filled with `sync_numbers` numbers, in a child process."""
    sync_options = sync.Options(numbers=options.sync_numbers, page_size=options.page_size)
    child = subprocess.Popen(  # noqa: ASYNC220 - once, before anything is measured
        [sys.executable, "-m", "bench.sync", "--serve", *sync._argv(sync_options)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        url = (await asyncio.to_thread(child.stdout.readline)).strip()
        if not url.startswith("http"):
            raise RuntimeError("the stand-in Kazoo did not start")
        # `bench.sync` imports it on first use; here it is imported before anything is timed.
        importlib.import_module("tests.kazoo_standin")
        yield url
    finally:
        if child.stdin is not None:
            child.stdin.close()
        await asyncio.to_thread(child.wait, 30)


# --------------------------------------------------------------------------- the app


@dataclass(slots=True)
class Subject:
    rt: Runtime
    slack: FakeSlack
    driver: SlackDriver
    workdir: Path
    kazoo_url: str
    options: Options
    filled: int = 0  # numbers in the app's database
    syncs: int = 0
    rounds: int = 0

    def tidy(self) -> None:
        """Keep the stand-in's records short.

        The Slack stand-in keeps every call, reply, trigger id and response URL it
        was ever sent or issued; left to grow, they are the bulk of the heap that a
        full garbage collection walks, which is the bench's own cost, not the app's.
        """
        state = self.slack.state
        for user in (PROBER, TYPIST):
            state.ephemerals.pop((CHANNEL, user), None)
        del state.calls[:-KEEP]
        for issued in (self.slack._triggers, self.slack._response_urls):
            if len(issued) > 2 * KEEP:
                for key in list(issued)[:-KEEP]:
                    del issued[key]

    # --- the parts of the load ----------------------------------------------------------

    async def mirror_sync(self) -> str:
        """One full sync from the stand-in into a fresh database."""
        self.syncs += 1
        db = self.workdir / f"mirror-{self.syncs}.db"
        sync_options = sync.Options(
            numbers=self.options.sync_numbers, page_size=self.options.page_size
        )
        run = await sync._sync_once(self.kazoo_url, db, sync_options, traced=False)
        return f"sync: {run.report.seen:,} numbers in {run.seconds:.1f} s"

    async def list_once(self) -> None:
        """`/numbers list`, waiting for the first page to be posted."""
        posted = self.slack.state.ephemerals.setdefault((CHANNEL, LISTER), [])
        before = len(posted)
        await self.driver.slash(LISTER, CHANNEL, text="list")
        await self.slack.wait_for(lambda s: len(posted) > before, timeout=120)
        del posted[:]
        self.tidy()

    async def big_command_once(self) -> None:
        """A `--command-kb` command: words the parser must read and refuse."""
        words = ("local 415 for @someone main spare e911 " * (self.options.command_kb * 26))[
            : self.options.command_kb * 1024
        ]
        await self.driver.slash(TYPIST, CHANNEL, text=f"search {words}")
        self.tidy()

    async def purchases(self) -> str:
        """`--purchases` concurrent purchases of overlapping numbers (a fresh pool each round)."""
        self.rounds += 1
        pool = await contention.find_pool(self.rt, max(10, self.options.purchases // 4))
        planned = contention.plan_contenders(pool, self.options.purchases, [CHANNEL], self.rounds)
        outcomes = await asyncio.gather(*(contention.purchase(self.rt, c) for c in planned))
        errors = [o.result for o in outcomes if o.result.startswith("error")]
        if errors:
            raise RuntimeError(f"purchases failed: {errors[:3]}")
        bought = sum(1 for o in outcomes if not o.result.startswith("conflict"))
        return f"purchases: {bought} of {len(outcomes)} bought, the rest lost the race"

    async def help_ack(self) -> int:
        began = time.perf_counter_ns()
        result = await self.driver.slash(PROBER, CHANNEL, text="help")
        if result.status != 200:
            raise RuntimeError(f"/numbers help answered {result.status}")
        elapsed = time.perf_counter_ns() - began
        self.tidy()
        return elapsed


async def prepare(stack: AsyncExitStack, options: Options, kazoo_url: str) -> Subject:
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-loop-lag-")))
    db_path = workdir / "app.db"
    slack = await stack.enter_async_context(FakeSlack(bot_token=TOKEN, team_id=WORKSPACE))
    for user in (ADMIN, LISTER, TYPIST, PROBER):
        slack.add_user(user, user.lower())
    slack.add_channel(CHANNEL, "numbers")
    settings = bench_settings(
        db_path,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        admins=[ADMIN, LISTER, TYPIST, PROBER],
        approvals={"mode": "never"},
    )
    rt = await start(settings)
    stack.push_async_callback(rt.close)
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)
    assert rt.carrier is not None
    filled = await dataset.build(
        rt.services, rt.carrier.stock, admin, db_path, options.list_numbers
    )
    app = build_app(rt)
    stack.push_async_callback(close_app, app)
    server = await start_http(app, "127.0.0.1")
    stack.push_async_callback(server.stop)
    # Acks slower than Slack's 3 s are timed too, not cut off.
    driver = SlackDriver(slack, server.events_url, SECRET, ack_timeout=60)
    stack.push_async_callback(driver.aclose)
    return Subject(rt, slack, driver, workdir, kazoo_url, options, filled.counts["numbers"])


# --------------------------------------------------------------------------- measuring


async def _repeat(part: Callable[[], Awaitable[object]], until: asyncio.Event) -> int:
    count = 0
    while not until.is_set():
        await part()
        count += 1
    return count


async def _measure(
    name: str,
    sampler: Sampler,
    subject: Subject,
    *,
    once: Sequence[Callable[[], Awaitable[str]]] = (),
    repeated: Sequence[tuple[str, Callable[[], Awaitable[object]]]] = (),
    probes: int | None = None,
) -> Phase:
    """Run `once` parts to their end, `repeated` parts and help probes meanwhile.

    With no `once` part, the probes (`probes` of them) set the length.
    """
    sampler.reset()
    began = time.perf_counter()
    stop = asyncio.Event()
    acks: list[int] = []

    async def probe() -> None:
        while not stop.is_set() and (probes is None or len(acks) < probes):
            acks.append(await subject.help_ack())

    loops = [asyncio.create_task(_repeat(part, stop)) for _, part in repeated]
    prober = asyncio.create_task(probe()) if probes != 0 else None
    try:
        if once:
            done = list(await asyncio.gather(*(part() for part in once)))
        elif prober is not None:
            await prober
            done = []
        else:
            done = []
    finally:
        stop.set()
    counts = await asyncio.gather(*loops)
    if prober is not None:
        await prober
    seconds = time.perf_counter() - began
    done += [f"{label}: {count} done" for (label, _), count in zip(repeated, counts, strict=True)]
    return Phase(
        name,
        seconds,
        sampler.worst * 1000,
        sampler.stalls,
        sampler.samples,
        sampler.worst_busy * 1000,
        sampler.busy_stalls,
        sampler.worst_gc * 1000,
        Latency(tuple(acks)) if acks else None,
        "; ".join(done),
    )


async def measure(subject: Subject, sampler: Sampler, options: Options) -> list[Phase]:
    phases = [await _measure("idle", sampler, subject, probes=options.idle_probes)]
    lists = ("/numbers list", subject.list_once)
    big = (f"{options.command_kb} KB command", subject.big_command_once)
    phases.append(
        await _measure(
            "mixed load",
            sampler,
            subject,
            once=(subject.mirror_sync, subject.purchases),
            repeated=(lists, big),
        )
    )
    if options.alone:
        alone_count = max(5, options.idle_probes // 10)

        async def lists_alone() -> str:
            for _ in range(alone_count):
                await subject.list_once()
            return f"/numbers list: {alone_count} done"

        async def big_alone() -> str:
            for _ in range(alone_count):
                await subject.big_command_once()
            return f"{options.command_kb} KB command: {alone_count} done"

        for label, part in (
            ("alone: mirror sync", subject.mirror_sync),
            ("alone: /numbers list", lists_alone),
            (f"alone: {options.command_kb} KB command", big_alone),
            (f"alone: {options.purchases} purchases", subject.purchases),
        ):
            phases.append(await _measure(label, sampler, subject, once=(part,), probes=0))
    return phases


async def run(options: Options) -> Report:
    report = Report(options)
    if options.slow_callbacks:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = STALL_TARGET_MS / 1000
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        logging.getLogger("asyncio").setLevel(logging.WARNING)
    async with AsyncExitStack() as stack:
        kazoo_url = await stack.enter_async_context(standin_kazoo(options))
        began = time.perf_counter()
        subject = await prepare(stack, options, kazoo_url)
        report.notes.append(
            f"app database: {subject.filled:,} numbers,"
            f" ready in {time.perf_counter() - began:.1f} s"
        )
        if options.freeze:
            freeze_start_up_heap()
        report.notes.append(
            "start-up heap frozen (as serve does)" if options.freeze else "heap not frozen"
        )
        sampler = Sampler()
        sampler.start()
        gc.callbacks.append(sampler.gc_callback)
        try:
            if options.stacks:
                with StallStacks(sampler) as stacks:
                    report.phases = await measure(subject, sampler, options)
                report.stacks = stacks.seen.most_common(12)
            else:
                report.phases = await measure(subject, sampler, options)
        finally:
            gc.callbacks.remove(sampler.gc_callback)
            await sampler.stop()
            gc.unfreeze()
    return report


def render(report: Report) -> str:
    o = report.options
    lines = [
        environment(),
        f"bench.loop_lag: sync of {o.sync_numbers:,} numbers, list over {o.list_numbers:,},"
        f" {o.command_kb} KB commands, {o.purchases} concurrent purchases;"
        f" loop sampled every {SAMPLE_SECONDS * 1000:g} ms",
        *report.notes,
        "",
    ]
    rows = []
    for p in report.phases:
        acks = p.acks
        rows.append(
            [
                p.name,
                f"{p.seconds:.1f}",
                ms(p.worst_ms),
                str(p.stalls),
                ms(p.worst_busy_ms),
                str(p.busy_stalls),
                verdict(p.worst_busy_ms <= STALL_TARGET_MS),
                ms(p.worst_gc_ms),
                str(len(acks.samples)) if acks else "-",
                ms(acks.p50_ms) if acks else "-",
                ms(acks.p99_ms) if acks else "-",
                ms(acks.max_ms) if acks else "-",
            ]
        )
    headers = [
        "phase",
        "s",
        "worst lag ms",
        f">{STALL_TARGET_MS:g}ms",
        "worst busy ms",
        f">{STALL_TARGET_MS:g}ms",
        f"busy<={STALL_TARGET_MS:g}ms",
        "worst gc ms",
        "help acks",
        "ack p50 ms",
        "ack p99 ms",
        "ack max ms",
    ]
    lines.append(table(headers, rows, right=set(range(1, 12))))
    lines.append("")
    lines.extend(f"  {p.name}: {p.done}" for p in report.phases if p.done)
    idle = next((p for p in report.phases if p.name == "idle"), None)
    mixed = next((p for p in report.phases if p.name == "mixed load"), None)
    if idle and mixed and idle.acks and mixed.acks:
        lines.append(
            f"ack p99 of /numbers help: {ms(idle.acks.p99_ms)} ms idle,"
            f" {ms(mixed.acks.p99_ms)} ms under the mixed load"
            f" (Slack gives up at {SLACK_ACK_LIMIT_MS:g} ms)"
        )
    if report.stacks:
        lines.append("where the loop was during stalls (looks, ~10 ms each):")
        lines.extend(f"  {count:5d}  {where}" for where, count in report.stacks)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loop_lag", description=__doc__)
    d = Options()
    parser.add_argument("--sync-numbers", type=int, default=d.sync_numbers)
    parser.add_argument("--list-numbers", type=int, default=d.list_numbers)
    parser.add_argument("--purchases", type=int, default=d.purchases)
    parser.add_argument("--command-kb", type=int, default=d.command_kb)
    parser.add_argument("--idle-probes", type=int, default=d.idle_probes)
    parser.add_argument("--page-size", type=int, default=d.page_size)
    parser.add_argument("--no-alone", action="store_true", help="skip each part alone")
    parser.add_argument("--slow-callbacks", action="store_true")
    parser.add_argument("--stacks", action="store_true", help="where the loop is in stalls")
    parser.add_argument("--no-freeze", action="store_true", help="leave the start-up heap")
    args = parser.parse_args(argv)
    options = Options(
        sync_numbers=args.sync_numbers,
        list_numbers=args.list_numbers,
        purchases=args.purchases,
        command_kb=args.command_kb,
        idle_probes=args.idle_probes,
        alone=not args.no_alone,
        slow_callbacks=args.slow_callbacks,
        stacks=args.stacks,
        freeze=not args.no_freeze,
        page_size=args.page_size,
    )
    print(render(asyncio.run(run(options))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
