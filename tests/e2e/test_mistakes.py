"""Issue 13, items 1, 9 and 17: long, forged and mistaken input, through the endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.blocks.ids import ActionId, BlockId
from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from bot.handlers.context import STALE
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness, result_labels, text_of
from tests.e2e.manage_helpers import ADDRESS, own, slash_and_wait
from tests.e2e.manage_steps import say


async def _assignment(bot: Harness, number: str) -> Assignment | None:
    return (await bot.runtime.services.numbers.get(bot.actor(), number)).assignment


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


# --- item 9: forged and odd payload values are refused in words, and change nothing -----


async def _open_assign(bot: Harness, number: str) -> None:
    await slash_and_wait(bot, "list")
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.menu(ADMIN, format_national(number), "Assign", channel=CHANNEL)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)


def _forge(bot: Harness, block: str, entry: dict[str, Any]) -> None:
    """What a tampered client holds in the modal's state is what Slack sends."""
    modal = bot.modal()
    bot.slack.set_value(modal, block, block, entry)


async def test_a_forged_assign_target_is_refused_on_its_field(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await _open_assign(bot, number)
    option = {"text": {"type": "plain_text", "text": "Everyone"}, "value": "everyone"}
    _forge(bot, BlockId.ASSIGN_TARGET, {"type": "static_select", "selected_option": option})
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors", (result.problem, result.http.text[:300])
    assert (
        "Choose what the number should ring from the list" in result.errors[BlockId.ASSIGN_TARGET]
    )
    assert await _assignment(bot, number) == Assignment.main()


@pytest.mark.parametrize("forged", ["<!channel>", "U0NOSUCH1", "USLACKBOT"])
async def test_a_forged_or_unknown_person_is_never_stored(direct_bot: Harness, forged: str) -> None:
    bot = direct_bot
    bot.slack.add_user("USLACKBOT", "slackbot", is_bot=True)
    [number] = await own(bot, 1)
    await _open_assign(bot, number)
    await bot.driver.fill(ADMIN, "Assign to", "A user")
    _forge(bot, BlockId.ASSIGN_USER, {"type": "users_select", "selected_user": forged})
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors", (result.problem, result.http.text[:300])
    error = result.errors[BlockId.ASSIGN_USER]
    assert "person" in error and "Traceback" not in error, error
    assert await _assignment(bot, number) == Assignment.main()
    assert not bot.state.messages_in(bot.dm(ADMIN))


async def test_assign_by_command_to_a_user_id_slack_does_not_know(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    answer = await say(bot, f"assign {format_national(number)} <@U0NOSUCH1|ghost>")
    assert "no such person in this workspace" in text_of(answer), text_of(answer)
    assert await _assignment(bot, number) == Assignment.main()
    # A real person still works, and users.info was how the bot knew the difference.
    answer = await say(bot, f"assign {format_national(number)} <@{MEMBER}|dave>")
    assert "now rings" in text_of(answer), text_of(answer)
    asked = [c.args.get("user") for c in bot.state.calls_to("users.info")]
    assert "U0NOSUCH1" in asked and MEMBER in asked


async def test_a_forged_list_filter_is_answered_in_words(direct_bot: Harness) -> None:
    bot = direct_bot
    await own(bot, 11)
    listed = await slash_and_wait(bot, "list")
    assert listed is not None
    for block in listed.blocks:
        for element in block.get("elements", []) or []:
            if element.get("action_id") == ActionId.LIST_NEXT:
                element["value"] = json.dumps({"assignment": "everyone", "page": 2})
    before = len(bot.ephemeral_texts(ADMIN))
    result = await bot.driver.click(ADMIN, "Next", channel=CHANNEL, message_ts=listed.ts)
    assert result is not None and result.status == 200
    await bot.until(lambda s: len(bot.ephemeral_texts(ADMIN)) > before)
    await bot.settle()
    assert bot.ephemeral_texts(ADMIN)[-1] == STALE


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("City", "San\u202eocsicnarF"),
        ("Street address", "140 Main\u200b St"),
        ("Caller name", "Acme\x07 Corp"),
    ],
)
async def test_control_characters_in_e911_fields_are_refused(
    direct_bot: Harness, label: str, value: str
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    fields = {**ADDRESS, label: value}
    for name, typed in fields.items():
        await bot.driver.fill(ADMIN, name, typed)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors", (result.problem, result.http.text[:300])
    [message] = result.errors.values()
    assert f"{label} has an invisible or control character" in message, message
    assert "\u202e" not in message and "\u200b" not in message
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.e911 is None


@pytest.mark.parametrize(
    ("block", "entry", "field"),
    [
        (BlockId.BUY_USER, {"type": "users_select", "selected_user": "<!channel>"}, "buy.user"),
        (BlockId.BUY_USER, {"type": "users_select", "selected_user": "U0NOSUCH1"}, "buy.user"),
        (
            BlockId.BUY_TARGET,
            {"type": "static_select", "selected_option": {"value": "everyone"}},
            "buy.target",
        ),
    ],
)
async def test_buy_numbers_refuses_a_forged_target_or_person(
    direct_bot: Harness, block: str, entry: dict[str, Any], field: str
) -> None:
    bot = direct_bot
    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Buy for", "A user")
    modal = await bot.search("312")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    _forge(bot, block, entry)
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors", (result.problem, result.http.text[:300])
    assert "Choose" in result.errors[field] or "no such person" in result.errors[field]
    assert not bot.cards()  # nothing was quoted
