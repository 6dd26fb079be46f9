"""Account names: one key for every way of writing a name, and look-alikes (issue 13, item 5)."""

from __future__ import annotations

import pytest

from bot.domain.names import name_key, name_skeleton


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Örebro", "örebro"),
        ("Örebro", "ÖREBRO"),
        ("Équipe", "éQUIPE"),
        ("Straße", "STRASSE"),  # case folding, not lower()
        ("Ｍａｉｎ", "Main"),  # full-width letters (NFKC)
        ("O\u0308rebro", "Örebro"),  # a combining diaeresis is the same letter
        ("Branch  Office", "branch office"),
        ("Acme (East), Inc.", "ACME (EAST), INC."),  # Kazoo's names too
    ],
)
def test_one_key_for_one_name(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"), [("Équipe", "Equipe"), ("Örebro", "Orebro"), ("Main", "Mains")]
)
def test_different_names_keep_different_keys_and_looks(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)
    assert name_skeleton(a) != name_skeleton(b)


@pytest.mark.parametrize(
    ("look_alike", "name"),
    [
        ("Мain", "Main"),  # Cyrillic capital Em
        ("Mаin", "Main"),  # Cyrillic small a
        ("ΗR", "HR"),  # Greek capital Eta
        ("Sales Теam", "Sales Team"),
        ("Ma\u200bin", "Main"),  # a zero-width space
        ("0ffice", "Office"),
    ],
)
def test_look_alikes_share_a_skeleton_but_not_a_key(look_alike: str, name: str) -> None:
    assert name_key(look_alike) != name_key(name)
    assert name_skeleton(look_alike) == name_skeleton(name)
