"""e911 on a number: valid, invalid (with the field), several matches, a provider fault."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.backends.carrier import E911Fault, NotFoundAtCarrier
from bot.domain.e911 import E911Candidates, E911Invalid, E911Status, E911Valid
from tests.contract.worlds import ACCOUNT, ADDRESS, OTHER, World

STREET_TYPES = {"ST", "AVE", "BLVD"}


async def features(world: World, number: str) -> frozenset[str]:
    return (await world.carrier.number_status(number, account_id=ACCOUNT)).features


async def test_a_valid_address_is_provisioned_and_can_be_removed(world: World) -> None:
    [number] = await world.bought()

    outcome = await world.carrier.provision_e911(number, ADDRESS, account_id=ACCOUNT)

    assert isinstance(outcome, E911Valid)
    found = outcome.address
    assert found.status is E911Status.PROVISIONED and found.emergency_enabled
    assert found.latitude is not None and found.longitude is not None and found.plus_four
    assert found.street_address.upper() == ADDRESS.street_address.upper()
    assert (found.postal_code, found.caller_name) == (ADDRESS.postal_code, ADDRESS.caller_name)
    assert "e911" in await features(world, number)

    await world.carrier.remove_e911(number, account_id=ACCOUNT)
    await world.carrier.remove_e911(number, account_id=ACCOUNT)  # nothing left: fine

    assert "e911" not in await features(world, number)


async def test_a_house_number_that_does_not_exist_is_invalid_on_the_street(world: World) -> None:
    [number] = await world.bought()

    outcome = await world.carrier.provision_e911(
        number, replace(ADDRESS, street_address="0 Natoma St"), account_id=ACCOUNT
    )

    assert isinstance(outcome, E911Invalid)
    assert outcome.field == "street_address" and outcome.message
    assert "e911" not in await features(world, number)


async def test_a_zip_code_nobody_has_is_invalid_on_a_named_field(world: World) -> None:
    """Shared: invalid, on a field of the form, with the provider's words.

    The field differs: the simulated geocoder names the ZIP code; Kazoo's
    400 `invalid` names no field, so the Kazoo carrier puts it on the street.
    """
    [number] = await world.bought()

    outcome = await world.carrier.provision_e911(
        number, replace(ADDRESS, postal_code="00012"), account_id=ACCOUNT
    )

    assert isinstance(outcome, E911Invalid) and outcome.message
    assert outcome.field == world.invalid_zip_field
    assert "e911" not in await features(world, number)


async def test_a_street_without_its_type_comes_back_as_candidates(world: World) -> None:
    [number] = await world.bought()

    outcome = await world.carrier.provision_e911(
        number, replace(ADDRESS, street_address="116 Natoma"), account_id=ACCOUNT
    )

    assert isinstance(outcome, E911Candidates)
    assert len(outcome.candidates) >= 2
    streets = [c.street_address.upper() for c in outcome.candidates]
    assert len(set(streets)) == len(streets)
    for street in streets:
        assert street.startswith("116 NATOMA ") and street.split()[-1] in STREET_TYPES
    assert {c.caller_name for c in outcome.candidates} == {ADDRESS.caller_name}
    assert {c.postal_code for c in outcome.candidates} == {ADDRESS.postal_code}
    assert "e911" not in await features(world, number)


async def test_a_provider_fault_is_not_a_verdict_on_the_address(world: World) -> None:
    [number] = await world.bought()

    outcome = await world.carrier.provision_e911(number, world.e911_fault(), account_id=ACCOUNT)

    assert isinstance(outcome, E911Fault) and outcome.message
    assert "e911" not in await features(world, number)


async def test_e911_on_a_number_not_on_the_account_is_not_found(world: World) -> None:
    [number] = await world.bought(account=OTHER)

    with pytest.raises(NotFoundAtCarrier):
        await world.carrier.provision_e911(number, ADDRESS, account_id=ACCOUNT)
