"""Issue 13, item 9: every value a payload carries is checked where it is read."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks.assign import target_of
from bot.blocks.payloads import ListRef
from bot.blocks.picked import choice, slack_user
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.e911 import validate_address
from bot.domain.errors import InvalidInput
from bot.domain.records import AssignmentFilter
from bot.handlers.context import BadPayload, parse

GOOD: dict[str, Any] = {
    "street_address": "140 Main St",
    "extended_address": "Floor 3",
    "locality": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "caller_name": "Acme Corp",
}


@pytest.mark.parametrize(
    "field", ["street_address", "extended_address", "locality", "caller_name", "region"]
)
@pytest.mark.parametrize("odd", ["\u202e", "\u200b", "\x00", "\x1b", "\ue000", "\u2066"])
def test_invisible_and_control_characters_in_any_e911_field_are_refused(
    field: str, odd: str
) -> None:
    value = GOOD[field][:1] + odd + GOOD[field][1:]
    with pytest.raises(InvalidInput) as info:
        validate_address(**{**GOOD, field: value})
    assert info.value.field == field


def test_letters_of_every_script_and_punctuation_are_kept() -> None:
    address = validate_address(
        **{**GOOD, "locality": "Saint-Jérôme", "street_address": "12 Rue d'Été №5"}
    )
    assert address.locality == "Saint-Jérôme"


@pytest.mark.parametrize("key", ["everyone", "user:<!channel>", "user:", "USERS", ""])
def test_an_unknown_list_filter_is_invalid_input_not_a_value_error(key: str) -> None:
    with pytest.raises(InvalidInput):
        AssignmentFilter.parse(key)
    with pytest.raises(BadPayload):
        parse(ListRef, f'{{"assignment": "{key}"}}')


@pytest.mark.parametrize("key", ["spare", "users", "main", "conference", "faxbox", "user:U1A2"])
def test_every_list_filter_we_draw_reads_back(key: str) -> None:
    assert AssignmentFilter.parse(key).key == key
    assert parse(ListRef, f'{{"assignment": "{key}"}}').assignment == key


@pytest.mark.parametrize(
    ("kind", "user", "field"),
    [
        ("everyone", None, "target"),
        ("user", "<!channel>", "user"),
        ("user", "<@U123>", "user"),
        ("user", "u123", "user"),
        ("user", None, "user"),
    ],
)
def test_the_assign_modal_refuses_what_it_never_offered(
    kind: str, user: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        target_of(kind, user)
    assert info.value.field == field


def test_the_assign_modal_reads_what_it_offered() -> None:
    assert target_of("conference", None) == Assignment(AssignmentKind.CONFERENCE)
    assert target_of("user", "W0ABC123") == Assignment.user("W0ABC123")
    assert choice(AssignmentKind, "faxbox", "target", "x") is AssignmentKind.FAXBOX
    assert slack_user("U0ABC") == "U0ABC"
