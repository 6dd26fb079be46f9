"""The simulated carrier's stock and geocoder (`SimCarrier` puts it behind `Carrier`).

Its stock is derived from a seed: for every area code (or NPA-NXX) and
toll-free prefix the same seed yields the same numbers in the same order, so
nothing is stored until a number is taken. Latency, a failure rate and the
activation delay are knobs, so faults can be exercised; tests may also name
numbers that must fail.

The e911 geocoder is deterministic too (docs/decisions/e911.md):
- house number 0, or a ZIP starting 000 → invalid, on that field;
- a street without a street type (`100 Main`) → several candidates (St, Ave, Blvd);
- anything else → provisioned, with coordinates and ZIP+4 derived from the address.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache

import phonenumbers

from bot.config import CarrierSettings
from bot.domain.e911 import (
    E911Address,
    E911Candidates,
    E911Invalid,
    E911Outcome,
    E911Status,
    E911Valid,
)
from bot.domain.errors import BackendUnavailable
from bot.domain.phone import (
    TOLLFREE_PREFIXES,
    Kind,
    SearchQuery,
    is_local_area_code,
    is_n11,
)

STREET_TYPES = frozenset(
    (
        "st street ave avenue blvd boulevard rd road dr drive ln lane way ct court pl place "
        "pkwy parkway hwy highway ter terrace cir circle sq square loop trl trail"
    ).split()
)
CANDIDATE_TYPES = ("St", "Ave", "Blvd")
# No real carrier sells 555 numbers: 555-01XX is fiction, and the rest of the exchange is
# directory assistance or unassigned, and people read every 555 number as fake.
SERVICE_EXCHANGE = "555"


class CarrierError(BackendUnavailable):
    """The stock refused or failed one number; `reason` is shown to people."""

    def __init__(self, number: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(f"{number}: {reason}")
        self.number = number
        self.reason = reason
        self.retryable = retryable


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:8], "big")


@lru_cache(maxsize=4096)
def _valid_exchange(npa: str, nxx: str) -> bool:
    if nxx[0] in "01" or is_n11(nxx):
        return False
    number = phonenumbers.parse(f"+1{npa}{nxx}4567")
    return bool(phonenumbers.is_valid_number(number))


class SimulatedCarrier:
    def __init__(
        self,
        settings: CarrierSettings,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._rng = rng or random.Random(settings.seed)
        self._sleep = sleep
        self._forced_failures: dict[str, str] = {}
        # Orders already placed: a repeat of the same order succeeds without a second sale.
        self._orders: dict[str, str] = {}
        self._inventory = lru_cache(maxsize=2048)(self._generate)

    @property
    def activation_delay(self) -> timedelta:
        return timedelta(seconds=self.settings.activation_delay_seconds)

    def fail(self, number: str, reason: str = "carrier rejected the order") -> None:
        """Make every order of `number` fail (tests and the console's fault drills)."""
        self._forced_failures[number] = reason

    def heal(self, number: str) -> None:
        self._forced_failures.pop(number, None)

    async def _latency(self) -> None:
        if self.settings.latency_ms:
            await self._sleep(self.settings.latency_ms / 1000)

    # --- stock ---------------------------------------------------------------------

    def inventory(self, query: SearchQuery) -> tuple[str, ...]:
        return self._inventory(query.kind, query.npa, query.nxx)

    def _generate(self, kind: Kind, npa: str, nxx: str | None) -> tuple[str, ...]:
        if nxx == SERVICE_EXCHANGE:
            return ()
        rng = random.Random(f"{self.settings.seed}:{npa}:{nxx or ''}")
        size = self.settings.inventory_per_prefix
        found: dict[str, None] = {}
        attempts = 0
        while len(found) < size and attempts < size * 20:
            attempts += 1
            exchange = nxx or f"{rng.randrange(200, 1000)}"
            line = f"{rng.randrange(0, 10000):04d}"
            if exchange == SERVICE_EXCHANGE or not _valid_exchange(npa, exchange):
                continue
            found[f"+1{npa}{exchange}{line}"] = None
        return tuple(found)

    def offers(self, number: str) -> bool:
        npa, nxx = number[2:5], number[5:8]
        if len(number) != 12 or not number.startswith("+1") or nxx == SERVICE_EXCHANGE:
            return False
        if npa in TOLLFREE_PREFIXES:
            kind = Kind.TOLLFREE
        elif is_local_area_code(npa):
            kind = Kind.LOCAL
        else:
            return False
        return number in self._inventory(kind, npa, None) or number in self._inventory(
            kind, npa, nxx
        )

    async def search(self, query: SearchQuery) -> tuple[str, ...]:
        await self._latency()
        return self.inventory(query)

    # --- orders --------------------------------------------------------------------

    async def order(self, number: str, order_ref: str) -> None:
        await self._latency()
        if self._orders.get(number) == order_ref:
            return
        if not self.offers(number):
            raise CarrierError(number, "the carrier does not offer this number", retryable=False)
        forced = self._forced_failures.get(number)
        if forced:
            raise CarrierError(number, forced)
        if self.settings.failure_rate and self._rng.random() < self.settings.failure_rate:
            raise CarrierError(number, "the carrier timed out; try again")
        self._orders[number] = order_ref

    # --- e911 ----------------------------------------------------------------------

    async def geocode(self, address: E911Address) -> E911Outcome:
        await self._latency()
        house, _, street = address.street_address.partition(" ")
        if house.strip("0") == "" or not street:
            return E911Invalid("street_address", "The house number was not found on this street.")
        if address.postal_code.startswith("000"):
            return E911Invalid("postal_code", "This ZIP code does not exist.")
        if street.split()[-1].lower().rstrip(".") not in STREET_TYPES:
            return E911Candidates(
                tuple(
                    replace(address, street_address=f"{address.street_address} {suffix}")
                    for suffix in CANDIDATE_TYPES
                )
            )
        seed = _digest(address.street_address.lower(), address.postal_code[:5])
        latitude = Decimal(25 + seed % 2300 / 100).quantize(Decimal("0.000001"))
        longitude = Decimal(-(70 + (seed >> 16) % 5000 / 100)).quantize(Decimal("0.000001"))
        plus_four = address.postal_code[6:] or f"{seed % 10000:04d}"
        return E911Valid(
            address.with_result(E911Status.PROVISIONED, latitude, longitude, plus_four)
        )
