"""Accounts and moves through the real endpoint: create, bind a channel, move a number."""

from __future__ import annotations

from bot.domain.records import AssignmentFilter, NumberFilter
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness
from tests.e2e.manage_steps import ADDRESS, national, own, say, shown

BRANCH = "C2BRANCH"


async def _branch_channel(bot: Harness) -> None:
    bot.slack.add_channel(BRANCH, "branch")
    created = await say(bot, "account create Branch Office")
    assert "Created the account Branch Office" in shown(created)
    bound = await say(bot, "account use branch office", channel=BRANCH)  # any case
    assert "now works on the account Branch Office" in shown(bound)


async def test_create_bind_move_and_list(direct_bot: Harness) -> None:
    bot = direct_bot
    a, b = await own(bot, count=2)
    await _branch_channel(bot)

    moved = await say(bot, f"move {national(a)} Branch Office")
    text = shown(moved)
    assert "Moved" in text and "to Branch Office" in text and "Account: Branch Office" in text
    services = bot.runtime.services
    there = await services.numbers.list_numbers(bot.actor(), channel_id=BRANCH)
    here = await services.numbers.list_numbers(bot.actor(), channel_id=CHANNEL)
    assert [r.e164 for r in there.rows] == [a] and there.rows[0].assignment is None
    assert [r.e164 for r in here.rows] == [b]

    listed = await say(bot, "account list")
    text = shown(listed)
    assert "Main (default" in text and "Branch Office" in text
    assert "1 number · used by #" in text
    assert f"<#{BRANCH}>" in str(listed.blocks)


async def test_names_are_unique_without_case_and_unknown_names_get_the_list(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    await _branch_channel(bot)
    again = await say(bot, "account create BRANCH OFFICE")
    assert "already exists" in shown(again)
    unknown = await say(bot, "account use Nowhere")
    assert "no account named “Nowhere”" in shown(unknown)
    assert "Branch Office, Main" in shown(unknown)
    bad = await say(bot, "account create <!channel>")
    assert "An account name is" in shown(bad) and "<!channel>" not in str(bad.blocks)


async def test_move_modal_from_the_command(direct_bot: Harness) -> None:
    bot = direct_bot
    (a,) = await own(bot)
    await _branch_channel(bot)
    await bot.driver.slash(ADMIN, CHANNEL, text=f"move {a}")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    assert bot.modal().title == "Move number"
    await bot.driver.select(ADMIN, "Branch Office", field="Account")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed", result.errors
    await bot.settle()
    assert "Moved" in bot.ephemeral_texts(ADMIN)[-1]
    there = await bot.runtime.services.numbers.list_numbers(bot.actor(), channel_id=BRANCH)
    assert [r.e164 for r in there.rows] == [a]


async def test_move_refused_for_the_last_emergency_main_number(direct_bot: Harness) -> None:
    bot = direct_bot
    (a,) = await own(bot)
    await bot.runtime.services.e911.set_address(bot.actor(), a, ADDRESS)
    await _branch_channel(bot)
    refused = await say(bot, f"move {a} Branch Office")
    assert "last emergency-enabled main number" in shown(refused)
    rows = await bot.runtime.services.numbers.list_numbers(
        bot.actor(), NumberFilter(AssignmentFilter.parse("main"))
    )
    assert [r.e164 for r in rows.rows] == [a]


async def test_members_cannot_create_bind_or_move(direct_bot: Harness) -> None:
    bot = direct_bot
    (a,) = await own(bot)
    for text in ("account create Shadow", "account use Main", f"move {a} Main"):
        answer = await say(bot, text, user=MEMBER)
        assert "Only numbers admins" in shown(answer), text
    listed = await say(bot, "account list", user=MEMBER)  # reading is for everyone
    assert "Main" in shown(listed)


async def test_bad_move_and_account_commands_say_what_is_accepted(direct_bot: Harness) -> None:
    bot = direct_bot
    for text, needle in (
        ("move", "Say the number"),
        ("move 12 Branch", "Say the number, then the account"),
        ("account rename X", "is not an account command"),
        ("account create", "Say the account's name"),
        ("release", "Say which number"),
        ("history abc", "is not a US or Canadian number"),
    ):
        result = await bot.driver.slash(ADMIN, CHANNEL, text=text)
        assert result.status == 200
        assert needle in result.text, (text, result.text[:300])


async def test_long_texts_are_answered_with_a_short_valid_message(direct_bot: Harness) -> None:
    bot = direct_bot
    for verb in ("account create", "account use", "move 4155552671", "history", "release"):
        result = await bot.driver.slash(ADMIN, CHANNEL, text=f"{verb} " + "<&" * 1500)
        assert result.status == 200, verb
        await bot.settle()
    texts = bot.ephemeral_texts(ADMIN)  # the stand-in refuses blocks Slack would refuse
    assert len(texts) == 5 and all(len(t) < 500 for t in texts), texts


async def test_a_look_alike_account_name_is_refused_with_the_existing_name(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    bot.slack.add_channel(BRANCH, "branch")
    await say(bot, "account list")  # the default account, Main, exists
    refused = shown(await say(bot, "account create Мain"))  # a Cyrillic М
    assert "looks like the existing account “Main”" in refused
    found = shown(await say(bot, "account create Örebro"))
    assert "Created the account Örebro" in found
    bound = shown(await say(bot, "account use ÖREBRO", channel=BRANCH))
    assert "now works on the account Örebro" in bound
