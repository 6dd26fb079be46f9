"""Number references accept what people type, and name back what they cannot use."""

from __future__ import annotations

import pytest

from bot.domain.assignment import Assignment, AssignmentKind
from tests.conftest import ADMIN
from tests.e2e.conftest import Harness
from tests.e2e.manage_helpers import own, slash_and_wait

FORMATS = (
    "+1{npa}{nxx}{line}",
    "{npa}{nxx}{line}",
    "{npa}-{nxx}-{line}",
    "({npa}) {nxx}-{line}",
    "1 {npa} {nxx} {line}",
    "+1 ({npa}) {nxx}-{line}",
)
ACCEPTED = "+14155552671, 4155552671, 415-555-2671, (415) 555-2671, 1 415 555 2671"


@pytest.mark.parametrize("form", FORMATS)
async def test_every_accepted_format(direct_bot: Harness, form: str) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    typed = form.format(npa=number[2:5], nxx=number[5:8], line=number[8:])
    await slash_and_wait(bot, f"assign {typed} conference")
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.assignment == Assignment(AssignmentKind.CONFERENCE), typed


def _last(bot: Harness) -> str:
    return bot.ephemeral_texts(ADMIN)[-1]


async def test_a_number_that_is_not_the_accounts(direct_bot: Harness) -> None:
    bot = direct_bot
    found = await bot.runtime.services.numbers.search(bot.actor(), "local", "212", quantity=1)
    other = found.available[0].e164
    typed = f"({other[2:5]}) {other[5:8]}-{other[8:]}"
    await slash_and_wait(bot, f"unassign {typed}")
    said = _last(bot)
    assert f"“{typed}” is not a number of this channel's account" in said
    assert ACCEPTED in said


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("415-555-01", "is not a US or Canadian number"),
        ("+1 415 555 0123", "fictional 555-01XX"),
        ("415-911-2671", "N11"),
        ("call me maybe", "is not a US or Canadian number"),
    ],
)
async def test_malformed_or_fictional_numbers(direct_bot: Harness, typed: str, why: str) -> None:
    bot = direct_bot
    message = await slash_and_wait(bot, f"e911 {typed}")
    assert message is not None
    said = " ".join(str(b) for b in message.blocks)
    assert f"“{typed}”" in said and why in said
    assert ACCEPTED in said
    assert bot.state.calls_to("views.open") == []


async def test_what_was_typed_is_clipped_and_escaped(direct_bot: Harness) -> None:
    bot = direct_bot
    typed = "<!channel> " + "9" * 200
    message = await slash_and_wait(bot, f"unassign {typed}")
    assert message is not None
    said = " ".join(str(b) for b in message.blocks)
    assert "<!channel>" not in said and "&lt;!channel&gt;" in said
    assert "9" * 60 not in said  # clipped
