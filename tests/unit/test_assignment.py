"""Assignments (Kazoo's used_by): what an owned number rings (product.md sections 2 and 3.8)."""

from __future__ import annotations

import pytest

from bot.blocks.picked import target_from_text
from bot.domain.assignment import (
    LABELS,
    MAX_PER_ACCOUNT,
    Assignment,
    AssignmentKind,
    is_slack_user,
)
from bot.domain.errors import InvalidInput

A = AssignmentKind
KAZOO_ID = "6b71cb72c876b5b1396a335f8f8a2594"  # Kazoo's ids: 32 lowercase hex digits


@pytest.mark.parametrize(
    ("text", "kind", "user_id"),
    [
        ("main", A.MAIN, None),
        ("MAIN", A.MAIN, None),
        (" Main ", A.MAIN, None),
        ("conference", A.CONFERENCE, None),
        ("Conference", A.CONFERENCE, None),
        ("faxbox", A.FAXBOX, None),
        ("FAXBOX", A.FAXBOX, None),
        ("<@U123|name>", A.USER, "U123"),
        ("<@U0ABC123|jane.doe>", A.USER, "U0ABC123"),
        ("<@U123>", A.USER, "U123"),
        ("@U123", A.USER, "U123"),
        ("user:U123", A.USER, "U123"),
        ("U123", A.USER, "U123"),
        (" user:W0ABC ", A.USER, "W0ABC"),
    ],
)
def test_typed_targets_are_read_in_the_slack_layer(
    text: str, kind: AssignmentKind, user_id: str | None
) -> None:
    assert target_from_text(text) == Assignment(kind, user_id)


@pytest.mark.parametrize("text", ["<@U123|name>", "<@U123>", "@U123", "U123"])
def test_the_domain_reads_no_mention(text: str) -> None:
    """Mentions are Slack's: the domain takes the stored form only."""
    with pytest.raises(InvalidInput):
        Assignment.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "boss",
        "mainline",
        "fax",
        "users",
        "@",
        "user:",
        "@U1",  # too short to be a Slack id
        "u123",
        "<@u123>",
        "@alice",
        "user:main",
        "<@U123|name",
        "<@U123> extra",
        "@U123 x",
        "<#C123|general>",
        "<!subteam^S123|team>",
        "C123",
    ],
)
def test_parse_refuses_and_says_what_is_accepted(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        target_from_text(text)
    assert info.value.field == "target"
    for word in ("main", "conference", "faxbox", "@user", "user:U123"):
        assert word in info.value.message


@pytest.mark.parametrize(
    ("assignment", "key", "label"),
    [
        (Assignment.main(), "main", "Main Company Numbers"),
        (Assignment(A.CONFERENCE), "conference", "Main Conference Number"),
        (Assignment(A.FAXBOX), "faxbox", "Main Faxbox Number"),
        # No mention inside the domain: blocks name the person (`target_text`).
        (Assignment.user("U123"), "user:U123", "User"),
        (Assignment.user(KAZOO_ID), f"user:{KAZOO_ID}", "User"),
    ],
)
def test_key_label_and_round_trip(assignment: Assignment, key: str, label: str) -> None:
    assert assignment.key == key
    assert assignment.label == label
    assert Assignment.parse(key) == assignment


@pytest.mark.parametrize(
    ("kind", "user_id"),
    [(A.USER, None), (A.MAIN, "U123"), (A.CONFERENCE, "U123"), (A.FAXBOX, "U123")],
)
def test_only_user_assignments_have_a_user(kind: AssignmentKind, user_id: str | None) -> None:
    with pytest.raises(InvalidInput) as info:
        Assignment(kind, user_id)
    assert info.value.field == "target"


def test_labels_and_limits_are_the_products_words() -> None:
    assert LABELS[A.MAIN] == "Main Company Numbers"
    assert LABELS[A.CONFERENCE] == "Main Conference Number"
    assert LABELS[A.FAXBOX] == "Main Faxbox Number"
    assert MAX_PER_ACCOUNT == {A.FAXBOX: 1}


@pytest.mark.parametrize(
    "assignment",
    [
        Assignment.main(),
        Assignment(A.CONFERENCE),
        Assignment(A.FAXBOX),
        Assignment.user("U0ABC123"),  # a Slack user
        Assignment.user("W0ABC123"),  # an Enterprise Grid user
        Assignment.user(KAZOO_ID),  # a Kazoo user no Slack user matched (the mirror's)
        Assignment.user(f"{KAZOO_ID}-user-alice"),  # the Kazoo stand-in's ids
        Assignment.user("3fa85f64-5717-4562-b3fc-2c963f66afa6"),  # another carrier's UUID
        Assignment.user("1293384261075731499"),  # another carrier's numeric id
    ],
)
def test_every_stored_key_parses_back(assignment: Assignment) -> None:
    """Restore reads the key back from the audit trail: it must parse, for every person."""
    assert Assignment.parse(assignment.key) == assignment
    assert "<@" not in assignment.label


@pytest.mark.parametrize("text", [KAZOO_ID, f"@{KAZOO_ID}", f"<@{KAZOO_ID}>", "user:bob"])
def test_a_kazoo_id_is_taken_only_in_the_stored_form(text: str) -> None:
    with pytest.raises(InvalidInput):
        Assignment.parse(text)
    with pytest.raises(InvalidInput):
        target_from_text(text)


def test_one_slack_id_pattern() -> None:
    assert is_slack_user("U0ABC123") and is_slack_user("W0ABC123")
    assert not is_slack_user(KAZOO_ID) and not is_slack_user("u123")
