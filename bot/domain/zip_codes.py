"""Which states each 3-digit ZIP Code prefix serves, from USPS data shipped with the package.

The table and its sources: bot/domain/data/README.md.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def _prefixes() -> dict[str, frozenset[str]]:
    text = files("bot.domain").joinpath("data", "zip3_states.csv").read_text(encoding="utf-8")
    served: dict[str, set[str]] = {}
    for row in csv.DictReader(text.splitlines()):
        served.setdefault(row["zip3"], set()).add(row["state"])
    return {prefix: frozenset(states) for prefix, states in served.items()}


def states_of_zip(zip_code: str) -> frozenset[str]:
    """The two-letter codes of the states a ZIP Code's prefix serves; empty if unassigned."""
    return _prefixes().get(zip_code.strip()[:3], frozenset())


def known_prefixes() -> frozenset[str]:
    return frozenset(_prefixes())
