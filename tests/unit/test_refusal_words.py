"""Errors carry data, blocks carry words (issue 14, point 7): the recurring refusals are
typed in the domain and worded once, by `bot.blocks.errors.error_text`."""

from __future__ import annotations

from bot.blocks.errors import error_text
from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.phone import display
from bot.domain.refusals import JustTaken, NotForSale, TargetFull

FAXBOX = Assignment(AssignmentKind.FAXBOX)


def test_a_full_target_is_worded_for_where_the_person_is() -> None:
    assigning = error_text(TargetFull(FAXBOX, 1))
    buying = error_text(TargetFull(FAXBOX, 1, buying=True))
    held = error_text(TargetFull(FAXBOX, 1, held=True, buying=True))
    assert assigning.endswith("Unassign that one first.")
    assert "Main Faxbox Number already has its number" in buying
    assert "buy for another target" in buying
    assert "an open purchase request already holds one for it" in held
    assert "/numbers requests" in held


def test_taken_and_not_for_sale_name_the_numbers() -> None:
    taken = JustTaken(("+14155550100", "+14155550101"))
    assert taken.numbers == ("+14155550100", "+14155550101")
    names = f"{display('+14155550100')}, {display('+14155550101')}"
    assert error_text(taken) == f"Just taken by another request: {names}. Search again."
    gone = NotForSale("+14155550100")
    assert gone.field == "numbers"
    assert error_text(gone) == f"{display('+14155550100')} is not for sale; search again."
