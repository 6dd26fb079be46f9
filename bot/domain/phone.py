"""Phone numbers: parsing what people type, NANP rules, kinds and places.

`phonenumbers` does the parsing, validity and geography; the NANP rules it
does not check (N11 exchanges, the 555-01XX fictional block) are added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, geocoder

from bot.domain.errors import InvalidInput


class Kind(StrEnum):
    LOCAL = "local"
    TOLLFREE = "tollfree"


TOLLFREE_PREFIXES: tuple[str, ...] = ("800", "833", "844", "855", "866", "877", "888")
_NANP_REGIONS = frozenset({"US", "CA"})
_GEOGRAPHIC_TYPES = frozenset(
    {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
# Exchanges used to probe whether phonenumbers' metadata knows an area code.
_PROBE_EXCHANGES = ("234", "456", "789", "567", "345", "678", "890", "222", "321", "820", "520")
_SEPARATORS = re.compile(r"[\s().\-+]")
# ASCII digits only: str.isdigit() also accepts superscripts and full-width digits.
_DIGITS = re.compile(r"[0-9]+")


def is_n11(code: str) -> bool:
    """N11 codes (211, 311, ... 911) are service codes, never area codes or exchanges."""
    return len(code) == 3 and code[1:] == "11"


def is_fictional(nxx: str, line: str) -> bool:
    """555-0100 to 555-0199 is reserved for fiction in every area code."""
    return nxx == "555" and line.startswith("01")


def _nanp(e164_digits: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse("+1" + e164_digits)


def _is_geographic(npa: str, nxx: str, line: str = "4567") -> bool:
    number = _nanp(npa + nxx + line)
    return (
        phonenumbers.region_code_for_number(number) in _NANP_REGIONS
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) in _GEOGRAPHIC_TYPES
    )


@cache
def is_local_area_code(npa: str) -> bool:
    """A US or Canadian geographic area code that phonenumbers knows."""
    if len(npa) != 3 or not _DIGITS.fullmatch(npa) or npa[0] in "01" or is_n11(npa):
        return False
    if npa in TOLLFREE_PREFIXES:
        return False
    return any(_is_geographic(npa, nxx) for nxx in _PROBE_EXCHANGES)


@cache
def local_area_codes() -> tuple[str, ...]:
    """Every area code the simulated carrier answers for, in order."""
    return tuple(str(npa) for npa in range(200, 1000) if is_local_area_code(str(npa)))


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to look for: a kind and a prefix (NPA, NPA-NXX, or a toll-free prefix)."""

    kind: Kind
    npa: str
    nxx: str | None = None

    @property
    def prefix(self) -> str:
        return self.npa + (self.nxx or "")


_LOCAL_ACCEPTED = "a 3-digit area code such as 415, or area code and exchange such as 415-629"
_TOLLFREE_ACCEPTED = "one of the toll-free prefixes " + ", ".join(TOLLFREE_PREFIXES)


def _strip_country(digits: str, raw: str) -> str:
    if raw.strip().startswith("+") or len(digits) in (4, 7):
        if not digits.startswith("1"):
            return ""
        return digits[1:]
    return digits


def parse_area_code(text: str) -> SearchQuery:
    """Parse `415`, `(415)`, `415-555`, `+1 415` into a local search query."""
    raw = text.strip()
    if not raw:
        raise InvalidInput("area_code", f"Enter {_LOCAL_ACCEPTED}.")
    digits = _SEPARATORS.sub("", raw)
    if not _DIGITS.fullmatch(digits):
        raise InvalidInput(
            "area_code", f"“{raw}” has characters other than digits. Enter {_LOCAL_ACCEPTED}."
        )
    digits = _strip_country(digits, raw)
    if len(digits) not in (3, 6):
        raise InvalidInput("area_code", f"“{raw}” is not {_LOCAL_ACCEPTED}.")
    npa, nxx = digits[:3], digits[3:] or None
    if is_n11(npa):
        raise InvalidInput(
            "area_code", f"{npa} is a service code, not an area code. Enter {_LOCAL_ACCEPTED}."
        )
    if npa in TOLLFREE_PREFIXES:
        raise InvalidInput("area_code", f"{npa} is toll-free: choose Toll-free to search it.")
    if not is_local_area_code(npa):
        raise InvalidInput(
            "area_code", f"{npa} is not a US or Canadian area code. Enter {_LOCAL_ACCEPTED}."
        )
    if nxx is not None and (nxx[0] in "01" or is_n11(nxx) or not _is_geographic(npa, nxx)):
        raise InvalidInput(
            "area_code",
            f"{npa}-{nxx} is not a valid exchange: it must start with 2-9 and not be N11.",
        )
    return SearchQuery(Kind.LOCAL, npa, nxx)


def parse_tollfree_prefix(text: str) -> SearchQuery:
    raw = text.strip()
    digits = _strip_country(_SEPARATORS.sub("", raw), raw)
    if digits not in TOLLFREE_PREFIXES:
        raise InvalidInput("prefix", f"“{raw}” is not {_TOLLFREE_ACCEPTED}.")
    return SearchQuery(Kind.TOLLFREE, digits)


def parse_query(kind: Kind | str, text: str) -> SearchQuery:
    try:
        kind = Kind(kind)
    except ValueError:
        raise InvalidInput("kind", "Choose Local or Toll-free.") from None
    return parse_area_code(text) if kind is Kind.LOCAL else parse_tollfree_prefix(text)


def kind_of(e164: str) -> Kind:
    return Kind.TOLLFREE if e164[2:5] in TOLLFREE_PREFIXES else Kind.LOCAL


def parse_number(text: str, field: str = "number") -> str:
    """Parse a US/Canadian number as people type it; return E.164 (`+14155550123`)."""
    raw = text.strip()
    accepted = "a US or Canadian number such as (415) 555-2671 or +14155552671"
    digits = _SEPARATORS.sub("", raw)
    if not _DIGITS.fullmatch(digits):
        raise InvalidInput(field, f"“{raw}” is not {accepted}.")
    if len(digits) == 10 and not raw.startswith("+"):
        digits = "1" + digits
    if len(digits) != 11 or not digits.startswith("1"):
        raise InvalidInput(field, f"“{raw}” is not {accepted}.")
    npa, nxx, line = digits[1:4], digits[4:7], digits[7:]
    if is_n11(npa) or is_n11(nxx):
        raise InvalidInput(field, f"“{raw}” uses an N11 service code; enter {accepted}.")
    if is_fictional(nxx, line):
        raise InvalidInput(field, f"“{raw}” is in the fictional 555-01XX block; enter {accepted}.")
    number = _nanp(digits[1:])
    if not (
        phonenumbers.is_valid_number(number)
        and phonenumbers.region_code_for_number(number) in _NANP_REGIONS
    ):
        raise InvalidInput(field, f"“{raw}” is not {accepted}.")
    return "+" + digits


def format_national(e164: str) -> str:
    """`+14155552671` → `(415) 555-2671`."""
    return str(phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL))


@cache
def place_of(e164: str) -> str:
    """Where a number is, for people: `San Francisco, CA`, or `Toll-free`."""
    if kind_of(e164) is Kind.TOLLFREE:
        return "Toll-free"
    number = phonenumbers.parse(e164)
    place = geocoder.description_for_number(number, "en")
    return str(place) or (phonenumbers.region_code_for_number(number) or "")


def display(e164: str) -> str:
    """`(415) 555-2671 · San Francisco, CA`."""
    place = place_of(e164)
    return f"{format_national(e164)} · {place}" if place else format_national(e164)
