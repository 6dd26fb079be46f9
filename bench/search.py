"""Search and list-page latency at 10,000 and 1,000,000 owned numbers, next to raw SQL.

    python -m bench.search [--sizes 10000 1000000] [--iterations N] [--warmup N]
                           [--explain] [--analyze] [--no-breakdown]

For each size: a fresh SQLite file migrated by `bot.bootstrap.start`, filled in
bulk (bench/dataset.py), then every operation is timed through the service
layer and, interleaved in the same loop, as the equivalent raw SQL on a plain
`sqlite3` connection. See bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import Runtime, start
from bot.domain.e911 import E911Status
from bot.domain.phone import Kind
from bot.domain.records import AssignmentFilter, NumberFilter
from bot.service.context import Actor
from bot.service.numbers import SEARCH_PAGE as SEARCH_CHUNK

from . import dataset
from ._common import (
    ADMIN,
    CHANNEL,
    TIME_FORMAT,
    WORKSPACE,
    Latency,
    bench_settings,
    environment,
    ms,
    ratio,
    table,
    verdict,
)

P99_TARGET_MS = 10.0
SCALE_TARGET = 1.5
RAW_TARGET = 2.0
QUANTITY = 10  # the service's default search quantity
PAGE = 10

_COLUMNS = "numbers.*, assignments.*, e911_addresses.*"
_DETAILS = (
    f"SELECT {_COLUMNS} FROM numbers"
    " LEFT OUTER JOIN assignments ON assignments.number = numbers.e164"
    " LEFT OUTER JOIN e911_addresses ON e911_addresses.number = numbers.e164"
)
# An area code decides the kind, so the spares query tests only the area code.
SPARES_SQL = (
    f"{_DETAILS} WHERE numbers.account_id = ? AND numbers.state = ?"
    " AND assignments.number IS NULL AND numbers.npa = ?"
    " ORDER BY numbers.e164 LIMIT ?"
)
# Assignment filters are driven from `assignments` (see NumbersRepo.page).
_BY_ASSIGNMENT = (
    f"SELECT {_COLUMNS} FROM assignments"
    " JOIN numbers ON numbers.e164 = assignments.number"
    " LEFT OUTER JOIN e911_addresses ON e911_addresses.number = assignments.number"
)


def taken_sql(n: int) -> str:
    marks = ", ".join("?" * n)
    return (
        f"SELECT numbers.e164 FROM numbers WHERE numbers.e164 IN ({marks})"
        " AND numbers.state != ? AND (numbers.state != ? OR numbers.hold_expires_at > ?)"
    )


def page_sql(flt: NumberFilter, account_id: str, after: str | None) -> tuple[str, list[Any]]:
    """The SELECT `NumbersRepo.page` runs, written out by hand."""
    states = [s.value for s in flt.states]
    wanted = flt.assignment
    by_assignment = wanted is not None and not wanted.spare
    where = [
        "numbers.account_id = ?",
        f"numbers.state IN ({', '.join('?' * len(states))})",
    ]
    params: list[Any] = [account_id, *states]
    if by_assignment:
        where.insert(0, "assignments.account_id = ?")
        params.insert(0, account_id)
    if wanted is not None and wanted.kind is None:
        where.append("assignments.number IS NULL")
    elif wanted is not None and wanted.kind is not None:
        where.append("assignments.kind = ?")
        params.append(wanted.kind.value)
        if wanted.user_id is not None:
            where.append("assignments.user_id = ?")
            params.append(wanted.user_id)
    if flt.kind is not None and not flt.npa:
        where.append("numbers.kind = ?")
        params.append(flt.kind.value)
    if flt.npa:
        where.append("numbers.npa = ?")
        params.append(flt.npa)
    if flt.e911 is True:
        where.append("e911_addresses.status = ?")
        params.append(E911Status.PROVISIONED.value)
    elif flt.e911 is False:
        where.append("(e911_addresses.number IS NULL OR e911_addresses.status != ?)")
        params.append(E911Status.PROVISIONED.value)
    key = "assignments.number" if by_assignment else "numbers.e164"
    if after:
        where.append(f"{key} > ?")
        params.append(after)
    params.append(PAGE + 1)  # the service fetches one more row to know whether a page follows
    source = _BY_ASSIGNMENT if by_assignment else _DETAILS
    sql = f"{source} WHERE {' AND '.join(where)} ORDER BY {key} LIMIT ?"
    return sql, params


@dataclass(slots=True)
class Op:
    name: str
    service: Callable[[int], Awaitable[object]]
    raw: Callable[[int], object]
    # (sql, params) of the raw query for EXPLAIN QUERY PLAN.
    raw_sql: Callable[[int], list[tuple[str, list[Any]]]]


@dataclass(slots=True)
class Result:
    size: int
    op: str
    service: Latency
    raw: Latency


def _now_text() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def build_ops(rt: Runtime, admin: Actor, ds: dataset.Dataset, conn: sqlite3.Connection) -> list[Op]:
    services = rt.services
    npas = list(ds.stock)
    main = ds.main_account_id

    def raw_search(i: int) -> object:
        npa = npas[i % len(npas)]
        spares = conn.execute(SPARES_SQL, (main, "in_service", npa, QUANTITY)).fetchall()
        stock = ds.stock[npa]
        found: list[str] = []
        now = _now_text()
        for start_at in range(0, len(stock), SEARCH_CHUNK):
            chunk = stock[start_at : start_at + SEARCH_CHUNK]
            rows = conn.execute(taken_sql(len(chunk)), (*chunk, "available", "reserved", now))
            taken = {r[0] for r in rows}
            found.extend(n for n in chunk if n not in taken)
            if len(found) >= QUANTITY:
                break
        return spares, found[:QUANTITY]

    def search_plans(i: int) -> list[tuple[str, list[Any]]]:
        npa = npas[i % len(npas)]
        chunk = ds.stock[npa][:SEARCH_CHUNK]
        return [
            (SPARES_SQL, [main, "in_service", npa, QUANTITY]),
            (taken_sql(len(chunk)), [*chunk, "available", "reserved", _now_text()]),
        ]

    ops = [
        Op(
            "search local",
            lambda i: services.numbers.search(admin, "local", npas[i % len(npas)]),
            raw_search,
            search_plans,
        )
    ]
    cursors = deep_cursors(conn, main)
    pages: list[tuple[str, NumberFilter, list[str | None]]] = [
        ("list all", NumberFilter(), [None]),
        ("list spare", NumberFilter(assignment=AssignmentFilter.parse("spare")), [None]),
        ("list main", NumberFilter(assignment=AssignmentFilter.parse("main")), [None]),
        ("list users", NumberFilter(assignment=AssignmentFilter.parse("users")), [None]),
        ("list no-e911", NumberFilter(e911=False), [None]),
        ("list tollfree", NumberFilter(kind=Kind.TOLLFREE), [None]),
        ("list deep page", NumberFilter(), list(cursors)),
        # Beyond the list: filters that match only a few rows of a big account.
        (
            "list one user",
            NumberFilter(assignment=AssignmentFilter.parse(f"user:{ds.sample_user}")),
            [None],
        ),
        ("list faxbox", NumberFilter(assignment=AssignmentFilter.parse("faxbox")), [None]),
    ]
    for name, flt, afters in pages:
        ops.append(_page_op(rt, admin, conn, main, name, flt, afters))
    return ops


def _page_op(
    rt: Runtime,
    admin: Actor,
    conn: sqlite3.Connection,
    account_id: str,
    name: str,
    flt: NumberFilter,
    afters: Sequence[str | None],
) -> Op:
    services = rt.services

    def service(i: int) -> Awaitable[object]:
        return services.numbers.list_numbers(admin, flt, after=afters[i % len(afters)], limit=PAGE)

    def raw(i: int) -> object:
        sql, params = page_sql(flt, account_id, afters[i % len(afters)])
        return conn.execute(sql, params).fetchall()

    def plans(i: int) -> list[tuple[str, list[Any]]]:
        return [page_sql(flt, account_id, afters[i % len(afters)])]

    return Op(name, service, raw, plans)


def deep_cursors(conn: sqlite3.Connection, account_id: str) -> list[str]:
    """Keyset cursors 25%, 50%, 75% and 90% of the way through the main account's numbers."""
    total = conn.execute(
        "SELECT count(*) FROM numbers WHERE account_id = ? AND state = 'in_service'",
        (account_id,),
    ).fetchone()[0]
    cursors = []
    for share in (0.25, 0.5, 0.75, 0.9):
        row = conn.execute(
            "SELECT e164 FROM numbers WHERE account_id = ? AND state = 'in_service'"
            " ORDER BY e164 LIMIT 1 OFFSET ?",
            (account_id, int(total * share)),
        ).fetchone()
        cursors.append(row[0])
    return cursors


async def measure(
    ops: Sequence[Op], iterations: int, warmup: int, budget_s: float = 60.0
) -> list[tuple[Latency, Latency]]:
    """One operation at every size: service call and raw SQL, interleaved in one loop.

    Each iteration runs the service call then the raw SQL for every size (alternating the
    order of sizes), so all of them see the same machine conditions. A slow operation gets
    fewer iterations (at least 30) to stay within about `budget_s`; the table shows `n`.
    """
    clock = time.perf_counter_ns
    t0 = clock()
    for op in ops:
        await op.service(0)
        op.raw(0)
    first = max(clock() - t0, 1)
    per_round = budget_s * 1e9 / first
    warmup = max(1, min(warmup, int(per_round / 10)))
    iterations = max(30, min(iterations, int(per_round)))
    for i in range(1, warmup):
        for op in ops:
            await op.service(i)
            op.raw(i)
    gc.collect()
    service: list[list[int]] = [[] for _ in ops]
    raw: list[list[int]] = [[] for _ in ops]
    order = list(range(len(ops)))
    for i in range(iterations):
        for k in order if i % 2 == 0 else reversed(order):
            op = ops[k]
            t0 = clock()
            await op.service(i)
            t1 = clock()
            op.raw(i)
            t2 = clock()
            service[k].append(t1 - t0)
            raw[k].append(t2 - t1)
    return [(Latency(tuple(s)), Latency(tuple(r))) for s, r in zip(service, raw, strict=True)]


# --- where the time goes ----------------------------------------------------------------


async def breakdown(
    rt: Runtime, admin: Actor, ds: dataset.Dataset, iterations: int, warmup: int
) -> list[tuple[str, Latency]]:
    """`list all` measured at each layer, to show where the service's time above raw SQL goes."""
    sql, params = page_sql(NumberFilter(), ds.main_account_id, None)
    flt = NumberFilter()
    uow_factory = rt.services.deps.uow
    account = await rt.services.accounts.for_channel(admin)
    engine: AsyncEngine = rt.engine
    conn = sqlite3.connect(ds.db_path)
    adb = await aiosqlite.connect(ds.db_path)
    try:

        async def raw_sqlite3() -> object:
            return conn.execute(sql, params).fetchall()

        async def raw_aiosqlite() -> object:
            cursor = await adb.execute(sql, params)
            return await cursor.fetchall()

        # `text()` needs named binds; build them once.
        named = sql
        binds: dict[str, Any] = {}
        for i, value in enumerate(params):
            named = named.replace("?", f":p{i}", 1)
            binds[f"p{i}"] = value

        async def core_named() -> object:
            async with engine.connect() as c:
                return (await c.execute(text(named), binds)).fetchall()

        async def repository() -> object:
            async with uow_factory(write=False) as uow:
                return await uow.numbers.page(account.id, flt, after=None, limit=PAGE + 1)

        async def resolve_account() -> object:
            return await rt.services.accounts.for_channel(admin)

        async def service() -> object:
            return await rt.services.numbers.list_numbers(admin, flt, limit=PAGE)

        layers: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("raw sqlite3 (baseline)", raw_sqlite3),
            ("same SQL via aiosqlite", raw_aiosqlite),
            ("same SQL via SQLAlchemy text() on the app engine", core_named),
            ("NumbersRepo.page in a read unit of work (ORM)", repository),
            ("account resolution (services.accounts.for_channel)", resolve_account),
            ("services.numbers.list_numbers (all of it)", service),
        ]
        out = []
        for label, fn in layers:
            for _ in range(warmup):
                await fn()
            samples = []
            for _ in range(iterations):
                t0 = time.perf_counter_ns()
                await fn()
                samples.append(time.perf_counter_ns() - t0)
            out.append((label, Latency(tuple(samples))))
        return out
    finally:
        await adb.close()
        conn.close()


# --- query plans --------------------------------------------------------------------------


@contextmanager
def captured_sql(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the app sends to SQLite while the block runs."""
    seen: list[tuple[str, Any]] = []

    def listener(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listener)


def query_plan(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[str]:
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", tuple(params)).fetchall()
    return [f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows]


def _depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent:
        depth += 1
        parent = parents.get(parent, 0)
    return depth


async def explain(rt: Runtime, op: Op, conn: sqlite3.Connection) -> str:
    lines = [f"--- {op.name}: raw SQL"]
    for sql, params in op.raw_sql(0):
        lines.append(f"  {_short(sql)}")
        lines.extend(f"    {p}" for p in query_plan(conn, sql, params))
    with captured_sql(rt.engine) as seen:
        await op.service(0)
    lines.append(f"--- {op.name}: statements the service sent ({len(seen)})")
    for sql, params in seen:
        flat = " ".join(sql.split())
        lines.append(f"  {_short(flat)}")
        if flat.upper().startswith("SELECT") and "numbers" in flat:
            lines.extend(f"    {p}" for p in query_plan(conn, flat, params or ()))
    return "\n".join(lines)


def _short(sql: str, width: int = 150) -> str:
    return sql if len(sql) <= width else sql[: width - 3] + "..."


# --- one size -----------------------------------------------------------------------------


@dataclass(slots=True)
class SizeRun:
    size: int
    fill_seconds: float
    counts: dict[str, int]
    results: list[Result] = field(default_factory=list)
    breakdown: list[tuple[str, Latency]] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Prepared:
    run: SizeRun
    rt: Runtime
    admin: Actor
    ds: dataset.Dataset
    conn: sqlite3.Connection
    ops: dict[str, Op]


async def prepare(stack: AsyncExitStack, size: int, *, analyze: bool) -> Prepared:
    """A fresh database file of `size` numbers, migrated by the app and filled in bulk."""
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="numbers-bench-"))
    db_path = Path(tmp) / "bench.db"
    rt = await start(bench_settings(db_path))
    stack.push_async_callback(rt.close)
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)
    assert rt.carrier is not None
    ds = await dataset.build(rt.services, rt.carrier.stock, admin, db_path, size, analyze=analyze)
    c = ds.counts
    print(
        f"size {size:,}: filled {c['numbers']:,} numbers ({c['assignments']:,} assigned,"
        f" {c['spare']:,} spare, {c['e911']:,} e911, {c['aging']:,} aging; main account"
        f" {c['main']:,} in service) in {ds.fill_seconds:.1f} s",
        flush=True,
    )
    conn = sqlite3.connect(db_path)
    stack.callback(conn.close)
    ops = {op.name: op for op in build_ops(rt, admin, ds, conn)}
    return Prepared(SizeRun(size, ds.fill_seconds, c), rt, admin, ds, conn, ops)


# --- report -------------------------------------------------------------------------------


def report(runs: Sequence[SizeRun]) -> str:
    smallest = min(runs, key=lambda r: r.size)
    base = {r.op: r for r in smallest.results}
    largest = max(r.size for r in runs)
    scale_label = f"{_size(largest)}/{_size(smallest.size)}"
    headers = [
        "size", "operation", "n", "p50 ms", "p99 ms", "raw p50", "raw p99", "x raw",
        scale_label, f"p99<{P99_TARGET_MS:g}ms", f"<={RAW_TARGET:g}x raw",
        f"<={SCALE_TARGET:g}x scale",
    ]  # fmt: skip
    rows = []
    for run in runs:
        for res in run.results:
            x_raw = ratio(res.service.p50_ms, res.raw.p50_ms)
            scaled = ""
            scale_ok = ""
            if run.size != smallest.size and res.op in base:
                s = ratio(res.service.p50_ms, base[res.op].service.p50_ms)
                scaled = f"{s:.2f}"
                scale_ok = verdict(s <= SCALE_TARGET)
            rows.append(
                [
                    f"{run.size:,}",
                    res.op,
                    str(len(res.service.samples)),
                    ms(res.service.p50_ms),
                    ms(res.service.p99_ms),
                    ms(res.raw.p50_ms),
                    ms(res.raw.p99_ms),
                    f"{x_raw:.1f}",
                    scaled,
                    verdict(res.service.p99_ms < P99_TARGET_MS),
                    verdict(x_raw <= RAW_TARGET),
                    scale_ok,
                ]
            )
    out = [table(headers, rows, right={0, 2, 3, 4, 5, 6, 7, 8})]
    out.append(
        "x raw = service p50 / raw SQL p50 (same run, interleaved); "
        f"{scale_label} = service p50 at {largest:,} / at {smallest.size:,}."
    )
    for run in runs:
        if run.breakdown:
            out.append(f"\nWhere the time of `list all` goes at {run.size:,} numbers:")
            layer_rows = [[label, ms(lat.p50_ms), ms(lat.p99_ms)] for label, lat in run.breakdown]
            out.append(table(["layer", "p50 ms", "p99 ms"], layer_rows, right={1, 2}))
    for run in runs:
        if run.plans:
            out.append(f"\nQuery plans at {run.size:,} numbers:")
            out.extend(run.plans)
    return "\n".join(out)


def _size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


async def run(
    sizes: Sequence[int],
    iterations: int,
    warmup: int,
    *,
    explain_all: bool = False,
    analyze: bool = False,
    with_breakdown: bool = True,
) -> list[SizeRun]:
    """Fill one database per size, then measure each operation at all sizes together."""
    async with AsyncExitStack() as stack:
        prepared = [await prepare(stack, size, analyze=analyze) for size in sizes]
        print(flush=True)
        for name in prepared[0].ops:
            measured = await measure([p.ops[name] for p in prepared], iterations, warmup)
            for p, (service, raw) in zip(prepared, measured, strict=True):
                p.run.results.append(Result(p.run.size, name, service, raw))
                print(
                    f"  {p.run.size:>9,}  {name:<15} p50 {ms(service.p50_ms):>8} ms"
                    f"  p99 {ms(service.p99_ms):>8} ms   raw p50 {ms(raw.p50_ms):>8} ms"
                    f"  p99 {ms(raw.p99_ms):>8} ms",
                    flush=True,
                )
                if explain_all or max(service.p99_ms, raw.p99_ms) >= P99_TARGET_MS:
                    p.run.plans.append(await explain(p.rt, p.ops[name], p.conn))
        if with_breakdown:
            big = max(prepared, key=lambda p: p.run.size)
            big.run.breakdown = await breakdown(big.rt, big.admin, big.ds, iterations, warmup)
        return [p.run for p in prepared]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--explain", action="store_true", help="print every query plan")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after the fill")
    parser.add_argument("--no-breakdown", action="store_true", help="skip the per-layer table")
    args = parser.parse_args(argv)
    print(f"bench.search: {environment()}")
    print(f"iterations {args.iterations} (+{args.warmup} warm-up) per operation and size\n")
    runs = asyncio.run(
        run(
            args.sizes,
            args.iterations,
            args.warmup,
            explain_all=args.explain,
            analyze=args.analyze,
            with_breakdown=not args.no_breakdown,
        )
    )
    print()
    print(report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
