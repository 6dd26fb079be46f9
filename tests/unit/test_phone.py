"""Search input, number parsing, kinds and places (product.md sections 2 and 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.phone import (
    TOLLFREE_PREFIXES,
    Kind,
    SearchQuery,
    display,
    format_national,
    is_fictional,
    is_local_area_code,
    is_n11,
    kind_of,
    local_area_codes,
    parse_area_code,
    parse_number,
    parse_query,
    parse_tollfree_prefix,
    place_of,
)

LOCAL_HELP = "3-digit area code such as 415"
NUMBER_HELP = "(415) 555-2671"
N11 = [f"{n}11" for n in range(2, 10)]


def refused(call: Callable[..., object], *args: Any, **kwargs: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        call(*args, **kwargs)
    return info.value


# --- Local search input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "npa", "nxx"),
    [
        ("415", "415", None),
        (" 415 ", "415", None),
        ("(415)", "415", None),
        ("415-555", "415", "555"),
        ("415 555", "415", "555"),
        ("415.555", "415", "555"),
        ("(415) 555", "415", "555"),
        ("+1 415", "415", None),
        ("+1415", "415", None),
        ("1415", "415", None),
        ("1-415-555", "415", "555"),
        ("+1 (415) 555", "415", "555"),
        ("212", "212", None),
        ("613", "613", None),  # Canada
        ("416-555", "416", "555"),
    ],
)
def test_local_accepts_what_people_type(text: str, npa: str, nxx: str | None) -> None:
    query = parse_area_code(text)
    assert query == SearchQuery(Kind.LOCAL, npa, nxx)
    assert query.prefix == npa + (nxx or "")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "41a",
        "4l5",
        "415-5S5",
        "415/555",
        "415,555",
        "SF",
        "1",
        "+1",
        "41",
        "4155",
        "41555",
        "4155555",
        "14155",
        "415-555-2",
        "4155552671",
        "+415",
        "+44 415",
        "999",  # not an area code
        "200",
        "000",
        "123",
    ],
)
def test_local_refuses_and_says_what_is_accepted(text: str) -> None:
    error = refused(parse_area_code, text)
    assert error.field == "area_code"
    assert LOCAL_HELP in error.message
    assert "415-629" in error.message


@pytest.mark.parametrize("text", [*N11, "(911)", "+1 411", "911-555"])
def test_local_refuses_n11_area_codes(text: str) -> None:
    error = refused(parse_area_code, text)
    assert error.field == "area_code"
    assert "service code" in error.message


@pytest.mark.parametrize("text", ["911", "411"])
def test_local_n11_message_says_what_is_accepted(text: str) -> None:
    assert LOCAL_HELP in refused(parse_area_code, text).message


@pytest.mark.parametrize(
    "text", [f"415-{code}" for code in N11] + ["415-055", "415-155", "212-011", "+1 415 155"]
)
def test_local_refuses_bad_exchanges(text: str) -> None:
    error = refused(parse_area_code, text)
    assert error.field == "area_code"
    assert "2-9" in error.message
    assert "N11" in error.message


@pytest.mark.parametrize("text", [*TOLLFREE_PREFIXES, "+1 800", "(888)", "800-555"])
def test_local_refuses_tollfree_prefix_and_points_to_tollfree(text: str) -> None:
    error = refused(parse_area_code, text)
    assert error.field == "area_code"
    assert "Toll-free" in error.message


@pytest.mark.parametrize("text", ["²¹⁵", "415-²²²"])
def test_local_unicode_digit_lookalikes_are_refused_cleanly(text: str) -> None:
    assert refused(parse_area_code, text).field == "area_code"


def test_local_fullwidth_digits_never_give_a_non_ascii_query() -> None:
    try:
        query = parse_area_code("４１５")
    except InvalidInput:
        return
    assert query.prefix == "415"


# --- Toll-free search input ---------------------------------------------------------------


def test_tollfree_prefixes_are_the_products() -> None:
    assert TOLLFREE_PREFIXES == ("800", "833", "844", "855", "866", "877", "888")


@pytest.mark.parametrize(
    ("text", "prefix"),
    [(p, p) for p in TOLLFREE_PREFIXES]
    + [("(800)", "800"), ("+1 888", "888"), ("1-877", "877"), (" 833 ", "833")],
)
def test_tollfree_accepts_each_prefix(text: str, prefix: str) -> None:
    assert parse_tollfree_prefix(text) == SearchQuery(Kind.TOLLFREE, prefix)


@pytest.mark.parametrize(
    "text",
    ["801", "900", "822", "415", "8OO", "eight", "", "  ", "88", "8000", "800-555", "+44 800"],
)
def test_tollfree_refuses_others_and_lists_prefixes(text: str) -> None:
    error = refused(parse_tollfree_prefix, text)
    assert error.field == "prefix"
    for prefix in TOLLFREE_PREFIXES:
        assert prefix in error.message


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("local", "415", SearchQuery(Kind.LOCAL, "415")),
        (Kind.LOCAL, "415-555", SearchQuery(Kind.LOCAL, "415", "555")),
        ("tollfree", "800", SearchQuery(Kind.TOLLFREE, "800")),
        (Kind.TOLLFREE, "+1 866", SearchQuery(Kind.TOLLFREE, "866")),
    ],
)
def test_parse_query_dispatches_on_kind(kind: str, text: str, expected: SearchQuery) -> None:
    assert parse_query(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "field"),
    [("local", "800", "area_code"), ("tollfree", "415", "prefix"), ("mobile", "415", "kind")],
)
def test_parse_query_refusals(kind: str, text: str, field: str) -> None:
    assert refused(parse_query, kind, text).field == field


def test_parse_query_bad_kind_names_the_choices() -> None:
    assert "Local or Toll-free" in refused(parse_query, "fax", "415").message


# --- NANP helpers and area codes ----------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), [(c, True) for c in N11] + [
    ("410", False), ("912", False), ("415", False), ("11", False), ("9111", False)
])  # fmt: skip
def test_is_n11(code: str, expected: bool) -> None:
    assert is_n11(code) is expected


@pytest.mark.parametrize(
    ("nxx", "line", "expected"),
    [
        ("555", "0100", True),
        ("555", "0150", True),
        ("555", "0199", True),
        ("555", "0099", False),
        ("555", "0200", False),
        ("556", "0100", False),
    ],
)
def test_is_fictional(nxx: str, line: str, expected: bool) -> None:
    assert is_fictional(nxx, line) is expected


def test_local_area_codes_are_geographic_and_each_is_searchable() -> None:
    codes = local_area_codes()
    assert {"415", "212", "613", "204"} <= set(codes)
    assert list(codes) == sorted(set(codes))
    assert not set(codes) & (set(TOLLFREE_PREFIXES) | set(N11) | {"999"})
    for code in codes:
        assert len(code) == 3 and code.isascii() and code[0] in "23456789"
        assert parse_area_code(code) == SearchQuery(Kind.LOCAL, code)


@pytest.mark.parametrize("npa", ["800", "911", "999", "099", "41", "4155", "abc"])
def test_is_local_area_code_refuses(npa: str) -> None:
    assert not is_local_area_code(npa)


# --- Numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "415 555 2671",
        "4155552671",
        "14155552671",
        "1 (415) 555-2671",
        "+1 415 555 2671",
        "+14155552671",
        "  +1-415-555-2671  ",
    ],
)
def test_parse_number_typical_forms(text: str) -> None:
    assert parse_number(text) == "+14155552671"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("(613) 555-2671", "+16135552671"),
        ("1-800-555-2671", "+18005552671"),
        ("415-555-0099", "+14155550099"),  # just below the fictional block
        ("415-555-0200", "+14155550200"),  # just above it
    ],
)
def test_parse_number_other_valid_numbers(text: str, e164: str) -> None:
    assert parse_number(text) == e164


@pytest.mark.parametrize("text", ["415-555-0100", "(415) 555-0123", "+1 212 555 0199"])
def test_parse_number_refuses_fictional_block(text: str) -> None:
    error = refused(parse_number, text)
    assert error.field == "number"
    assert "555-01XX" in error.message
    assert NUMBER_HELP in error.message


@pytest.mark.parametrize("text", ["911-555-2671", "411-555-2671", "415-911-2671", "415-411-2671"])
def test_parse_number_refuses_n11(text: str) -> None:
    error = refused(parse_number, text)
    assert error.field == "number"
    assert "N11" in error.message
    assert NUMBER_HELP in error.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "415-555-267I",
        "415555267",
        "415555267123",
        "24155552671",
        "+44 20 7946 0958",
        "999-555-2671",
        "415-055-2671",
        "415-155-2671",
        "015-555-2671",
    ],
)
def test_parse_number_refuses_others(text: str) -> None:
    error = refused(parse_number, text)
    assert error.field == "number"
    assert NUMBER_HELP in error.message


def test_parse_number_uses_the_given_field() -> None:
    assert refused(parse_number, "nope", field="new_number").field == "new_number"


def test_parse_number_fullwidth_digits_give_e164_or_a_refusal() -> None:
    try:
        result = parse_number("４１５５５５２６７１")
    except InvalidInput:
        return
    assert result == "+14155552671"


def test_parse_number_superscript_digits_refused_cleanly() -> None:
    assert refused(parse_number, "²¹⁵⁵⁵⁵²⁶⁷¹").field == "number"


# --- Kinds, formats and places ------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+14155552671", "(415) 555-2671 · San Francisco, CA"),
        ("+14155550123", "(415) 555-0123 · San Francisco, CA"),
        ("+12125552671", "(212) 555-2671 · New York, NY"),
        ("+16135552671", "(613) 555-2671 · Ontario"),
        *[(f"+1{p}5552671", f"({p}) 555-2671 · Toll-free") for p in TOLLFREE_PREFIXES],
    ],
)
def test_display_shows_national_format_and_place(e164: str, shown: str) -> None:
    assert display(e164) == shown
    assert format_national(e164) == shown.split(" · ")[0]
    assert place_of(e164) == shown.split(" · ")[1]


@pytest.mark.parametrize(
    ("e164", "kind"),
    [("+14155552671", Kind.LOCAL), ("+16135552671", Kind.LOCAL), ("+18015552671", Kind.LOCAL)]
    + [(f"+1{p}5552671", Kind.TOLLFREE) for p in TOLLFREE_PREFIXES],
)
def test_kind_of(e164: str, kind: Kind) -> None:
    assert kind_of(e164) is kind
