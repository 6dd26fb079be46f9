"""Helpers shared by the benchmarks: percentiles, formatting, settings for a temp database."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings

WORKSPACE = "T1"
ADMIN = "UADMIN"
CHANNEL = "C1"
# SQLAlchemy's SQLite DateTime storage format, so rows written here read back as the ORM's.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def percentile(values: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of `values` (q in 0..100); values need not be sorted."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    """Latency samples of one operation, in nanoseconds."""

    samples: tuple[int, ...]

    @property
    def p50_ms(self) -> float:
        return percentile(self.samples, 50) / 1e6

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples, 99) / 1e6

    @property
    def max_ms(self) -> float:
        return max(self.samples) / 1e6


def ms(value: float) -> str:
    return f"{value:.3f}"


def ratio(a: float, b: float) -> float:
    return a / b if b else math.inf


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def bench_settings(db_path: Path | str, **overrides: Any) -> Settings:
    """Settings for a benchmark database (a SQLite file, or a database URL); no YAML file or
    environment is consulted."""
    url = db_path if isinstance(db_path, str) else f"sqlite+aiosqlite:///{db_path}"
    base: dict[str, Any] = {"database_url": url}
    base.update(overrides)
    saved = os.environ.pop("NUMBERS_BOT_CONFIG", None)
    try:
        return load_settings(**base)
    finally:
        if saved is not None:
            os.environ["NUMBERS_BOT_CONFIG"] = saved


def environment() -> str:
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()} x{os.cpu_count()}, {platform.system()} {platform.release()}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """A plain text table; columns whose index is in `right` are right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)
