"""The ZIP prefix → state table (bot/domain/data) and the e911 rule that uses it."""

from __future__ import annotations

import pytest

from bot.domain.e911 import US_REGIONS, validate_address
from bot.domain.errors import InvalidInput
from bot.domain.zip_codes import known_prefixes, states_of_zip


def test_every_region_the_form_accepts_has_prefixes() -> None:
    served = {state for prefix in known_prefixes() for state in states_of_zip(prefix)}
    assert served >= US_REGIONS
    assert len(known_prefixes()) > 900


@pytest.mark.parametrize(
    ("zip_code", "states"),
    [
        ("10001", {"NY"}),
        ("94103", {"CA"}),
        ("01103", {"MA"}),  # sorted in Hartford CT, addressed in Springfield MA
        ("03561", {"NH"}),
        ("05501", {"MA"}),
        ("06390", {"CT", "NY"}),  # Fishers Island NY shares CT's 063
        ("20001", {"DC"}),
        ("20505", {"DC", "MD", "VA"}),
        ("88510", {"TX"}),
        ("00802", {"VI"}),
        ("00901", {"PR"}),
        ("96799", {"HI", "AS"}),
        ("96950", {"GU", "MP", "PW", "FM", "MH"}),
        ("99501", {"AK"}),
        ("09012", {"AE"}),
        ("00012", set()),
    ],
)
def test_known_prefixes(zip_code: str, states: set[str]) -> None:
    assert states_of_zip(zip_code) == frozenset(states)


def _address(city: str, state: str, zip_code: str) -> None:
    validate_address(
        street_address="140 Main St",
        locality=city,
        region=state,
        postal_code=zip_code,
        caller_name="Acme",
    )


def test_a_zip_of_another_state_is_refused_on_the_zip_field() -> None:
    with pytest.raises(InvalidInput) as info:
        _address("San Francisco", "CA", "10001")
    assert info.value.field == "postal_code"
    assert info.value.message == (
        "ZIP code 10001 is in NY, not CA: check the ZIP code and the state."
    )


def test_a_prefix_shared_by_states_accepts_each() -> None:
    _address("Fishers Island", "NY", "06390")
    _address("Hartford", "CT", "06103")
    _address("Pago Pago", "AS", "96799")
    with pytest.raises(InvalidInput, match="CT or NY, not MA"):
        _address("Boston", "MA", "06390")


def test_an_unassigned_prefix_is_left_to_the_geocoder() -> None:
    _address("Nowhere", "CA", "00012")  # the simulator and Kazoo then say it does not exist
