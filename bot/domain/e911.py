"""Emergency (e911) addresses: the form rules checked before any geocoder is asked.

Choices (also in docs/decisions/e911.md): US states, DC and the inhabited
territories are accepted as two-letter codes; ZIP or ZIP+4; caller name 3 to
32 characters (what carriers' CNAM-style fields take); street and city up to
the lengths carriers' MSAG records hold.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.domain.errors import InvalidInput
from bot.domain.zip_codes import states_of_zip

US_REGIONS = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
    }
)
_ZIP = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")

LIMITS: dict[str, tuple[int, int]] = {
    "street_address": (1, 100),
    "extended_address": (0, 100),
    "locality": (1, 60),
    "caller_name": (3, 32),
}


class E911Status(StrEnum):
    PROVISIONED = "PROVISIONED"
    GEOCODED = "GEOCODED"
    INVALID = "INVALID"
    REMOVED = "REMOVED"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class E911Address:
    street_address: str
    locality: str
    region: str
    postal_code: str
    caller_name: str
    extended_address: str | None = None
    status: E911Status | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    plus_four: str | None = None

    @property
    def emergency_enabled(self) -> bool:
        return self.status is E911Status.PROVISIONED

    def one_line(self) -> str:
        street = self.street_address
        if self.extended_address:
            street += f", {self.extended_address}"
        return f"{street}, {self.locality}, {self.region} {self.postal_code}"

    def with_result(
        self,
        status: E911Status,
        latitude: Decimal | None = None,
        longitude: Decimal | None = None,
        plus_four: str | None = None,
    ) -> E911Address:
        return replace(
            self, status=status, latitude=latitude, longitude=longitude, plus_four=plus_four
        )


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _check_characters(field: str, value: str, label: str) -> None:
    """No control, format (U+202E turns text around, U+200B hides in it), private-use or
    unassigned characters: the address is read out to emergency services as stored."""
    for ch in value:
        if unicodedata.category(ch).startswith("C"):
            raise InvalidInput(
                field,
                f"{label} has an invisible or control character (U+{ord(ch):04X}): "
                "type it again with letters, digits, spaces and punctuation only.",
            )


def _check_length(field: str, value: str, label: str) -> None:
    _check_characters(field, value, label)
    low, high = LIMITS[field]
    if low and not value:
        raise InvalidInput(field, f"{label} is required.")
    if len(value) < low:
        raise InvalidInput(field, f"{label} must be at least {low} characters.")
    if len(value) > high:
        raise InvalidInput(field, f"{label} must be at most {high} characters.")


def validate_address(
    *,
    street_address: str | None,
    locality: str | None,
    region: str | None,
    postal_code: str | None,
    caller_name: str | None,
    extended_address: str | None = None,
    default_caller_name: str | None = None,
) -> E911Address:
    """Check the form of an address; raise `InvalidInput` naming the first bad field."""
    street = _clean(street_address)
    _check_length("street_address", street, "Street address")
    if not any(ch in "0123456789" for ch in street.split(" ")[0]):
        raise InvalidInput(
            "street_address", "Street address must start with a house number, e.g. 140 Main St."
        )
    extended = _clean(extended_address)
    _check_length("extended_address", extended, "Suite or unit")
    city = _clean(locality)
    _check_length("locality", city, "City")
    state = _clean(region).upper()
    if state not in US_REGIONS:
        raise InvalidInput(
            "region", "State must be a two-letter US state or territory code, such as CA or NY."
        )
    zip_code = _clean(postal_code)
    if not _ZIP.match(zip_code):
        raise InvalidInput("postal_code", "ZIP code must be 5 digits or ZIP+4 (94103-1234).")
    _check_zip_in_state(zip_code, state)
    caller = _clean(caller_name) or _clean(default_caller_name)
    _check_length("caller_name", caller, "Caller name")
    return E911Address(
        street_address=street,
        extended_address=extended or None,
        locality=city,
        region=state,
        postal_code=zip_code,
        caller_name=caller,
    )


def _check_zip_in_state(zip_code: str, state: str) -> None:
    """A ZIP Code of another state is a mistake no geocoder should be asked to guess at.

    An unassigned prefix (00012) is left to the geocoder, which says it does not
    exist; the city is the geocoder's to check too (docs/decisions/rules.md).
    """
    served = states_of_zip(zip_code)
    if served and state not in served:
        where = " or ".join(sorted(served))
        raise InvalidInput(
            "postal_code",
            f"ZIP code {zip_code[:5]} is in {where}, not {state}: check the ZIP code"
            " and the state.",
        )


# --------------------------------------------------------------------------- provider verdicts
# What the e911 provider says of an address (a carrier hands these back).


@dataclass(frozen=True, slots=True)
class E911Valid:
    address: E911Address


@dataclass(frozen=True, slots=True)
class E911Candidates:
    candidates: tuple[E911Address, ...]


@dataclass(frozen=True, slots=True)
class E911Invalid:
    field: str
    message: str


E911Outcome = E911Valid | E911Candidates | E911Invalid
