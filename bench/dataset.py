"""A realistic database of owned numbers, filled fast with bulk INSERTs.

The schema comes from the app's own migrations (`bot.bootstrap.start`); the
workspace and its accounts are created through the service layer, and only
the bulk rows (numbers, assignments, e911 addresses) are written here with
the sqlite3 module in one large transaction, in E.164 order.

Mix (per number, from a seeded RNG): the main account ~90%, three other
accounts the rest; ~8% toll-free over the seven toll-free prefixes, the rest
local over every area code the simulated carrier serves; ~60% assigned
(main 15%, users 40%, conference 5%; about 1.5 numbers per user; one faxbox
number per account), ~40% spare; ~20% with an e911 row; ~1% aging. For the
area codes the benchmark searches, 30% of the simulated carrier's stock is
owned, so the "is it taken?" check finds some.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.backends.carrier_sim import SimulatedCarrier
from bot.domain.e911 import E911Status
from bot.domain.phone import TOLLFREE_PREFIXES, Kind, SearchQuery, local_area_codes
from bot.service.container import Services
from bot.service.context import Actor

from ._common import TIME_FORMAT

SEARCHED_NPAS: tuple[str, ...] = ("415", "212", "312", "617", "206")
OTHER_ACCOUNTS: tuple[str, ...] = ("Sales", "Support", "Labs")
MAIN_SHARE = 0.90
TOLLFREE_SHARE = 0.08
AGING_SHARE = 0.01
E911_SHARE = 0.20
# Cumulative thresholds of one uniform draw: main, user, conference, else spare.
ASSIGN_MAIN, ASSIGN_USER, ASSIGN_CONFERENCE = 0.15, 0.55, 0.60
CARRIER_STOCK_TAKEN = 0.30
NUMBERS_PER_USER = 1.5
CHUNK = 50_000
PROVISIONED = E911Status.PROVISIONED.value

NUMBER_SQL = (
    "INSERT INTO numbers (e164, state, kind, npa, account_id, hold_request_id, hold_expires_at,"
    " aging_until, purchased_at, activate_at, activated_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, 1)"
)
ASSIGNMENT_SQL = (
    "INSERT INTO assignments (number, account_id, kind, user_id, assigned_by, assigned_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
E911_SQL = (
    "INSERT INTO e911_addresses (number, street_address, extended_address, locality, region,"
    " postal_code, caller_name, status, latitude, longitude, plus_four, updated_by, updated_at)"
    " VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(slots=True)
class Dataset:
    db_path: Path
    size: int
    main_account_id: str
    account_ids: dict[str, str]
    fill_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    # Carrier stock of each searched area code (what the service's search checks).
    stock: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A user of the main account with a number or two (for `list user:U…`).
    sample_user: str = ""


async def create_accounts(services: Services, admin: Actor) -> tuple[str, dict[str, str]]:
    """The workspace's default (main) account and a few others, through the services."""
    main = await services.accounts.for_channel(admin)
    ids = {main.name: main.id}
    for name in OTHER_ACCOUNTS:
        ids[name] = (await services.accounts.create(admin, name)).id
    return main.id, ids


def _valid_suffix(suffix: int) -> bool:
    text = str(suffix)
    nxx, line = text[:3], text[3:]
    return nxx[1:] != "11" and not (nxx == "555" and line.startswith("01"))


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_numbers(
    size: int, rng: random.Random, stock: dict[str, tuple[str, ...]]
) -> list[tuple[str, list[str]]]:
    """(npa, sorted E.164 numbers) in ascending NPA order: the whole stream is E.164-sorted."""
    locals_ = list(local_area_codes())
    taken_stock = {
        npa: rng.sample(list(numbers), int(len(numbers) * CARRIER_STOCK_TAKEN))
        for npa, numbers in stock.items()
    }
    forced = sum(len(v) for v in taken_stock.values())
    n_toll = int(size * TOLLFREE_SHARE)
    n_local = max(0, size - n_toll - forced)
    budget = dict(zip(locals_, _split(n_local, len(locals_)), strict=True))
    budget.update(zip(TOLLFREE_PREFIXES, _split(n_toll, len(TOLLFREE_PREFIXES)), strict=True))
    plan = []
    for npa in sorted(budget):
        chosen = set(taken_stock.get(npa, ()))
        want = budget[npa]
        while want > 0:
            for suffix in rng.sample(range(2_000_000, 10_000_000), want + want // 20 + 5):
                number = f"+1{npa}{suffix}"
                if want and _valid_suffix(suffix) and number not in chosen:
                    chosen.add(number)
                    want -= 1
        plan.append((npa, sorted(chosen)))
    return plan


def fill(
    db_path: Path,
    size: int,
    main_account_id: str,
    other_account_ids: Sequence[str],
    stock: dict[str, tuple[str, ...]],
    *,
    seed: int = 1,
    analyze: bool = False,
) -> dict[str, int]:
    """Insert `size` owned numbers (plus assignments and e911 rows); returns row counts."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    stamp = now.strftime(TIME_FORMAT)
    aging_until = (now + timedelta(days=30)).strftime(TIME_FORMAT)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN")
        numbers: list[tuple[object, ...]] = []
        assignments: list[tuple[object, ...]] = []
        e911: list[tuple[object, ...]] = []
        counts = {"numbers": 0, "assignments": 0, "e911": 0, "spare": 0, "aging": 0, "main": 0}
        others = list(other_account_ids)
        users = max(10, int(size * (ASSIGN_USER - ASSIGN_MAIN) / NUMBERS_PER_USER))

        def flush() -> None:
            conn.executemany(NUMBER_SQL, numbers)
            conn.executemany(ASSIGNMENT_SQL, assignments)
            conn.executemany(E911_SQL, e911)
            numbers.clear()
            assignments.clear()
            e911.clear()

        random_ = rng.random
        for npa, block in plan_numbers(size, rng, stock):
            kind = Kind.TOLLFREE.value if npa in TOLLFREE_PREFIXES else Kind.LOCAL.value
            for e164 in block:
                owner = main_account_id if random_() < MAIN_SHARE else rng.choice(others)
                if random_() < AGING_SHARE:
                    numbers.append((e164, "aging", kind, npa, owner, aging_until) + (stamp,) * 4)
                    counts["aging"] += 1
                    continue
                numbers.append((e164, "in_service", kind, npa, owner, None) + (stamp,) * 4)
                if owner == main_account_id:
                    counts["main"] += 1
                draw = random_()
                if draw < ASSIGN_CONFERENCE:
                    if draw < ASSIGN_MAIN:
                        target, user = "main", None
                    elif draw < ASSIGN_USER:
                        target, user = "user", f"U{rng.randrange(users):07d}"
                    else:
                        target, user = "conference", None
                    assignments.append((e164, owner, target, user, "UADMIN", stamp))
                else:
                    counts["spare"] += 1
                if random_() < E911_SHARE:
                    n = int(e164[-4:])
                    e911.append(
                        (e164, f"{100 + n} Main St", "San Francisco", "CA", "94105",
                         "Acme Inc", PROVISIONED, 37.78 + n / 1e6, -122.39 - n / 1e6, f"{n:04d}",
                         "UADMIN", stamp)
                    )  # fmt: skip
                if len(numbers) >= CHUNK:
                    counts["numbers"] += len(numbers)
                    counts["assignments"] += len(assignments)
                    counts["e911"] += len(e911)
                    flush()
        counts["numbers"] += len(numbers)
        counts["assignments"] += len(assignments)
        counts["e911"] += len(e911)
        flush()
        counts["faxbox"] = _faxboxes(conn, [main_account_id, *others], stamp)
        counts["assignments"] += counts["faxbox"]
        counts["spare"] -= counts["faxbox"]
        conn.execute("COMMIT")
        if analyze:
            conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return counts
    finally:
        conn.close()


def _faxboxes(conn: sqlite3.Connection, accounts: Sequence[str], stamp: str) -> int:
    """Each account's faxbox answers on one number: a spare from the middle of its range."""
    done = 0
    for account_id in accounts:
        row = conn.execute(
            "SELECT e164 FROM numbers WHERE account_id = ? AND state = 'in_service'"
            " AND e164 > '+1555'"
            " AND NOT EXISTS (SELECT 1 FROM assignments WHERE assignments.number = numbers.e164)"
            " ORDER BY e164 LIMIT 1",
            (account_id,),
        ).fetchone()
        if row:
            conn.execute(ASSIGNMENT_SQL, (row[0], account_id, "faxbox", None, "UADMIN", stamp))
            done += 1
    return done


def sample_user(db_path: Path, account_id: str) -> str:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT user_id FROM assignments WHERE account_id = ? AND kind = 'user'"
            " AND number > '+1555' ORDER BY number LIMIT 1",
            (account_id,),
        ).fetchone()
    return str(row[0]) if row else "U0000000"


async def build(
    services: Services,
    carrier: SimulatedCarrier,
    admin: Actor,
    db_path: Path,
    size: int,
    *,
    seed: int = 1,
    analyze: bool = False,
) -> Dataset:
    main_id, ids = await create_accounts(services, admin)
    stock = {npa: carrier.inventory(SearchQuery(Kind.LOCAL, npa)) for npa in SEARCHED_NPAS}
    started = time.perf_counter()
    others = [v for v in ids.values() if v != main_id]
    counts = fill(db_path, size, main_id, others, stock, seed=seed, analyze=analyze)
    elapsed = time.perf_counter() - started
    return Dataset(
        db_path, size, main_id, ids, elapsed, counts, stock, sample_user(db_path, main_id)
    )
