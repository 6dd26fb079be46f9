"""Issue 13, items 1, 9 and 17: long, forged and mistaken input, through the endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.blocks.ids import ActionId, BlockId
from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from bot.domain.states import NumberState
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


# --- item 17: mistakes and dead ends ---------------------------------------------------


async def test_an_unknown_verb_gets_the_closest_verb_and_its_usage_line(bot: Harness) -> None:
    result = await bot.driver.slash(ADMIN, CHANNEL, text="lsit spare")
    answer = result.json
    assert answer is not None
    said = answer["blocks"][0]["text"]["text"]
    assert "“lsit” is not a /numbers command. Did you mean `list`?" in said
    assert "`/numbers list [main|conference|faxbox|users|@user|spare|e911|no-e911]" in said
    assert "/numbers buy" not in said and "/numbers move" not in said  # not the whole usage
    assert len(said.splitlines()) <= 4
    nothing_close = (await bot.driver.slash(ADMIN, CHANNEL, text="zap")).json
    assert nothing_close is not None
    said = nothing_close["blocks"][0]["text"]["text"]
    assert "“zap” is not a /numbers command." in said and "`list`, `spare`" in said
    assert "Did you mean" not in said


async def test_assign_to_nobody_says_there_is_no_such_person(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    result = await bot.driver.slash(ADMIN, CHANNEL, text=f"assign {number} @nobody")
    assert result.json is not None
    said = result.json["text"]
    assert "There is no one called “@nobody” in this workspace" in said, said
    assert "is not a target" not in said


async def test_a_number_of_another_account_is_formatted_and_its_account_named(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    services = bot.runtime.services
    await services.accounts.create(bot.actor(), "Branch")
    await services.numbers.move(bot.actor(), number, "Branch")
    for text in (f"restore {number}", f"unassign {number}", f"history {number}"):
        said = text_of(await say(bot, text))
        if text.startswith("history"):
            continue  # history reads the workspace's trail wherever the number is now
        assert f"{format_national(number)} is a number of the account Branch, not of Main" in (
            said
        ), said
        assert number not in said  # never raw E.164
    # A number that is nobody's here: formatted, and no account named.
    found = await services.numbers.search(bot.actor(), "local", "212", quantity=1)
    other = found.available[0].e164
    said = text_of(await say(bot, f"restore {other}"))
    assert f"{format_national(other)} is not a number of the account Main." in said, said


async def test_aging_rows_offer_restore_and_assign_is_refused_in_words(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    [number, _] = await own(bot, 2)
    await slash_and_wait(bot, "list")  # drawn while it is in service
    await bot.runtime.services.numbers.release(bot.actor(), number)
    # The old list's Assign: refused before any modal, without "rings aging now".
    opened = len(bot.state.calls_to("views.open"))
    before = len(bot.ephemeral_texts(ADMIN))
    await bot.driver.menu(ADMIN, format_national(number), "Assign", channel=CHANNEL)
    await bot.until(lambda s: len(bot.ephemeral_texts(ADMIN)) > before)
    await bot.settle()
    said = bot.ephemeral_texts(ADMIN)[-1]
    assert "is aging (released, restorable until" in said and "restore it first" in said, said
    assert len(bot.state.calls_to("views.open")) == opened
    # A fresh list: the aging row's menu is Restore and History, and Restore works.
    listed = await slash_and_wait(bot, "list")
    assert listed is not None
    row_menu = [
        o["text"]["text"]
        for b in listed.blocks
        if b.get("block_id") == f"number.row.{number}"
        for o in b["accessory"]["options"]
    ]
    assert row_menu == ["Restore", "History"]
    before = len(bot.ephemeral_texts(ADMIN))
    await bot.driver.menu(ADMIN, format_national(number), "History", channel=CHANNEL)
    await bot.until(lambda s: len(bot.ephemeral_texts(ADMIN)) > before)
    await bot.settle()
    assert bot.ephemeral_texts(ADMIN)[-1].startswith("History of")
    before = len(bot.ephemeral_texts(ADMIN))
    await bot.driver.menu(ADMIN, format_national(number), "Restore", channel=CHANNEL)
    await bot.until(lambda s: len(bot.ephemeral_texts(ADMIN)) > before)
    await bot.settle()
    assert "Restored" in bot.ephemeral_texts(ADMIN)[-1]
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.state is NumberState.IN_SERVICE and record.assignment == Assignment.main()


async def test_unassigning_a_spare_says_it_is_already_spare(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await bot.runtime.services.numbers.unassign(bot.actor(), number)
    said = text_of(await say(bot, f"unassign {format_national(number)}"))
    assert "is already a spare number" in said, said
    assert "is unassigned" not in said


@pytest.mark.parametrize("how", ["unassigned", "reassigned", "moved", "released"])
async def test_the_person_a_number_is_taken_from_gets_a_dm(direct_bot: Harness, how: str) -> None:
    bot = direct_bot
    [number] = await own(bot, 1, target=Assignment.user(MEMBER))
    await bot.runtime.services.accounts.create(bot.actor(), "Branch")
    dm = bot.dm(MEMBER)
    national = format_national(number)
    if how == "unassigned":
        await say(bot, f"unassign {national}")
    elif how == "reassigned":
        await say(bot, f"assign {national} conference")
    elif how == "moved":
        await say(bot, f"move {national} Branch")
    else:
        prompt = await say(bot, f"release {national}")
        await bot.driver.click(ADMIN, "Release", channel=CHANNEL, message_ts=prompt.ts)
    await bot.until(lambda s: any("no longer ring you" in m.text for m in s.messages_in(dm)))
    note = bot.state.messages_in(dm)[-1].text
    assert national in note and f"<@{ADMIN}>" in note, note
    assert {"unassigned": "unassigned", "reassigned": "Main Conference Number"}.get(
        how, how
    ) in note, note
