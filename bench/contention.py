"""Purchase contention: 200 concurrent purchase requests competing for 50 numbers.

    python -m bench.contention [--contenders 200] [--numbers 50] [--accounts 4] [--seed 7]
        [--sqlite-only]

Each contender is a different admin, in a channel bound to one of a few
accounts, asking for one to three numbers of the same pool of 50 (so picks
overlap): request_purchase → accept (approvals.mode=never, so accept goes
straight to provisioning) → provision, all through the service layer on a
real SQLite file. The same requests then run one after another on a fresh
database as the baseline, then concurrently on PostgreSQL (started from the
pgserver package) in one app process and in three (replicas, each with its own
engine and carrier, the contenders dealt round-robin). After each run the
database is checked for double sales: every number bought is in service on exactly the account whose
request bought it, has exactly one `bought` purchase item across all requests,
one `number.purchased` audit event and one carrier order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.backends.carrier import OrderResult
from bot.bootstrap import Runtime, start
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.context import Actor

from ._common import ADMIN, WORKSPACE, Latency, bench_settings, environment, ms, table

SEARCH_NPA = "415"


@dataclass(frozen=True, slots=True)
class Contender:
    index: int
    actor: Actor
    numbers: tuple[str, ...]
    target: Assignment


@dataclass(slots=True)
class Outcome:
    contender: Contender
    result: str  # a final request state, `conflict@<stage>`, or `error@<stage>: …`
    seconds: float
    request_id: str | None = None


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class ContentionRun:
    mode: str
    contenders: int
    pool: int
    elapsed: float
    outcomes: list[Outcome]
    checks: list[Check] = field(default_factory=list)
    bought: int = 0
    # What `verify` needs to check the database again (the smoke test tampers with it).
    database_url: str = ""
    db_path: Path | None = None
    numbers: tuple[str, ...] = ()
    orders: dict[str, set[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def count(self, prefix: str) -> int:
        return sum(1 for o in self.outcomes if o.result.startswith(prefix))


def plan_contenders(
    pool: Sequence[str], contenders: int, channels: Sequence[str], seed: int
) -> list[Contender]:
    """Round-robin first picks (every number wanted by ~contenders/pool requests), plus
    sometimes one or two more numbers of the pool, so requests overlap in several ways."""
    rng = random.Random(seed)
    planned = []
    for i in range(contenders):
        picks = [pool[i % len(pool)]]
        extra = rng.choices((0, 1, 2), weights=(60, 30, 10))[0]
        others = [n for n in pool if n != picks[0]]
        picks.extend(rng.sample(others, min(extra, len(others))))
        channel = channels[i % len(channels)]
        actor = Actor(f"UADM{i:04d}", WORKSPACE, is_admin=True, channel_id=channel)
        planned.append(Contender(i, actor, tuple(picks), Assignment.user(f"U{i:05d}")))
    return planned


async def prepare(rt: Runtime, accounts: int) -> list[str]:
    """Accounts bound to channels C0..Cn; returns the channels."""
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id="C0")
    await rt.services.accounts.for_channel(admin)
    channels = []
    for i in range(accounts):
        channel = f"C{i}"
        if i:
            await rt.services.accounts.create(admin, f"Account {i}")
            await rt.services.accounts.use(admin, channel, f"Account {i}")
        channels.append(channel)
    return channels


async def find_pool(rt: Runtime, size: int) -> list[str]:
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id="C0")
    found = await rt.services.numbers.search(admin, "local", SEARCH_NPA, quantity=size)
    pool = [n.e164 for n in found.available]
    if len(pool) < size:
        raise RuntimeError(f"the simulated carrier offered only {len(pool)} numbers")
    return pool


def count_orders(rt: Runtime) -> dict[str, set[str]]:
    """Wrap the simulated carrier's `order` to record which requests ordered each number."""
    assert rt.carrier is not None
    orders: dict[str, set[str]] = {}
    original = rt.carrier.order

    async def order(
        numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        result = await original(numbers, account_id=account_id, idempotency_key=idempotency_key)
        # The key is the request and the number: count the requests that ordered each.
        request_ref = idempotency_key.rsplit(":", 1)[0]
        for number in numbers:
            orders.setdefault(number, set()).add(request_ref)
        return result

    rt.carrier.order = order  # type: ignore[method-assign]
    return orders


async def purchase(rt: Runtime, c: Contender) -> Outcome:
    purchases = rt.services.purchases
    stage = "request"
    request_id: str | None = None
    started = time.perf_counter()
    try:
        request = await purchases.request_purchase(c.actor, list(c.numbers), c.target)
        request_id = request.id
        stage = "accept"
        accepted = await purchases.accept(c.actor, request.id)
        if accepted.needs_approval:
            raise RuntimeError("approvals.mode=never should not ask for approval")
        stage = "provision"
        final = await purchases.provision(request.id)
        result = final.state.value
    except Conflict:
        result = f"conflict@{stage}"
    except Exception as exc:
        result = f"error@{stage}: {type(exc).__name__}: {exc}"
    return Outcome(c, result, time.perf_counter() - started, request_id)


async def verify(
    database_url: str, pool: Sequence[str], orders: dict[str, set[str]]
) -> list[Check]:
    """The proof: read the database directly (SQLite or PostgreSQL) and count."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            items = (
                await conn.execute(
                    text(
                        "SELECT i.number, i.request_id, r.account_id, r.target, r.state"
                        " FROM purchase_items i JOIN purchase_requests r ON r.id = i.request_id"
                        " WHERE i.outcome = :bought"
                    ),
                    {"bought": ItemOutcome.BOUGHT.value},
                )
            ).all()
            bought_by: dict[str, list[tuple[str, str, str, str]]] = {}
            for number, request_id, account_id, target, state in items:
                bought_by.setdefault(number, []).append((request_id, account_id, target, state))
            in_pool = text(
                "SELECT e164, state, account_id FROM numbers WHERE e164 IN :pool"
            ).bindparams(bindparam("pool", expanding=True))
            numbers = {
                row[0]: (row[1], row[2])
                for row in await conn.execute(in_pool, {"pool": list(pool)})
            }
            purchased = Counter(
                row[0]
                for row in await conn.execute(
                    text("SELECT number FROM audit_events WHERE action = 'number.purchased'")
                )
            )
            assigned = {
                row[0]: (row[1], row[2])
                for row in await conn.execute(
                    text("SELECT number, account_id, user_id FROM assignments")
                )
            }
            in_service = {
                n for n, (state, _a) in numbers.items() if state == NumberState.IN_SERVICE
            }
            open_items = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM purchase_items i JOIN purchase_requests r"
                        " ON r.id = i.request_id WHERE i.outcome = :pending OR r.state = :busy"
                    ),
                    {
                        "pending": ItemOutcome.PENDING.value,
                        "busy": RequestState.PROVISIONING.value,
                    },
                )
            ).scalar_one()
    finally:
        await engine.dispose()

    checks = []
    twice = sorted(n for n, b in bought_by.items() if len(b) != 1)
    checks.append(
        Check(
            "one `bought` item per number",
            not twice,
            f"{len(bought_by)} numbers bought, {len(items)} bought items"
            + (f"; bought more than once: {twice}" if twice else ""),
        )
    )
    wrong = []
    for number, bought in bought_by.items():
        state, account = numbers.get(number, ("missing", None))
        if state != NumberState.IN_SERVICE or account != bought[0][1]:
            wrong.append(f"{number}: {state} on {account}, bought for {bought[0][1]}")
    stray = sorted(in_service - set(bought_by))
    checks.append(
        Check(
            "each bought number in service on exactly the buyer's account",
            not wrong and not stray,
            f"{len(in_service)} of the {len(pool)} pool numbers in service"
            + (f"; mismatches: {wrong[:5]}" if wrong else "")
            + (f"; in service without a bought item: {stray[:5]}" if stray else ""),
        )
    )
    audit_bad = sorted(
        n for n in set(bought_by) | set(purchased) if purchased[n] != 1 or n not in bought_by
    )
    checks.append(
        Check(
            "one `number.purchased` audit event per bought number",
            not audit_bad,
            f"{sum(purchased.values())} events for {len(bought_by)} numbers"
            + (f"; wrong: {audit_bad[:5]}" if audit_bad else ""),
        )
    )
    order_bad = sorted(n for n, refs in orders.items() if len(refs) != 1 or n not in bought_by)
    checks.append(
        Check(
            "one carrier order per bought number",
            not order_bad and set(orders) == set(bought_by),
            f"{sum(len(r) for r in orders.values())} orders for {len(orders)} numbers"
            + (f"; wrong: {order_bad[:5]}" if order_bad else ""),
        )
    )
    unassigned = [
        n
        for n, b in bought_by.items()
        if assigned.get(n) != (b[0][1], b[0][2].removeprefix("user:"))
    ]
    checks.append(
        Check(
            "each bought number assigned to its request's target",
            not unassigned,
            f"{len(bought_by) - len(unassigned)} of {len(bought_by)}"
            + (f"; not: {unassigned[:5]}" if unassigned else ""),
        )
    )
    checks.append(
        Check(
            "no request left half-provisioned",
            open_items == 0,
            f"{open_items} pending items or provisioning requests",
        )
    )
    return checks


Runner = Callable[[Runtime, Sequence[Contender]], Awaitable[list[Outcome]]]


async def concurrently(rt: Runtime, planned: Sequence[Contender]) -> list[Outcome]:
    return list(await asyncio.gather(*(purchase(rt, c) for c in planned)))


async def sequentially(rt: Runtime, planned: Sequence[Contender]) -> list[Outcome]:
    return [await purchase(rt, c) for c in planned]


async def run_mode(
    mode: str,
    runner: Runner,
    contenders: int,
    pool_size: int,
    accounts: int,
    seed: int,
    *,
    carrier_latency_ms: int = 0,
    db_dir: Path | None = None,
    database: str = "sqlite",
    replicas: int = 1,
) -> ContentionRun:
    """One run on a fresh database: a SQLite file in `db_dir` (a temporary directory by
    default) or a new PostgreSQL database; `replicas` > 1 runs that many app processes."""
    if db_dir is None:
        with tempfile.TemporaryDirectory(prefix="numbers-bench-") as tmp:
            return await run_mode(
                mode, runner, contenders, pool_size, accounts, seed,
                carrier_latency_ms=carrier_latency_ms, db_dir=Path(tmp),
                database=database, replicas=replicas,
            )  # fmt: skip
    db_path: Path | None = None
    if database == "postgresql":
        from bench import pg

        url = pg.create_database(f"contention_{mode.replace(' ', '_').replace('-', '_')}")
    else:
        db_path = db_dir / f"contention-{mode.replace(' ', '-')}.db"
        url = f"sqlite+aiosqlite:///{db_path}"
    settings = bench_settings(
        url, approvals={"mode": "never"}, carrier={"latency_ms": carrier_latency_ms}
    )
    rt = await start(settings)
    try:
        channels = await prepare(rt, accounts)
        pool = await find_pool(rt, pool_size)
        planned = plan_contenders(pool, contenders, channels, seed)
        if replicas == 1:
            orders = count_orders(rt)
            started = time.perf_counter()
            outcomes = await runner(rt, planned)
            elapsed = time.perf_counter() - started
    finally:
        await rt.close()
    if replicas > 1:
        outcomes, orders, elapsed = await on_replicas(
            url, replicas, pool, channels, contenders, seed, carrier_latency_ms
        )
    run = ContentionRun(mode, contenders, pool_size, elapsed, outcomes)
    run.checks = await verify(url, pool, orders)
    run.bought = sum(len(v) for v in orders.values())
    run.database_url, run.db_path = url, db_path
    run.numbers, run.orders = tuple(pool), orders
    return run


# --- replicas: app processes on one database ---------------------------------------------


async def on_replicas(
    url: str,
    replicas: int,
    pool: Sequence[str],
    channels: Sequence[str],
    contenders: int,
    seed: int,
    carrier_latency_ms: int,
) -> tuple[list[Outcome], dict[str, set[str]], float]:
    """Deal the contenders round-robin to `replicas` processes, start them together, merge.

    Each process starts its own runtime (engine, simulated carrier) on the database, says
    it is ready, and runs its share concurrently when told to go; the clock runs from the
    go to the last answer, so interpreter start-up is not counted.
    """
    job = {
        "url": url, "pool": list(pool), "channels": list(channels),
        "contenders": contenders, "seed": seed, "latency": carrier_latency_ms,
    }  # fmt: skip
    procs = []
    for r in range(replicas):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.contention", "--replica", f"{r}/{replicas}",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(job) + "\n").encode())
        await proc.stdin.drain()
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        if (await proc.stdout.readline()).strip() != b"ready":
            raise RuntimeError("a replica did not start")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    lines = await asyncio.gather(*(proc.stdout.readline() for proc in procs if proc.stdout))
    elapsed = time.perf_counter() - started
    answers = [json.loads(line) for line in lines]
    for proc in procs:
        await proc.wait()
    planned = plan_contenders(pool, contenders, channels, seed)
    outcomes: list[Outcome] = []
    orders: dict[str, set[str]] = {}
    for answer in answers:
        for index, result, seconds, request_id in answer["outcomes"]:
            outcomes.append(Outcome(planned[index], result, seconds, request_id))
        for number, refs in answer["orders"].items():
            orders.setdefault(number, set()).update(refs)
    return outcomes, orders, elapsed


async def replica(share: str) -> None:
    """One replica's side of `on_replicas` (`--replica K/N`): its share of the contenders."""
    k, n = (int(x) for x in share.split("/"))
    job = json.loads(sys.stdin.readline())
    settings = bench_settings(
        job["url"], approvals={"mode": "never"}, carrier={"latency_ms": job["latency"]}
    )
    rt = await start(settings, migrate=False)
    try:
        planned = plan_contenders(job["pool"], job["contenders"], job["channels"], job["seed"])
        mine = [c for c in planned if c.index % n == k]
        orders = count_orders(rt)
        await warm(rt)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        outcomes = await concurrently(rt, mine)
        # Answer before closing: the clock stops at the last answer, not at process exit.
        answer = {
            "outcomes": [[o.contender.index, o.result, o.seconds, o.request_id] for o in outcomes],
            "orders": {number: sorted(refs) for number, refs in orders.items()},
        }
        print(json.dumps(answer), flush=True)
    finally:
        await rt.close()


async def warm(rt: Runtime, connections: int = 10) -> None:
    """Open the pool's connections and read once, as a replica that served before would have."""
    admin = Actor(ADMIN, WORKSPACE, is_admin=True, channel_id="C0")
    await asyncio.gather(*(rt.services.accounts.list_accounts(admin) for _ in range(connections)))


async def run(
    contenders: int = 200,
    pool: int = 50,
    accounts: int = 4,
    seed: int = 7,
    *,
    carrier_latency_ms: int = 0,
    db_dir: Path | None = None,
    postgresql: bool = True,
) -> list[ContentionRun]:
    """SQLite concurrent and sequential (the baseline), then PostgreSQL with 1 and 3 replicas."""
    modes: list[tuple[str, Runner, str, int]] = [
        ("sqlite concurrent", concurrently, "sqlite", 1),
        ("sqlite sequential", sequentially, "sqlite", 1),
    ]
    if postgresql:
        modes += [
            ("postgresql 1 replica", concurrently, "postgresql", 1),
            ("postgresql 3 replicas", concurrently, "postgresql", 3),
        ]
    runs = []
    for mode, runner, database, replicas in modes:
        print(f"{mode}: {contenders} requests for {pool} numbers ...", flush=True)
        one = await run_mode(
            mode, runner, contenders, pool, accounts, seed,
            carrier_latency_ms=carrier_latency_ms, db_dir=db_dir,
            database=database, replicas=replicas,
        )  # fmt: skip
        runs.append(one)
    return runs


def report(runs: Sequence[ContentionRun]) -> str:
    headers = [
        "mode", "requests", "elapsed s", "requests/s", "bought", "numbers/s", "completed",
        "partial", "conflict", "errors", "req p50 ms", "req p99 ms", "double sales",
    ]  # fmt: skip
    rows = []
    for r in runs:
        latency = Latency(tuple(int(o.seconds * 1e9) for o in r.outcomes))
        rows.append(
            [
                r.mode,
                str(r.contenders),
                f"{r.elapsed:.2f}",
                f"{r.contenders / r.elapsed:.1f}",
                f"{r.bought}/{r.pool}",
                f"{r.bought / r.elapsed:.1f}",
                str(r.count(RequestState.COMPLETED.value)),
                str(r.count(RequestState.PARTIALLY_COMPLETED.value)),
                str(r.count("conflict@")),
                str(r.count("error@")),
                ms(latency.p50_ms),
                ms(latency.p99_ms),
                "none (PASS)" if r.ok else "FAIL",
            ]
        )
    out = [table(headers, rows, right=set(range(1, 12)))]
    for r in runs:
        stages = Counter(o.result.split(":")[0] for o in r.outcomes)
        out.append(f"\n{r.mode}: outcomes {dict(sorted(stages.items()))}")
        for c in r.checks:
            out.append(f"  {'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
        errors = [o.result for o in r.outcomes if o.result.startswith("error@")]
        for e in sorted(set(errors))[:5]:
            out.append(f"  error ({errors.count(e)}x): {e}")
    verdict = "PASS" if all(r.ok for r in runs) else "FAIL"
    out.append(f"\nzero double sales: {verdict}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contention", description=__doc__)
    parser.add_argument("--contenders", type=int, default=200)
    parser.add_argument("--numbers", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--carrier-latency-ms",
        type=int,
        default=0,
        help="simulated carrier latency per call (search, order); 0 by default",
    )
    parser.add_argument(
        "--sqlite-only", action="store_true", help="skip the PostgreSQL runs (1 and 3 replicas)"
    )
    parser.add_argument("--replica", help=argparse.SUPPRESS)  # K/N: one replica process
    args = parser.parse_args(argv)
    if args.replica:
        asyncio.run(replica(args.replica))
        return 0
    print(f"bench.contention: {environment()}")
    print(f"simulated carrier latency {args.carrier_latency_ms} ms, approvals.mode=never\n")
    runs = asyncio.run(
        run(
            args.contenders,
            args.numbers,
            args.accounts,
            args.seed,
            carrier_latency_ms=args.carrier_latency_ms,
            postgresql=not args.sqlite_only,
        )
    )
    print()
    print(report(runs))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
