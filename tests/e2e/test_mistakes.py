"""Issue 13, items 1, 9 and 17: long, forged and mistaken input, through the endpoint."""

from __future__ import annotations

from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness

# --- item 1: a text longer than any command is refused at once, in words ------------------


async def test_a_40_kb_move_is_refused_in_the_ack_in_words(bot: Harness) -> None:
    for user in (ADMIN, MEMBER):
        result = await bot.driver.slash(user, CHANNEL, text="move " + "x " * 20_000)
        assert result.status == 200
        answer = result.json
        assert answer is not None, result.text[:200]  # answered in the ack itself
        assert "no /numbers command is longer than 500" in answer["text"]
        assert answer.get("response_type") == "ephemeral"
    await bot.settle()
    assert not bot.state.calls_to("views.open")
