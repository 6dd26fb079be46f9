"""`/numbers list` through the Slack handler, next to the service call alone.

    python -m bench.list_handler [--sizes 10000 1000000] [--iterations 300] [--warmup 30]

For each size: a database filled like bench.search's (bench/dataset.py), the real
app (`build_app`, every real handler) served over HTTP by `bot.server.start_http`,
and the Slack stand-in. Timed, per operation and size, interleaved in one loop:

- `list first page`: the signed `/numbers list` request is sent, the handler acks,
  reads the page and posts the list through the command's `response_url`; the time
  runs until the stand-in has the message.
- `list deep page`: a click on `Next` whose cursor is 25/50/75/90% into the account,
  until the stand-in shows the redrawn message.
- the same two pages through `services.listing.page` alone.

One process and one event loop play both Slack and the app, so the handler figures
include building and signing the request and the stand-in's work: an upper bound of
what the app adds. Nothing asserts on timing; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import build_app, close_app
from bot.blocks.payloads import ListRef
from bot.bootstrap import start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack, Message
from bot.domain.records import NumberFilter
from bot.server import start_http
from bot.service.container import Services
from bot.service.context import Actor

from . import dataset
from ._common import (
    ADMIN,
    CHANNEL,
    WORKSPACE,
    Latency,
    bench_settings,
    environment,
    ms,
    ratio,
    table,
    verdict,
)
from .search import deep_cursors

P99_TARGET_MS = 50.0
SCALE_TARGET = 1.5
SECRET = "bench-list-secret"
TOKEN = "xoxb-bench-list"
OPERATIONS = ("list first page", "list deep page")


@dataclass(slots=True)
class Subject:
    """One size: the app behind HTTP, the stand-in, and the ways to time a page."""

    size: int
    slack: FakeSlack
    driver: SlackDriver
    admin: Actor
    cursors: list[tuple[str, int]]  # (after, page number) 25/50/75/90% into the account
    services: Services
    results: dict[str, tuple[Latency, Latency]] = field(default_factory=dict)

    def _tidy(self) -> None:
        # Keep the stand-in's records small: the driver looks messages up by scanning them.
        self.slack.state.calls.clear()
        posted = self.slack.state.ephemerals.get((CHANNEL, ADMIN), [])
        del posted[1:]

    async def _until_replied(self, send: Callable[[], Awaitable[object]]) -> None:
        state = self.slack.state
        before = len(state.calls)
        await send()
        await self.slack.wait_for(
            lambda s: any(c.method == "response_url" for c in s.calls[before:])
        )

    def _check(self, page: int) -> None:
        # A timed reply must be the page asked for, not an error message.
        shown = self.slack.state.ephemerals_for(CHANNEL, ADMIN)[-1].text
        if not shown.endswith(f", page {page}"):
            raise RuntimeError(f"the app answered {shown!r}, not page {page}")

    async def handler_first(self, i: int) -> None:
        await self._until_replied(lambda: self.driver.slash(ADMIN, CHANNEL, text="list"))
        self._check(1)
        self._tidy()

    def _list_message(self) -> Message:
        return self.slack.state.ephemerals_for(CHANNEL, ADMIN)[0]

    async def handler_deep(self, i: int) -> None:
        after, page = self.cursors[i % len(self.cursors)]
        message = self._list_message()
        buttons = next(b for b in message.blocks if b.get("block_id") == "list.buttons")
        for element in buttons["elements"]:
            if element.get("action_id") == "list.next":
                element["value"] = ListRef(after=after, page=page).dump()
        await self._until_replied(
            lambda: self.driver.click(ADMIN, "Next", channel=CHANNEL, message_ts=message.ts)
        )
        self._check(page)
        self._tidy()

    async def service_first(self, i: int) -> None:
        await self.services.listing.page(self.admin, NumberFilter())

    async def service_deep(self, i: int) -> None:
        after, page = self.cursors[i % len(self.cursors)]
        await self.services.listing.page(self.admin, NumberFilter(), after=after, page=page)


async def prepare(stack: AsyncExitStack, size: int) -> Subject:
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="numbers-bench-list-"))
    db_path = Path(tmp) / "bench.db"
    slack = await stack.enter_async_context(FakeSlack(bot_token=TOKEN, team_id=WORKSPACE))
    slack.add_user(ADMIN, "admin")
    slack.add_channel(CHANNEL, "numbers")
    settings = bench_settings(
        db_path,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        admins=[ADMIN],
    )
    rt = await start(settings)
    stack.push_async_callback(rt.close)
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)
    assert rt.carrier is not None
    ds = await dataset.build(rt.services, rt.carrier.stock, admin, db_path, size)
    print(f"size {size:,}: filled {ds.counts['numbers']:,} numbers in {ds.fill_seconds:.1f} s")
    app = build_app(rt)
    stack.push_async_callback(close_app, app)
    server = await start_http(app, "127.0.0.1")
    stack.push_async_callback(server.stop)
    driver = await stack.enter_async_context(SlackDriver(slack, server.events_url, SECRET))
    conn = sqlite3.connect(db_path)
    try:
        afters = deep_cursors(conn, ds.main_account_id)
        total = conn.execute(
            "SELECT count(*) FROM numbers WHERE account_id = ? AND state = 'in_service'",
            (ds.main_account_id,),
        ).fetchone()[0]
    finally:
        conn.close()
    # Page numbers as the list would show them there (10 a page), for the context line.
    shares = (0.25, 0.5, 0.75, 0.9)
    cursors = [(a, int(total * s) // 10 + 2) for a, s in zip(afters, shares, strict=True)]
    subject = Subject(size, slack, driver, admin, cursors, rt.services)
    await subject.handler_first(0)  # the message the deep-page clicks are made on
    return subject


async def measure(subjects: Sequence[Subject], iterations: int, warmup: int) -> None:
    """Every operation at every size, handler then service, interleaved in one loop."""
    clock = time.perf_counter_ns
    for name in OPERATIONS:
        handler: list[list[int]] = [[] for _ in subjects]
        service: list[list[int]] = [[] for _ in subjects]
        for i in range(warmup + iterations):
            order = list(enumerate(subjects))
            for k, subject in order if i % 2 == 0 else reversed(order):
                via_slack = subject.handler_first if name == OPERATIONS[0] else subject.handler_deep
                alone = subject.service_first if name == OPERATIONS[0] else subject.service_deep
                t0 = clock()
                await via_slack(i)
                t1 = clock()
                await alone(i)
                t2 = clock()
                if i >= warmup:
                    handler[k].append(t1 - t0)
                    service[k].append(t2 - t1)
            if i == warmup:
                gc.collect()
        for k, subject in enumerate(subjects):
            subject.results[name] = (Latency(tuple(handler[k])), Latency(tuple(service[k])))
            h, s = subject.results[name]
            print(
                f"  {subject.size:>9,}  {name:<16} handler p50 {ms(h.p50_ms):>7} ms"
                f"  p99 {ms(h.p99_ms):>7} ms   service p50 {ms(s.p50_ms):>7} ms"
                f"  p99 {ms(s.p99_ms):>7} ms",
                flush=True,
            )


def report(subjects: Sequence[Subject]) -> str:
    smallest = min(subjects, key=lambda s: s.size)
    headers = [
        "size", "operation", "n", "handler p50", "handler p99", "service p50", "service p99",
        "handler p99 / smallest", f"p99<{P99_TARGET_MS:g}ms", f"<={SCALE_TARGET:g}x",
    ]  # fmt: skip
    rows = []
    for subject in subjects:
        for name in OPERATIONS:
            h, s = subject.results[name]
            base = smallest.results[name][0]
            scale = ratio(h.p99_ms, base.p99_ms)
            rows.append(
                [
                    f"{subject.size:,}",
                    name,
                    str(len(h.samples)),
                    ms(h.p50_ms),
                    ms(h.p99_ms),
                    ms(s.p50_ms),
                    ms(s.p99_ms),
                    "" if subject is smallest else f"{scale:.2f}",
                    verdict(h.p99_ms < P99_TARGET_MS),
                    "" if subject is smallest else verdict(scale <= SCALE_TARGET),
                ]
            )
    return table(headers, rows, right={0, 2, 3, 4, 5, 6, 7})


async def run(sizes: Sequence[int], iterations: int, warmup: int) -> str:
    async with AsyncExitStack() as stack:
        subjects = [await prepare(stack, size) for size in sizes]
        print(flush=True)
        await measure(subjects, iterations, warmup)
        return report(subjects)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_handler", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"bench.list_handler: {environment()}")
    print(f"iterations {args.iterations} (+{args.warmup} warm-up) per operation and size\n")
    table_text = asyncio.run(run(args.sizes, args.iterations, args.warmup))
    print()
    print(table_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
