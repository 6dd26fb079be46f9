"""Account names: the key they are found by, and the skeleton that shows look-alikes.

`name_key` is the one normalization of a name (stored in `accounts.name_key`, unique
per workspace; every lookup by name compares keys): Unicode NFKC, case folded, runs of
white space made one space. "Örebro", "ÖREBRO" and "örebro" are one name; so are
"Équipe" and "éQUIPE". SQLite's `lower()` folds ASCII only, so the key is computed
here, never in SQL.

`name_skeleton` goes further, for refusing a new name that looks like an existing one
("Мain" with a Cyrillic М next to "Main"): compatibility decomposition (NFKD), case
invisible format characters dropped, the common Cyrillic and Greek look-alikes of
Latin letters (and 0/1 for o/l) mapped to the Latin letter, then case folded. Accents stay:
"Equipe" and "Équipe" differ visibly. This is a small table, not Unicode's full
confusables list (UTS #39); it covers the scripts a Latin-named workspace meets.
"""

from __future__ import annotations

import unicodedata

# Letters drawn like a Latin letter, upper and lower case apart (Greek capital Eta looks
# like H, its small letter like n), mapped before case folding; digits like a letter.
_LOOK_ALIKES = dict(
    zip(
        # Cyrillic capitals, Cyrillic small letters, Greek capitals, Greek small letters
        "АВСЕНІЈКМОРЅТХУҮԚԜасеіјорѕхуүһԁԛԝӏкмнвтΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοινκρυχωγητ01",
        "ABCEHIJKMOPSTXYYQWaceijopsxyyhdqwlkmhbtABEZHIKMNOPTYXaoivkpuxwyntol",
        strict=True,
    )
)
_TABLE = str.maketrans(_LOOK_ALIKES)


def name_key(name: str) -> str:
    """The key a name is stored and found by: NFKC, case folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_skeleton(name: str) -> str:
    """What a name looks like: two names with one skeleton are easily taken for each other."""
    decomposed = unicodedata.normalize("NFKD", name)
    visible = "".join(c for c in decomposed if unicodedata.category(c) != "Cf")
    latin = visible.translate(_TABLE).casefold()
    return unicodedata.normalize("NFC", " ".join(latin.split()))
