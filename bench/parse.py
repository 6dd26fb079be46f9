"""Parse time of `/numbers TEXT` for every verb at 4, 16 and 40 KB of text.

The parse runs on the event loop before the ack, for anyone who can type the command, so
its cost must not grow with what is typed. For each verb the text is the verb followed by
the words that take its parser furthest (a `move` of thousands of words, a `list` of
thousands of area codes...). In the same run, for the same text:

- `shipped`: `parse_command` as the app runs it (a text over MAX_COMMAND_TEXT is refused
  before it is split);
- `uncapped`: the parser itself, with that refusal lifted (it must be linear);
- `split`: `text.split()` alone, the least any parse of the words does (the baseline);
- `ordinary`: the verb's everyday command (`move (415) 555-2671 Branch`), for scale.

Nothing asserts on timing; `tests/bench/test_bench_parse_smoke.py` only checks it runs.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from bench._common import environment, percentile, ratio, table
from bot.handlers import commands
from bot.handlers.commands import parse_command

# verb, what starts its text, the filler word, its everyday command
VERBS: tuple[tuple[str, str, str, str], ...] = (
    ("help", "help", "x", "help"),
    ("(unknown)", "zap", "x", "lsit"),
    ("buy", "buy", "415", "buy local 415 for main"),
    ("search", "search local", "415", "search local 415 20"),
    ("spare", "spare", "x", "spare"),
    ("list", "list", "415", "list main local 415"),
    ("e911", "e911", "415", "e911 (415) 555-2671"),
    ("assign", "assign", "415", "assign (415) 555-2671 main"),
    ("unassign", "unassign", "415", "unassign (415) 555-2671"),
    ("requests", "requests", "x", "requests pending"),
    ("account", "account create", "x", "account create Branch Office"),
    ("move", "move", "x", "move (415) 555-2671 Branch Office"),
    ("release", "release", "415", "release (415) 555-2671"),
    ("restore", "restore", "415", "restore (415) 555-2671"),
    ("history", "history", "415", "history (415) 555-2671"),
)
SIZES_KB = (4, 16, 40)


def text_of(start: str, filler: str, size: int) -> str:
    """`start` and then `filler` words up to `size` characters."""
    head = f"{start} "
    return head + " ".join([filler] * max(1, (size - len(head)) // (len(filler) + 1) + 1))


@contextmanager
def uncapped() -> Iterator[None]:
    saved = commands.MAX_COMMAND_TEXT
    commands.MAX_COMMAND_TEXT = 10**9
    try:
        yield
    finally:
        commands.MAX_COMMAND_TEXT = saved


def p50_us(call: Callable[[], object], iterations: int, budget_s: float) -> float:
    """Median of `iterations` calls (fewer, at least 5, when they would take over budget_s)."""
    call()  # warm caches (area codes, regexes)
    samples: list[int] = []
    gc.disable()
    try:
        began = time.perf_counter()
        while len(samples) < iterations:
            start = time.perf_counter_ns()
            call()
            samples.append(time.perf_counter_ns() - start)
            if len(samples) >= 5 and time.perf_counter() - began > budget_s:
                break
    finally:
        gc.enable()
    return percentile(samples, 50) / 1e3


@dataclass(frozen=True, slots=True)
class Row:
    verb: str
    kb: int
    shipped: float  # µs
    uncapped: float
    split: float
    ordinary: float


def measure(sizes_kb: Sequence[int], iterations: int, budget_s: float) -> list[Row]:
    rows: list[Row] = []
    for verb, start, filler, everyday in VERBS:
        ordinary = p50_us(lambda e=everyday: parse_command(e), iterations, budget_s)
        for kb in sizes_kb:
            text = text_of(start, filler, kb * 1024)
            shipped = p50_us(lambda t=text: parse_command(t), iterations, budget_s)
            with uncapped():
                lifted = p50_us(lambda t=text: parse_command(t), iterations, budget_s)
            split = p50_us(text.split, iterations, budget_s)
            rows.append(Row(verb, kb, shipped, lifted, split, ordinary))
    return rows


def render(rows: Sequence[Row], iterations: int) -> str:
    headers = ["verb", "KB", "shipped µs", "uncapped µs", "split µs", "uncapped/split"]
    headers += ["ordinary µs", "uncapped µs/KB"]
    cells = [
        [
            r.verb,
            str(r.kb),
            f"{r.shipped:.1f}",
            f"{r.uncapped:.1f}",
            f"{r.split:.1f}",
            f"{ratio(r.uncapped, r.split):.1f}x",
            f"{r.ordinary:.1f}",
            f"{r.uncapped / r.kb:.1f}",
        ]
        for r in rows
    ]
    worst = max(rows, key=lambda r: r.shipped)
    return "\n".join(
        [
            f"bench.parse: {environment()}",
            f"p50 of up to {iterations} parses per cell; MAX_COMMAND_TEXT = "
            f"{commands.MAX_COMMAND_TEXT} characters",
            "",
            table(headers, cells, right=set(range(1, 8))),
            "",
            f"slowest shipped parse: {worst.verb} at {worst.kb} KB, {worst.shipped:.1f} µs",
            "uncapped µs/KB flat across sizes = linear",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.parse", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES_KB), help="KB")
    parser.add_argument("--iterations", type=int, default=200, help="parses per cell, at most")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell, about")
    args = parser.parse_args(argv)
    rows = measure(args.sizes, args.iterations, args.budget)
    print(render(rows, args.iterations))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
