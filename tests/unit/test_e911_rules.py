"""The form rules of an e911 address, checked before any geocoder (product.md sections 2, 3.6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.domain.e911 import US_REGIONS, E911Address, E911Status, validate_address
from bot.domain.errors import InvalidInput

GOOD: dict[str, Any] = {
    "street_address": "140 Main St",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "caller_name": "Acme Corp",
}


# A ZIP code of each region the tests use: the ZIP code must be one of the state's.
A_ZIP_OF = {
    "CA": "94103",
    "NY": "10001",
    "DC": "20001",
    "PR": "00901",
    "GU": "96910",
    "AS": "96799",
    "MP": "96950",
    "VI": "00802",
}


def check(**changes: Any) -> E911Address:
    return validate_address(**{**GOOD, **changes})


def refused(**changes: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        check(**changes)
    return info.value


def test_a_good_address_is_kept_as_typed() -> None:
    assert check() == E911Address(
        street_address="140 Main St",
        locality="San Francisco",
        region="CA",
        postal_code="94103",
        caller_name="Acme Corp",
    )


@pytest.mark.parametrize(
    ("field", "label"),
    [("street_address", "Street address"), ("locality", "City"), ("caller_name", "Caller name")],
)
@pytest.mark.parametrize("value", [None, "", "   \t "])
def test_required_fields(field: str, label: str, value: str | None) -> None:
    error = refused(**{field: value})
    assert error.field == field
    assert error.message == f"{label} is required."


@pytest.mark.parametrize("field", ["region", "postal_code"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_required_state_and_zip(field: str, value: str | None) -> None:
    assert refused(**{field: value}).field == field


@pytest.mark.parametrize(
    ("field", "label", "high", "prefix"),
    [
        ("street_address", "Street address", 100, "140 "),
        ("extended_address", "Suite or unit", 100, ""),
        ("locality", "City", 60, ""),
        ("caller_name", "Caller name", 32, ""),
    ],
)
def test_length_limits(field: str, label: str, high: int, prefix: str) -> None:
    at_limit = prefix + "x" * (high - len(prefix))
    assert getattr(check(**{field: at_limit}), field) == at_limit
    error = refused(**{field: at_limit + "x"})
    assert error.field == field
    assert error.message == f"{label} must be at most {high} characters."


def test_limits_count_after_whitespace_is_normalised() -> None:
    assert check(locality="  " + "a " * 30).locality == " ".join(["a"] * 30)  # 59 characters


@pytest.mark.parametrize("street", ["Main St", "One Main St", "PO Box 12", "Apt 5, 140 Main St"])
def test_street_needs_a_house_number(street: str) -> None:
    error = refused(street_address=street)
    assert error.field == "street_address"
    assert "house number" in error.message


@pytest.mark.parametrize(
    "street", ["1 Main St", "140A Main St", "12-14 Elm Ave", "N6W23001 Bluemound Rd"]
)
def test_house_number_forms(street: str) -> None:
    assert check(street_address=street).street_address == street


@pytest.mark.parametrize(
    "region", ["XX", "California", "Calif", "C", "CAL", "ZZ", "C A", "UK", "ON"]
)
def test_bad_state(region: str) -> None:
    error = refused(region=region)
    assert error.field == "region"
    assert "two-letter" in error.message
    assert "CA" in error.message


@pytest.mark.parametrize(
    ("region", "stored"),
    [("CA", "CA"), ("ca", "CA"), (" ny ", "NY"), ("DC", "DC"), ("PR", "PR"), ("gu", "GU")]
    + [(t, t) for t in ("AS", "MP", "VI")],
)
def test_states_and_territories_accepted(region: str, stored: str) -> None:
    assert check(region=region, postal_code=A_ZIP_OF[stored]).region == stored


def test_every_state_and_dc_and_the_inhabited_territories() -> None:
    assert len(US_REGIONS) == 50 + 1 + 5
    assert {"PR", "GU", "VI", "AS", "MP", "DC", "AK", "HI"} <= US_REGIONS


@pytest.mark.parametrize(
    ("postal_code", "region"),
    [("94103", "CA"), ("94103-1234", "CA"), (" 02134 ", "MA"), ("00501", "NY")],
)
def test_zip_and_zip4_accepted(postal_code: str, region: str) -> None:
    assert check(postal_code=postal_code, region=region).postal_code == postal_code.strip()


@pytest.mark.parametrize(
    "postal_code",
    [
        "1234",
        "ABCDE",
        "12345-12",
        "123456",
        "12345-",
        "12345-12345",
        "94103 1234",
        "941O3",
        "9410-31234",
    ],
)
def test_bad_zip(postal_code: str) -> None:
    error = refused(postal_code=postal_code)
    assert error.field == "postal_code"
    assert "5 digits" in error.message
    assert "ZIP+4" in error.message


def test_zip_fullwidth_digits_refused() -> None:
    assert refused(postal_code="９４１０３").field == "postal_code"


@pytest.mark.parametrize(
    ("caller_name", "default", "expected"),
    [
        ("Front Desk", "Acme Corp", "Front Desk"),
        (None, "Acme Corp", "Acme Corp"),
        ("", "Acme Corp", "Acme Corp"),
        ("   ", "  Acme   Corp ", "Acme Corp"),
        ("Bob", None, "Bob"),  # exactly 3
    ],
)
def test_caller_name_defaults_to_the_account(
    caller_name: str | None, default: str | None, expected: str
) -> None:
    assert check(caller_name=caller_name, default_caller_name=default).caller_name == expected


@pytest.mark.parametrize(
    ("caller_name", "default", "message"),
    [
        ("AB", None, "Caller name must be at least 3 characters."),
        ("AB", "Acme Corp", "Caller name must be at least 3 characters."),  # no fallback
        (None, "AB", "Caller name must be at least 3 characters."),
        ("  A  ", None, "Caller name must be at least 3 characters."),
        (None, "  ", "Caller name is required."),
    ],
)
def test_caller_name_minimum(caller_name: str | None, default: str | None, message: str) -> None:
    error = refused(caller_name=caller_name, default_caller_name=default)
    assert error.field == "caller_name"
    assert error.message == message


def test_whitespace_is_normalised_everywhere() -> None:
    address = check(
        street_address="  140   Main\tSt ",
        extended_address=" Suite   200 ",
        locality=" San    Francisco ",
        region=" ca ",
        postal_code=" 94103-1234 ",
        caller_name="  Acme \n Corp ",
    )
    assert (address.street_address, address.extended_address, address.locality) == (
        "140 Main St",
        "Suite 200",
        "San Francisco",
    )
    assert (address.region, address.postal_code, address.caller_name) == (
        "CA",
        "94103-1234",
        "Acme Corp",
    )


@pytest.mark.parametrize("extended", [None, "", "   "])
def test_extended_address_is_optional(extended: str | None) -> None:
    assert check(extended_address=extended).extended_address is None


def test_first_bad_field_is_named() -> None:
    error = refused(street_address="", locality="", region="XX", postal_code="1", caller_name="")
    assert error.field == "street_address"


@pytest.mark.parametrize(
    ("extended", "line"),
    [
        (None, "140 Main St, San Francisco, CA 94103"),
        ("Suite 200", "140 Main St, Suite 200, San Francisco, CA 94103"),
    ],
)
def test_one_line(extended: str | None, line: str) -> None:
    assert check(extended_address=extended).one_line() == line


@pytest.mark.parametrize("status", list(E911Status))
def test_only_provisioned_is_emergency_enabled(status: E911Status) -> None:
    address = check()
    assert not address.emergency_enabled
    result = address.with_result(status, Decimal("37.7749"), Decimal("-122.4194"), "1234")
    assert result.emergency_enabled is (status is E911Status.PROVISIONED)
    assert (result.status, result.latitude, result.longitude, result.plus_four) == (
        status,
        Decimal("37.7749"),
        Decimal("-122.4194"),
        "1234",
    )
    assert result.one_line() == address.one_line()


def test_status_names() -> None:
    assert {s.value for s in E911Status} == {
        "PROVISIONED",
        "GEOCODED",
        "INVALID",
        "REMOVED",
        "ERROR",
    }
