"""The words for the service's typed errors: they carry data (who, when, which state)."""

from __future__ import annotations

from bot.blocks.cards import stale_text
from bot.blocks.release import changed_since_text
from bot.blocks.text import escape, mention, target_text
from bot.domain.errors import NumbersBotError
from bot.domain.phone import display
from bot.domain.refusals import (
    ChangedSincePrompt,
    JustTaken,
    NoLongerSpare,
    NotForSale,
    NotRequester,
    StaleRequest,
    TargetFull,
)


def error_text(error: NumbersBotError) -> str:
    """What a person reads for a service error."""
    if isinstance(error, StaleRequest):
        return stale_text(error.request)
    if isinstance(error, ChangedSincePrompt):
        return changed_since_text(error.record, error.since)
    if isinstance(error, NoLongerSpare):
        where = target_text(error.assignment.label, error.assignment.user_id)
        return f"{escape(error.number)} is no longer spare: it rings {where}."
    if isinstance(error, TargetFull):
        return target_full_text(error)
    if isinstance(error, JustTaken):
        names = ", ".join(display(n) for n in error.numbers)
        return f"Just taken by another request: {escape(names)}. Search again."
    if isinstance(error, NotForSale):
        return f"{escape(display(error.number))} is not for sale; search again."
    if isinstance(error, NotRequester):
        return f"Only {mention(error.requester_id)} can {error.doing} this request."
    return error.message


def target_full_text(error: TargetFull) -> str:
    """Why the target takes no more numbers, and the way out where the person is."""
    label, limit = error.target.label, error.limit
    if error.held:
        return (
            f"The {label} takes only {limit} number, and an open purchase request "
            "already holds one for it. Cancel that request first (see /numbers requests), "
            "or buy for another target."
        )
    if error.buying:
        return (
            f"The {label} already has its number; it takes only {limit}. "
            "Unassign it first, or buy for another target."
        )
    return f"The {label} already has a number; it takes only {limit}. Unassign that one first."


def unexpected_text(reference: str) -> str:
    """What a person reads when something failed that no rule refused: a short reference
    the log carries too, so whoever looks into it finds the traceback."""
    return (
        f"Something went wrong on our side (reference `{reference}`); it is logged."
        " Try again in a moment."
    )
