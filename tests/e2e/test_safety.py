"""Who may do what, forged and repeated requests, bad input, and where cards go."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from bot.blocks.ids import BlockId
from tests.conftest import ADMIN, MANAGER, MEMBER
from tests.e2e.conftest import (
    CHANNEL,
    PRIVATE,
    BotFactory,
    Harness,
    result_labels,
    says,
    text_of,
)


def _slash_body(bot: Harness, user: str, text: str, channel: str = CHANNEL) -> bytes:
    ws = bot.slack.workspace
    return urlencode(
        {
            "token": "verification_token",
            "team_id": ws.team_id,
            "team_domain": ws.team_domain,
            "channel_id": channel,
            "channel_name": "numbers",
            "user_id": user,
            "user_name": bot.state.users[user].name,
            "command": "/numbers",
            "text": text,
            "api_app_id": ws.app_id,
            "response_url": bot.slack.issue_response_url(channel, user),
            "trigger_id": bot.slack.issue_trigger_id(user),
        }
    ).encode()


async def test_redelivered_slash_command_opens_one_modal(bot: Harness) -> None:
    body = _slash_body(bot, ADMIN, "buy")
    first = await bot.driver.post_signed(body)
    again = await bot.driver.post_signed(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert first.status == again.status == 200
    await bot.until(lambda s: bool(s.calls_to("views.open")))
    await bot.settle()
    assert len(bot.state.calls_to("views.open")) == 1


async def test_repeated_view_submission_posts_one_card(bot: Harness) -> None:
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    ws = bot.slack.workspace
    payload = {
        "type": "view_submission",
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": {"id": ADMIN, "username": "alice", "name": "alice", "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": "verification_token",
        "trigger_id": bot.slack.issue_trigger_id(ADMIN),
        "view": bot.modal().to_api(),
        "response_urls": [],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    for headers in ({}, {}, retry):
        assert (await bot.driver.post_signed(body, headers=headers)).status == 200
    await bot.until(lambda s: bool(bot.cards()))
    await bot.settle()
    assert len(bot.state.calls_to("chat.postMessage")) == 1
    assert len(await bot.runtime.services.purchases.list_requests(bot.actor(), "all")) == 1


async def test_forged_or_stale_signature_gets_401_and_changes_nothing(bot: Harness) -> None:
    body = _slash_body(bot, ADMIN, "buy")
    forged = await bot.driver.post_signed(body, secret="not-the-secret")
    stale = await bot.driver.post_signed(body, timestamp=int(time.time()) - 600)
    unsigned = await bot.driver.post_signed(body, signature="")
    assert forged.status == stale.status == unsigned.status == 401
    await bot.settle()
    assert bot.state.calls_to("views.open") == []
    assert bot.state.top_view(ADMIN) is None


async def test_non_admin_cannot_buy_and_sees_why(bot: Harness) -> None:
    result = await bot.driver.slash(MEMBER, CHANNEL, text="buy")
    assert result.status == 200 and not result.timed_out  # acknowledged, not left hanging
    await bot.until(lambda s: bool(bot.ephemeral_texts(MEMBER)))
    await bot.settle()
    assert "Only numbers admins can buy numbers" in bot.ephemeral_texts(MEMBER)[0]
    assert bot.state.calls_to("views.open") == []


async def test_workspace_admins_are_numbers_admins_when_none_are_configured(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(admins=[])
    bot.state.users[MEMBER].is_owner = True
    await bot.open_buy(MEMBER)
    result = await bot.driver.slash(ADMIN, CHANNEL, text="buy")  # alice is no workspace admin
    assert not result.timed_out
    await bot.until(lambda s: bool(bot.ephemeral_texts(ADMIN)))
    assert "Only numbers admins" in bot.ephemeral_texts(ADMIN)[0]


async def test_approvers_from_a_user_group(make_bot: BotFactory) -> None:
    bot = await make_bot(approvers=["SAPPROVERS"])
    bot.slack.add_usergroup("SAPPROVERS", [MEMBER])
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    dm = bot.dm(MEMBER)
    assert "[ Approve ]" in text_of(bot.card(dm))
    assert bot.cards(bot.dm(MANAGER)) == []  # not in the group: no card
    await bot.click_and_wait(MEMBER, "Approve", says(CHANNEL, "Bought 1 number"), channel=dm)


async def test_bad_area_codes_get_a_message_on_the_field(bot: Harness) -> None:
    await bot.open_buy()
    modal = await bot.search("911")
    assert "911 is a service code" in text_of(modal)
    assert result_labels(modal) == []
    modal = await bot.search("800")
    assert "toll-free" in text_of(modal).lower()
    modal = await bot.search("099")
    assert "not a US or Canadian area code" in text_of(modal)

    await bot.driver.fill(ADMIN, "Area code", "4l5")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert "characters other than digits" in result.errors[BlockId.BUY_AREA_CODE]
    assert bot.cards() == []


async def test_card_in_a_private_channel_goes_through_the_response_url(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    await bot.open_buy(channel=PRIVATE)
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed"
    await bot.until(lambda s: bool(s.ephemerals_for(PRIVATE, ADMIN)))
    await bot.settle()
    card = bot.state.ephemerals_for(PRIVATE, ADMIN)[-1]
    shown = text_of(card)
    assert "[ Accept ]" in shown and "Invite me" in shown

    await bot.driver.click(ADMIN, "Accept", channel=PRIVATE)
    await bot.until(lambda s: "Bought 1 number" in text_of(s.ephemerals_for(PRIVATE, ADMIN)[-1]))
    await bot.settle()
    assert len(await bot.numbers("main")) == 1


async def test_help_and_unknown_commands_answer_with_usage(bot: Harness) -> None:
    await bot.driver.slash(MEMBER, CHANNEL, text="help")
    await bot.driver.slash(MEMBER, CHANNEL, text="frobnicate 12")
    await bot.driver.slash(MEMBER, CHANNEL, text="buy local 415 for nobody-at-all")
    texts = [text_of(m) for m in bot.state.ephemerals_for(CHANNEL, MEMBER)]
    assert len(texts) == 3
    assert "/numbers buy" in texts[0] and "/numbers buy" in texts[2]
    # An unknown verb: one line naming the commands, not the whole usage (issue 13).
    assert "“frobnicate” is not a /numbers command" in texts[1]
    assert "`/numbers help` explains every command" in texts[1]
    assert "is not a target" in texts[2]


async def test_rate_limited_slack_is_retried_and_the_card_posted_once(bot: Harness) -> None:
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    # Slack answers the card's chat.postMessage with 429 once; the client honours Retry-After.
    bot.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    await bot.submit_and_wait_card()
    posts = bot.state.calls_to("chat.postMessage")
    assert [call.ok for call in posts] == [False, True]
    assert len(bot.cards()) == 1
