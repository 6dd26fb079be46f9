"""Issue 7 item 7: a button value or modal metadata the app cannot read (tampered, or drawn
by an older release) is answered in words through the real endpoint, and changes nothing."""

from __future__ import annotations

from typing import Any

from bot.domain.states import NumberState
from bot.handlers.context import STALE
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness
from tests.e2e.manage_steps import national, own, say


def _buttons(blocks: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        for element in block.get("elements", []) or []
        if element.get("type") == "button" and element["text"]["text"] == label
    ]


async def test_a_tampered_button_is_refused_in_words_and_nothing_moves(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, count=1)
    prompt = await say(bot, f"release {national(number)}")
    [button] = _buttons(prompt.blocks, "Release")
    button["value"] = '{"number": "<!channel>"'  # what the client holds is what it sends
    before = len(bot.ephemeral_texts(ADMIN))
    result = await bot.driver.click(ADMIN, "Release", channel=CHANNEL, message_ts=prompt.ts)
    assert result is not None and result.status == 200
    await bot.until(lambda s: len(bot.ephemeral_texts(ADMIN)) > before)
    await bot.settle()
    assert bot.ephemeral_texts(ADMIN)[-1] == STALE
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.state is NumberState.IN_SERVICE


async def test_a_modal_with_unreadable_metadata_stays_open_and_says_so(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, count=1)
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    bot.modal(ADMIN).definition["private_metadata"] = '{"number": "+1"}'
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors", result.problem
    assert list(result.errors.values()) == [STALE]
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is None
