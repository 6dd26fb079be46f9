"""e911 on the number document: provisioned, changed, invalid, multiple choice, refused,
fault, with the provider answering as Kazoo 4.3's Dash module does."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.backends.carrier import E911Charges, E911Fault, NotFoundAtCarrier, NumberConflict
from bot.backends.kazoo import KazooCarrier
from bot.domain.e911 import E911Address, E911Candidates, E911Invalid, E911Status, E911Valid
from tests.kazoo.conftest import RecordedSleep
from tests.kazoo.helpers import bought
from tests.kazoo_standin import CHILD_A, CHILD_B, KazooStandIn

ADDRESS = E911Address(
    street_address="116 Natoma St",
    extended_address="Apt 116",
    locality="San Francisco",
    region="CA",
    postal_code="94105",
    caller_name="Acme West",
)


async def test_a_valid_address_is_provisioned_with_the_providers_answer(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.model.numbers[number].public["cnam"] = {"display_name": "Acme"}

    outcome = await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)

    assert isinstance(outcome, E911Valid)
    assert outcome.address.status is E911Status.PROVISIONED
    assert outcome.address.street_address == "116 NATOMA ST"
    assert (outcome.address.latitude, outcome.address.plus_four) == (Decimal("37.786861"), "3745")
    [post] = standin.calls("POST", "/phone_numbers/")
    assert post.body == {
        "data": {
            "cnam": {"display_name": "Acme"},
            "e911": {
                "street_address": "116 Natoma St",
                "extended_address": "Apt 116",
                "locality": "San Francisco",
                "region": "CA",
                "postal_code": "94105",
                "caller_name": "Acme West",
            },
        }
    }
    stored = standin.model.numbers[number]
    assert "e911" in stored.features
    assert stored.public["cnam"] == {"display_name": "Acme"}  # sent back as read
    assert not standin.calls("PATCH")


async def test_a_changed_address_keeps_nothing_of_the_old_one(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """H3: moving from "Apt 116" to a street with no suite leaves no suite at Kazoo."""
    [number] = await bought(carrier, CHILD_A)
    await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)
    assert standin.model.numbers[number].public["e911"]["legacy_data"]["suite"] == "APT 116"
    moved = replace(ADDRESS, street_address="200 Oak Ave", extended_address=None)

    outcome = await carrier.provision_e911(number, moved, account_id=CHILD_A)

    assert isinstance(outcome, E911Valid)
    assert outcome.address.extended_address is None
    stored = standin.model.numbers[number].public["e911"]
    assert "extended_address" not in stored
    assert "suite" not in stored["legacy_data"]
    assert stored["street_address"] == "200 OAK AVE"


async def test_an_address_kazoo_cannot_geocode_is_invalid(carrier: KazooCarrier) -> None:
    [number] = await bought(carrier, CHILD_A)

    outcome = await carrier.provision_e911(
        number, replace(ADDRESS, postal_code="00012"), account_id=CHILD_A
    )

    # Kazoo's 400 `invalid` carries the address JSON after the reason: not shown.
    assert outcome == E911Invalid("street_address", "Location is not geocoded")


async def test_several_matching_addresses_come_back_as_candidates(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    [number] = await bought(carrier, CHILD_A)

    outcome = await carrier.provision_e911(
        number, replace(ADDRESS, street_address="116 Natoma"), account_id=CHILD_A
    )

    assert isinstance(outcome, E911Candidates)
    assert [c.street_address for c in outcome.candidates] == ["116 NATOMA ST", "116 NATOMA AVE"]
    assert {c.caller_name for c in outcome.candidates} == {"Acme West"}
    assert {c.status for c in outcome.candidates} == {None}
    assert {c.extended_address for c in outcome.candidates} == {"Apt 116"}
    # Kazoo's 500 is its answer, not a fault: the provider was asked once.
    assert standin.model.e911_provider_calls == 1 and sleeps.delays == []


async def test_e911_not_allowed_for_the_number_says_so(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.model.e911_allowed = False

    outcome = await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)

    assert isinstance(outcome, E911Invalid)
    assert "e911 is not enabled for this number" in outcome.message
    assert "e911" not in standin.model.numbers[number].public


async def test_a_provider_fault_is_a_fault_not_a_verdict_on_the_address(
    carrier: KazooCarrier, standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    [number] = await bought(carrier, CHILD_A)

    outcome = await carrier.provision_e911(
        number, replace(ADDRESS, street_address="1 Fault St"), account_id=CHILD_A
    )

    assert isinstance(outcome, E911Fault)
    assert "server_error" in outcome.message
    assert standin.model.e911_provider_calls == 1 and sleeps.delays == []  # not retried


async def test_kazoo_schema_errors_name_the_field(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)

    outcome = await carrier.provision_e911(
        number, replace(ADDRESS, region="CAL"), account_id=CHILD_A
    )

    assert isinstance(outcome, E911Invalid) and outcome.field == "region"
    standin.schema_errors.clear()  # sent on purpose


async def test_remove_e911_drops_the_address_and_keeps_other_fields(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.model.numbers[number].public["cnam"] = {"display_name": "Acme"}
    await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)
    posts = len(standin.calls("POST", "/phone_numbers/"))

    await carrier.remove_e911(number, account_id=CHILD_A)
    await carrier.remove_e911(number, account_id=CHILD_A)  # nothing left: no call

    stored = standin.model.numbers[number]
    assert "e911" not in stored.public and "e911" not in stored.features
    assert stored.public["cnam"] == {"display_name": "Acme"}
    assert len(standin.calls("POST", "/phone_numbers/")) == posts + 1


async def test_e911_on_a_number_that_left_the_account_says_so(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    [number] = await bought(carrier, CHILD_A)
    standin.change_number(number, assigned_to=None, state="available")

    with pytest.raises(NotFoundAtCarrier):
        await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)


async def test_e911_is_never_written_onto_another_accounts_number(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """Kazoo would PATCH it through any account's path (H2)."""
    [number] = await bought(carrier, CHILD_A)
    standin.change_number(number, assigned_to=CHILD_B)

    with pytest.raises(NumberConflict):
        await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)
    with pytest.raises(NumberConflict):
        await carrier.remove_e911(number, account_id=CHILD_A)

    assert standin.calls("PATCH") == [] and standin.calls("POST", number) == []


async def test_a_priced_e911_change_is_a_quote_to_accept_not_a_fault(
    carrier: KazooCarrier, standin: KazooStandIn
) -> None:
    """Every number write is a dry run first; a plan pricing e911 answers 402 (H4c)."""
    standin.model.e911_rate = Decimal("2.5")
    [number] = await bought(carrier, CHILD_A)

    asked = await carrier.provision_e911(number, ADDRESS, account_id=CHILD_A)

    assert isinstance(asked, E911Charges)
    assert [(i.name, i.quantity, i.total) for i in asked.quote.items] == [
        ("Emergency (e911)", 1, Decimal("2.50"))
    ]
    assert "e911" not in standin.model.numbers[number].features
    accepted = await carrier.provision_e911(
        number, ADDRESS, account_id=CHILD_A, accept_charges=True
    )
    assert isinstance(accepted, E911Valid)
    assert standin.calls("POST", number)[-1].body["accept_charges"] is True
    assert "e911" in standin.model.numbers[number].features
