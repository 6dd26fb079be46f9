"""`/numbers list` through the Slack handler on the kazoo backend, next to the embedded one.

    python -m bench.list_kazoo [--size 10000] [--iterations 200] [--warmup 20]

Kazoo is the system of record and the bot's database its mirror, so the list is
served from the database whichever the backend: this shows the kazoo backend
adds nothing to a list. For each backend, one account holding `size` numbers in
service, the real app (`build_app`) behind `bot.server.start_http`, the Slack
stand-in, and the timed signed `/numbers list` until the reply is posted
(`bench.list_handler.Subject.handler_first`).

- embedded: filled by bench/dataset.py (buying through the services).
- kazoo: the stand-in Kazoo (standins/kazoo) on loopback in this process,
  holding the numbers on its "Main" sub-account; the bot's start-up sync mirrors
  them. Any call the list made to Kazoo would be counted (`kazoo calls`).

Nothing asserts on timing; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import build_app, close_app, mirror_for
from bot.bootstrap import start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack
from bot.server import start_http
from bot.service.context import Actor

from . import dataset
from ._common import ADMIN, CHANNEL, WORKSPACE, Latency, bench_settings, environment, ms, table
from .list_handler import SECRET, TOKEN, Subject

N11 = {f"{d}11" for d in range(2, 10)}


@dataclass(slots=True)
class Measured:
    backend: str
    size: int
    latency: Latency
    kazoo_calls: int | None = None


def kazoo_numbers(size: int) -> list[str]:
    """`size` valid local numbers (no N11 exchange), in key order."""
    numbers: list[str] = []
    i = 0
    while len(numbers) < size:
        line = 2_000_000 + i
        i += 1
        if f"{line:07d}"[:3] not in N11:
            numbers.append(f"+1415{line:07d}")
    return numbers


async def _slack(stack: AsyncExitStack) -> FakeSlack:
    slack = await stack.enter_async_context(FakeSlack(bot_token=TOKEN, team_id=WORKSPACE))
    slack.add_user(ADMIN, "admin")
    slack.add_channel(CHANNEL, "numbers")
    return slack


def _settings(db_path: Path, slack: FakeSlack, **more: Any) -> Any:
    return bench_settings(
        db_path,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=slack.api_url,
        admins=[ADMIN],
        **more,
    )


async def _serve(stack: AsyncExitStack, rt: Any, slack: FakeSlack, size: int) -> Subject:
    app = build_app(rt)
    stack.push_async_callback(close_app, app)
    job = mirror_for(app)
    if job is not None:
        report = await job()
        print(f"kazoo: start-up sync mirrored {report.added:,} numbers", flush=True)
    server = await start_http(app, "127.0.0.1")
    stack.push_async_callback(server.stop)
    driver = await stack.enter_async_context(SlackDriver(slack, server.events_url, SECRET))
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)
    return Subject(size, slack, driver, admin, [], rt.services)


async def embedded(stack: AsyncExitStack, tmp: Path, size: int) -> Subject:
    slack = await _slack(stack)
    db_path = tmp / "embedded.db"
    rt = await start(_settings(db_path, slack))
    stack.push_async_callback(rt.close)
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)
    assert rt.carrier is not None
    await dataset.build(rt.services, rt.carrier.stock, admin, db_path, size)
    return await _serve(stack, rt, slack, size)


async def kazoo(stack: AsyncExitStack, tmp: Path, size: int) -> tuple[Subject, Any]:
    from standins.kazoo import API_KEY, CHILD_A, ROOT, Number, running

    standin = await stack.enter_async_context(running())
    standin.model.accounts[CHILD_A].name = "Main"
    for e164 in kazoo_numbers(size):
        standin.model.numbers[e164] = Number(e164, "in_service", assigned_to=CHILD_A)
    slack = await _slack(stack)
    settings = _settings(
        tmp / "kazoo.db",
        slack,
        backend="kazoo",
        kazoo_url=standin.url,
        kazoo_api_key=API_KEY,
        kazoo_account_id=ROOT,
    )
    rt = await start(settings)
    stack.push_async_callback(rt.close)
    return await _serve(stack, rt, slack, size), standin


async def _time(subject: Subject, iterations: int, warmup: int) -> Latency:
    samples: list[int] = []
    for i in range(warmup + iterations):
        t0 = time.perf_counter_ns()
        await subject.handler_first(i)
        if i >= warmup:
            samples.append(time.perf_counter_ns() - t0)
        if i == warmup:
            gc.collect()
    return Latency(tuple(samples))


async def run(size: int, iterations: int, warmup: int) -> list[Measured]:
    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="numbers-bench-kz-")))
        local = await embedded(stack, tmp, size)
        remote, standin = await kazoo(stack, tmp, size)
        before = len(standin.seen)
        results = [
            Measured("embedded", size, await _time(local, iterations, warmup)),
            Measured("kazoo", size, await _time(remote, iterations, warmup)),
        ]
        results[1].kazoo_calls = len(standin.seen) - before
        return results


def report(results: Sequence[Measured]) -> str:
    headers = ["backend", "numbers", "n", "list p50", "list p99", "max", "kazoo calls"]
    rows = [
        [
            r.backend,
            f"{r.size:,}",
            str(len(r.latency.samples)),
            ms(r.latency.p50_ms),
            ms(r.latency.p99_ms),
            ms(r.latency.max_ms),
            "" if r.kazoo_calls is None else str(r.kazoo_calls),
        ]
        for r in results
    ]
    return table(headers, rows, right={1, 2, 3, 4, 5, 6})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_kazoo", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"bench.list_kazoo: {environment()}")
    print(f"iterations {args.iterations} (+{args.warmup} warm-up) per backend\n")
    results = asyncio.run(run(args.size, args.iterations, args.warmup))
    print()
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
