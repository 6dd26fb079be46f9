"""Issue 6 item 14 (search words, the 555 exchange) and item 15 (the Actor's team)."""

from __future__ import annotations

import pytest

from bot.backends.carrier_sim import SimulatedCarrier
from bot.config import CarrierSettings
from bot.domain.assignment import Assignment
from bot.domain.errors import NotAllowed
from bot.domain.phone import Kind, SearchQuery
from bot.handlers.commands import Buy, Help, Search, parse_command
from bot.service.context import Actor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("buy 415", Buy(Kind.LOCAL, "415")),
        ("buy 800", Buy(Kind.TOLLFREE, "800")),
        ("buy 1 800 for conference", Buy(Kind.TOLLFREE, "1 800", Assignment.parse("conference"))),
        ("buy (415) 629 <@U123ABC|dave>", Buy(Kind.LOCAL, "(415) 629", Assignment.user("U123ABC"))),
        ("search local (415) 629", Search(Kind.LOCAL, "(415) 629")),
        ("search 415 629 20", Search(Kind.LOCAL, "415 629", 20)),
        ("search local", Search(Kind.LOCAL, "")),
        ("search tollfree", Search(Kind.TOLLFREE, "")),
        ("search tollfree 5", Search(Kind.TOLLFREE, "", 5)),  # any prefix, five numbers
    ],
)
def test_the_words_of_an_area_code_are_one_query(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("search local (415) 555-0123", "area code and exchange"),
        ("buy 4l5", "characters other than digits"),
        ("buy tollfree 801", "toll-free prefixes"),
        ("search 415 ten", "How many numbers to show"),
    ],
)
def test_a_bad_query_says_what_is_accepted(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and parsed.problem is not None
    assert problem in parsed.problem
    assert "quantity" not in parsed.problem


def test_the_carrier_sells_nothing_in_the_555_exchange() -> None:
    carrier = SimulatedCarrier(CarrierSettings())
    for npa in ("415", "212", "312", "604"):
        stock = carrier.inventory(SearchQuery(Kind.LOCAL, npa))
        assert stock and not [n for n in stock if n[5:8] == "555"]
    assert carrier.inventory(SearchQuery(Kind.LOCAL, "415", "555")) == ()
    assert not carrier.offers("+14155552671")
    assert carrier.offers(carrier.inventory(SearchQuery(Kind.LOCAL, "415"))[0])


def test_a_person_of_another_team_holds_no_role() -> None:
    guest = Actor("UGUEST", "T1", is_admin=True, is_approver=True, team_id="TOTHER")
    assert guest.is_external and not guest.is_admin and not guest.is_approver
    with pytest.raises(NotAllowed, match="Slack Connect"):
        guest.require_admin("buy numbers")
    with pytest.raises(NotAllowed, match="Slack Connect"):
        guest.require_member("read")
    member = Actor("UADMIN", "T1", is_admin=True, team_id="T1")
    assert not member.is_external and member.is_admin
    member.require_admin("buy numbers")
