"""The Slack stand-in answers like Slack, and the driver plays a person against a bolt app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.console.driver import DriverError, SlackDriver, sign
from bot.console.fake_slack import FakeSlack, SlackError, SlackState
from bot.console.render import mrkdwn_to_plain, render_blocks, render_surface

SECRET = "test-signing-secret"
Json = dict[str, Any]


def section(text: str, **extra: Any) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str, action_id: str, value: str = "") -> Json:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }


def option(label: str, value: str) -> Json:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def modal(title: str = "Buy numbers", **extra: Any) -> Json:
    return {
        "type": "modal",
        "callback_id": "buy",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Buy"},
        "blocks": [
            {
                "type": "input",
                "block_id": "qty",
                "label": {"type": "plain_text", "text": "Quantity"},
                "element": {"type": "plain_text_input", "action_id": "qty_input"},
            }
        ],
        **extra,
    }


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as stand_in:
        stand_in.add_user("U1", "ada", is_admin=True)
        stand_in.add_user("U2", "bob")
        stand_in.add_channel("C1", "general")
        stand_in.add_channel("C2", "secret", is_private=True, bot_is_member=False)
        stand_in.add_channel("C3", "random", bot_is_member=False)
        yield stand_in


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=slack.api_url)


def top_view_shows(user: str, text: str) -> Callable[[SlackState], bool]:
    def shows(state: SlackState) -> bool:
        view = state.top_view(user)
        return view is not None and text in json.dumps(view.blocks)

    return shows


def latest_text(state: SlackState, channel: str) -> str | None:
    message = state.latest(channel)
    return message.text if message else None


async def api_error(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


# ---- the Web API stand-in, through slack_sdk ---------------------------------------------


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert (answer["user_id"], answer["team_id"], answer["bot_id"]) == (
        "U0BOT",
        "T0NUMBERS",
        "B0BOT",
    )


async def test_wrong_or_missing_token_is_refused(slack: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert await api_error(wrong.auth_test()) == "invalid_auth"
    assert await api_error(AsyncWebClient(base_url=slack.api_url).auth_test()) == "not_authed"


async def test_post_message_to_channel_and_to_user_dm(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C1", text="hi", blocks=[section("*hi*")])
    assert posted["channel"] == "C1"
    message = slack.state.latest("C1")
    assert message is not None and message.ts == posted["ts"] and message.text == "hi"
    assert message.blocks[0]["block_id"]  # Slack fills in missing ids

    dm = await client.chat_postMessage(channel="U2", text="your number is ready")
    assert dm["channel"].startswith("D")
    assert slack.state.channels[dm["channel"]].im_user == "U2"
    opened = await client.conversations_open(users="U2")
    assert opened["channel"]["id"] == dm["channel"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_message_refusals(client: AsyncWebClient) -> None:
    assert await api_error(client.chat_postMessage(channel="C1")) == "no_text"
    too_many = [section(f"line {i}") for i in range(51)]
    assert (
        await api_error(client.chat_postMessage(channel="C1", blocks=too_many)) == "invalid_blocks"
    )
    assert await api_error(client.chat_postMessage(channel="C2", text="x")) == "channel_not_found"
    assert await api_error(client.chat_postMessage(channel="C3", text="x")) == "not_in_channel"
    assert await api_error(client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"


async def test_update_keeps_history_and_unknown_ts_fails(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C1", text="pending")
    await client.chat_update(channel="C1", ts=posted["ts"], text="approved")
    message = slack.state.find_message(posted["ts"])
    assert message is not None
    assert message.text == "approved" and [v.text for v in message.history] == ["pending"]
    missing = client.chat_update(channel="C1", ts="1.000001", text="x")
    assert await api_error(missing) == "message_not_found"


async def test_ephemeral_is_seen_only_by_its_user(slack: FakeSlack, client: AsyncWebClient) -> None:
    answer = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert answer["message_ts"]
    assert [m.text for m in slack.state.ephemerals_for("C1", "U1")] == ["only you"]
    assert slack.state.visible("U2", "C1") == []
    assert slack.state.messages_in("C1") == []


async def test_views_open_needs_a_fresh_unused_trigger(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    trigger = slack.issue_trigger_id("U1")
    opened = await client.views_open(trigger_id=trigger, view=modal())
    assert opened["view"]["id"].startswith("V") and opened["view"]["hash"]
    top = slack.state.top_view("U1")
    assert top is not None and top.title == "Buy numbers"

    assert await api_error(client.views_open(trigger_id=trigger, view=modal())) == (
        "exchanged_trigger_id"
    )
    assert await api_error(client.views_open(trigger_id="1.2.nope", view=modal())) == (
        "invalid_trigger_id"
    )
    stale = slack.issue_trigger_id("U1")
    slack.advance_clock(3.5)
    assert await api_error(client.views_open(trigger_id=stale, view=modal())) == (
        "expired_trigger_id"
    )


async def test_views_are_validated(slack: FakeSlack, client: AsyncWebClient) -> None:
    long_title = modal(title="A title much longer than Slack allows")
    call = client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=long_title)
    assert await api_error(call) == "invalid_arguments"
    too_many = {**modal(), "blocks": [section(str(i)) for i in range(101)]}
    call = client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=too_many)
    assert await api_error(call) == "invalid_arguments"
    untyped = {k: v for k, v in modal().items() if k != "type"}
    call = client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=untyped)
    assert await api_error(call) == "invalid_arguments"


async def test_views_update_checks_hash_and_keeps_typed_values(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.views_open(
        trigger_id=slack.issue_trigger_id("U1"), view=modal(external_id="buy-1")
    )
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    top = slack.state.top_view("U1")
    assert top is not None
    slack.set_value(top, "qty", "qty_input", {"type": "plain_text_input", "value": "3"})

    step2 = modal("Step 2", external_id="buy-1")
    updated = await client.views_update(view_id=view_id, hash=first_hash, view=step2)
    assert updated["view"]["hash"] != first_hash
    assert updated["view"]["state"]["values"]["qty"]["qty_input"]["value"] == "3"
    stale = client.views_update(view_id=view_id, hash=first_hash, view=modal())
    assert await api_error(stale) == "hash_conflict"
    by_external = await client.views_update(external_id="buy-1", view=modal("Step 3"))
    assert by_external["view"]["id"] == view_id
    assert await api_error(client.views_update(view_id="V404", view=modal())) == "not_found"


async def test_views_push_stacks_and_publish_is_per_user(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=modal())
    pushed = await client.views_push(trigger_id=slack.issue_trigger_id("U1"), view=modal("More"))
    stack = slack.state.view_stacks["U1"]
    assert [v.title for v in stack] == ["Buy numbers", "More"]
    assert pushed["view"]["previous_view_id"] == stack[0].id

    home = {"type": "home", "blocks": [section("Your numbers")]}
    first = await client.views_publish(user_id="U2", view=home)
    again = await client.views_publish(user_id="U2", view=home, hash=first["view"]["hash"])
    assert again["view"]["id"] == first["view"]["id"]
    assert slack.state.home("U2") is not None and slack.state.home("U1") is None
    stale = client.views_publish(user_id="U2", view=home, hash=first["view"]["hash"])
    assert await api_error(stale) == "hash_conflict"


async def test_users_and_groups(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_usergroup("S1", ["U1", "U2"])
    info = await client.users_info(user="U1")
    assert info["user"]["is_admin"] is True and info["user"]["name"] == "ada"
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    assert await api_error(client.users_info(user="U404")) == "user_not_found"
    assert await api_error(client.usergroups_users_list(usergroup="S404")) == "no_such_subteam"


async def test_form_encoded_bodies_are_accepted(slack: FakeSlack) -> None:
    form = {
        "token": "xoxb-test",
        "channel": "C1",
        "text": "from a form",
        "blocks": json.dumps([section("form")]),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(slack.api_url + "chat.postMessage", data=form) as response,
    ):
        body = await response.json()
    assert body["ok"] is True
    message = slack.state.latest("C1")
    assert message is not None and message.blocks[0]["text"]["text"] == "form"
    assert slack.state.calls[-1].args["channel"] == "C1"  # the token is not logged


async def test_injected_failure_answers_once_then_recovers(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C1", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"] is True
    assert [c.status for c in slack.state.calls_to("chat.postMessage")] == [429, 200]


async def test_unknown_method_is_recorded(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert await api_error(client.api_call("pins.add")) == "unknown_method"
    assert slack.state.calls[-1].method == "pins.add"


async def test_response_url_replies(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C1", text="card")
    source = slack.state.find_message(posted["ts"])
    url = slack.issue_response_url("C1", "U1", source=source)
    async with aiohttp.ClientSession() as session:
        for payload in (
            {"text": "just you"},
            {"text": "everyone", "response_type": "in_channel"},
            {"text": "card, done", "replace_original": True},
        ):
            async with session.post(url, json=payload) as response:
                assert (response.status, await response.text()) == (200, "ok")
        assert [m.text for m in slack.state.ephemerals_for("C1", "U1")] == ["just you"]
        assert [m.text for m in slack.state.messages_in("C1")] == ["card, done", "everyone"]
        for _ in range(2):  # Slack allows five uses
            async with session.post(url, json={"text": "again"}) as response:
                assert response.status == 200
        async with session.post(url, json={"text": "sixth"}) as response:
            assert (response.status, await response.text()) == (404, "used_url")


async def test_wait_for_wakes_on_change_and_times_out(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    task = asyncio.create_task(client.chat_postMessage(channel="C1", text="later"))
    state = await slack.wait_for(lambda s: s.latest("C1") is not None)
    assert isinstance(state, SlackState)
    await task
    with pytest.raises(TimeoutError, match=r"chat\.postMessage"):
        await slack.wait_for(lambda s: False, timeout=0.05)


# ---- the driver, against a real bolt app over HTTP ------------------------------------------


@dataclass
class AppSide:
    """What the tiny bolt app under test saw."""

    url: str
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    retry_headers: list[str] = field(default_factory=list)
    home_opened: asyncio.Event = field(default_factory=asyncio.Event)
    submitted: list[Json] = field(default_factory=list)  # survey state.values
    typed: list[str] = field(default_factory=list)  # dispatched area codes


CARD_BLOCKS = [
    section("Purchase request *#1*: 2 numbers"),
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            button(":white_check_mark: Approve", "approve", "req-1"),
            button("Reject", "reject", "req-1"),
            {
                "type": "overflow",
                "action_id": "more",
                "options": [option("Details", "details"), option("Retry", "retry")],
            },
        ],
    },
]


def kind_modal(kind: str | None = None) -> Json:
    view = modal()
    view["notify_on_close"] = True
    view["private_metadata"] = json.dumps({"channel": "C1"})
    view["blocks"] = [
        {
            "type": "section",
            "block_id": "kind",
            "text": {"type": "mrkdwn", "text": f"Kind: {kind or 'none'}"},
            "accessory": {
                "type": "static_select",
                "action_id": "pick_kind",
                "placeholder": {"type": "plain_text", "text": "Kind"},
                "options": [option("Local", "local"), option("Toll-free", "tollfree")],
            },
        },
        *view["blocks"],
    ]
    return view


def build_app(slack: FakeSlack, side: AppSide) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(base_url=slack.api_url, token="xoxb-test"),
        signing_secret=SECRET,
    )

    @app.command("/numbers")
    async def numbers(
        ack: AsyncAck, body: Json, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        text = body["text"]
        if text == "hello":
            await ack(f"Hi <@{body['user_id']}>")
            return
        await ack()
        if text == "card":
            await client.chat_postMessage(
                channel=body["channel_id"], text="card", blocks=CARD_BLOCKS
            )
        elif text == "ephemeral":
            await respond(blocks=CARD_BLOCKS, text="card")
        else:
            if text == "slow":
                await side.gate.wait()  # the test moves Slack's clock meanwhile
            await client.views_open(trigger_id=body["trigger_id"], view=kind_modal())

    @app.action("approve")
    async def approve(
        ack: AsyncAck, body: Json, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        done = [section(f"Approved by <@{body['user']['id']}>")]
        if body["container"]["is_ephemeral"]:
            await respond(replace_original=True, text="approved", blocks=done)
        else:
            channel, ts = body["channel"]["id"], body["message"]["ts"]
            await client.chat_update(channel=channel, ts=ts, text="approved", blocks=done)

    @app.action("more")
    async def more(ack: AsyncAck, body: Json, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=f"you chose {body['actions'][0]['selected_option']['value']}")

    @app.action("pick_kind")
    async def pick_kind(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        picked = body["actions"][0]["selected_option"]["text"]["text"]
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view["hash"], view=kind_modal(picked))

    @app.view("buy")
    async def buy(ack: AsyncAck, view: Json, client: AsyncWebClient) -> None:
        quantity = view["state"]["values"]["qty"]["qty_input"]["value"] or ""
        if quantity == "late":  # answered only once the test lets go: after Slack gave up
            await side.gate.wait()
            late = {**kind_modal(), "title": {"type": "plain_text", "text": "Late"}}
            await ack(response_action="update", view=late)
            return
        if not quantity.isdigit():
            await ack(response_action="errors", errors={"qty": "Enter a number, like 2"})
            return
        await ack()
        channel = json.loads(view["private_metadata"])["channel"]
        await client.chat_postMessage(channel=channel, text=f"Buying {quantity} numbers")

    @app.view_closed("buy")
    async def buy_closed(ack: AsyncAck) -> None:
        await ack()
        side.closed.set()

    @app.action("buy")
    async def buy_from_home(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=kind_modal())

    @app.action("area")
    async def area_typed(ack: AsyncAck, body: Json) -> None:
        await ack()
        side.typed.append(body["actions"][0]["value"])

    @app.view("survey")
    async def survey(ack: AsyncAck, view: Json) -> None:
        await ack()
        side.submitted.append(view["state"]["values"])

    @app.event("app_home_opened")
    async def home(event: Json, client: AsyncWebClient, request: Any) -> None:
        side.retry_headers.extend(request.headers.get("x-slack-retry-num", []))
        blocks = [section("Your numbers"), {"type": "actions", "elements": [button("Buy", "buy")]}]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})
        side.home_opened.set()

    return app


@pytest.fixture
async def side(slack: FakeSlack) -> AsyncIterator[AppSide]:
    holder = AppSide(url="")
    runner = web.AppRunner(build_app(slack, holder).web_app(path="/slack/events"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    holder.url = f"http://{host}:{port}/slack/events"
    yield holder
    holder.gate.set()
    await runner.cleanup()


@pytest.fixture
async def driver(slack: FakeSlack, side: AppSide) -> AsyncIterator[SlackDriver]:
    async with SlackDriver(slack, side.url, SECRET) as person:
        yield person


async def test_slash_command_ack_text_becomes_an_ephemeral(
    slack: FakeSlack, driver: SlackDriver
) -> None:
    result = await driver.slash("U1", "#general", text="hello")
    assert result.status == 200
    assert [m.text for m in slack.state.ephemerals_for("C1", "U1")] == ["Hi <@U1>"]
    assert slack.state.visible("U2") == []


async def test_modal_round_trip_errors_then_success(slack: FakeSlack, driver: SlackDriver) -> None:
    await driver.slash("U1", "C1")
    await slack.wait_for(lambda s: s.top_view("U1") is not None)

    await driver.click("U1", "Toll-free")  # a select in the modal: the app updates the view
    view = (await slack.wait_for(top_view_shows("U1", "Kind: Toll-free"))).top_view("U1")
    assert (
        view is not None
        and view.state["kind"]["pick_kind"]["selected_option"]["value"] == "tollfree"
    )

    await driver.fill("U1", "Quantity", "two")
    rejected = await driver.submit("U1")
    assert rejected.outcome == "errors" and rejected.errors == {"qty": "Enter a number, like 2"}
    assert rejected.view is view
    assert "Quantity: two\n  ! Enter a number, like 2" in render_surface(view)

    await driver.fill("U1", "Quantity", "2")
    accepted = await driver.submit("U1")
    assert accepted.outcome == "closed" and accepted.view is None
    await slack.wait_for(lambda s: any(m.text == "Buying 2 numbers" for m in s.messages_in("C1")))


async def test_click_updates_the_message(slack: FakeSlack, driver: SlackDriver) -> None:
    await driver.slash("U1", "C1", text="card")
    await slack.wait_for(lambda s: s.latest("C1") is not None)
    result = await driver.click("U2", "Approve", channel="C1")
    assert result is not None and result.status == 200
    await slack.wait_for(lambda s: latest_text(s, "C1") == "approved")
    message = slack.state.latest("C1")
    assert message is not None and message.history[0].text == "card"
    assert render_surface(message, names={"U2": "bob"}) == "Approved by @bob"
    posted = slack.state.calls_to("chat.update")[0]
    assert posted.ok and posted.args["ts"] == message.ts


async def test_overflow_and_ephemeral_replies(slack: FakeSlack, driver: SlackDriver) -> None:
    await driver.slash("U1", "C1", text="ephemeral")
    await slack.wait_for(lambda s: bool(s.ephemerals_for("C1", "U1")))
    with pytest.raises(DriverError, match="Approve"):
        await driver.click("U2", "Approve", channel="C1")  # bob does not see it
    await driver.click("U1", "Retry")
    await slack.wait_for(lambda s: len(s.ephemerals_for("C1", "U1")) == 2)
    assert slack.state.ephemerals_for("C1", "U1")[-1].text == "you chose retry"
    card = slack.state.ephemerals_for("C1", "U1")[0]
    await driver.click("U1", "Approve", message_ts=card.ts)
    await slack.wait_for(lambda s: card.text == "approved")
    assert "Approved by" in render_surface(card)


async def test_unknown_label_lists_what_is_there(slack: FakeSlack, driver: SlackDriver) -> None:
    await driver.slash("U1", "C1", text="card")
    await slack.wait_for(lambda s: s.latest("C1") is not None)
    with pytest.raises(DriverError) as caught:
        await driver.click("U1", "Cancel", channel="C1")
    assert ":white_check_mark: Approve" in str(caught.value) and "Details" in str(caught.value)


async def test_forged_stale_or_missing_signature_gets_401(
    slack: FakeSlack, driver: SlackDriver
) -> None:
    body = b"command=%2Fnumbers&text=hello&user_id=U1&channel_id=C1&team_id=T0NUMBERS"
    assert (await driver.post_signed(body, secret="not-the-secret")).status == 401
    assert (await driver.post_signed(body, timestamp=1_000_000_000)).status == 401
    assert (await driver.post_signed(body, signature="")).status == 401
    assert (await driver.post_signed(body, signature="v0=" + "0" * 64)).status == 401
    assert slack.state.calls == [] and slack.state.visible("U1") == []


async def test_signature_matches_slack_documentation_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" page.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


async def test_expired_trigger_id_fails_the_app_views_open(
    slack: FakeSlack, side: AppSide, driver: SlackDriver
) -> None:
    assert (await driver.slash("U1", "C1", text="slow")).status == 200
    slack.advance_clock(3.5)
    side.gate.set()
    state = await slack.wait_for(lambda s: bool(s.calls_to("views.open")))
    assert state.calls_to("views.open")[0].error == "expired_trigger_id"
    assert state.top_view("U1") is None


async def test_close_notifies_the_app(slack: FakeSlack, side: AppSide, driver: SlackDriver) -> None:
    await driver.slash("U1", "C1")
    await slack.wait_for(lambda s: s.top_view("U1") is not None)
    result = await driver.close("U1")
    assert result is not None and result.status == 200
    await asyncio.wait_for(side.closed.wait(), 5)
    assert slack.state.top_view("U1") is None


async def test_home_tab_event_with_retry_headers(
    slack: FakeSlack, side: AppSide, driver: SlackDriver
) -> None:
    assert (await driver.app_home_opened("U2")).status == 200
    await asyncio.wait_for(side.home_opened.wait(), 5)
    home = slack.state.home("U2")
    assert home is not None and "[ Buy ]" in render_surface(home)
    envelope = driver.event_envelope({"type": "app_home_opened", "user": "U2", "tab": "home"})
    assert (await driver.send_event(envelope, retry_num=1)).status == 200
    await slack.wait_for(lambda s: len(s.calls_to("views.publish")) == 2)
    assert side.retry_headers == ["1"]


# ---- rendering ---------------------------------------------------------------------------------


def test_render_blocks_as_text() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Numbers"}},
        section(
            "Hello <@U1> &amp; <https://x.test|docs>", fields=[{"type": "mrkdwn", "text": "*A*"}]
        ),
        {"type": "divider"},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "one"}, {"type": "plain_text", "text": "two"}],
        },
        {
            "type": "actions",
            "block_id": "act",
            "elements": [
                button("Approve", "approve"),
                {
                    "type": "static_select",
                    "action_id": "kind",
                    "placeholder": {"type": "plain_text", "text": "Kind"},
                    "options": [option("Local", "local"), option("Toll-free", "tf")],
                },
            ],
        },
        {
            "type": "input",
            "block_id": "qty",
            "label": {"type": "plain_text", "text": "Quantity"},
            "element": {"type": "plain_text_input", "action_id": "q"},
        },
        {
            "type": "input",
            "block_id": "opts",
            "label": {"type": "plain_text", "text": "Options"},
            "element": {
                "type": "checkboxes",
                "action_id": "c",
                "options": [option("SMS", "sms"), option("Fax", "fax")],
                "initial_options": [option("Fax", "fax")],
            },
        },
    ]
    values = {
        "act": {"kind": {"type": "static_select", "selected_option": option("Local", "local")}}
    }
    assert render_blocks(
        blocks, values=values, errors={"qty": "Required"}, names={"U1": "ada"}
    ) == (
        "# Numbers\n"
        "Hello @ada & docs (https://x.test)\n"
        "  *A*\n" + "-" * 40 + "\n"
        "  one · two\n"
        "[ Approve ]  <Kind: Local | Toll-free> = Local\n"
        "Quantity: ____\n"
        "  ! Required\n"
        "Options: [ ] SMS  [x] Fax"
    )


def test_mrkdwn_to_plain_handles_special_mentions() -> None:
    assert mrkdwn_to_plain("<!here> see <#C1|general> &lt;b&gt;") == "@here see #general <b>"


def survey_modal() -> Json:
    def field(block_id: str, label: str, element: Json, **extra: Any) -> Json:
        text = {"type": "plain_text", "text": label}
        return {"type": "input", "block_id": block_id, "label": text, "element": element, **extra}

    kinds = [option("Local", "local"), option("Toll-free", "tollfree")]
    return {
        "type": "modal",
        "callback_id": "survey",
        "title": {"type": "plain_text", "text": "Survey"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            field("kind", "Kind", {"type": "static_select", "action_id": "k", "options": kinds}),
            field(
                "features",
                "Features",
                {
                    "type": "checkboxes",
                    "action_id": "f",
                    "options": [option("SMS", "sms"), option("Fax", "fax"), option("MMS", "mms")],
                },
            ),
            field("owner", "Owner", {"type": "users_select", "action_id": "o"}),
            field(
                "plan",
                "Plan",
                {
                    "type": "radio_buttons",
                    "action_id": "p",
                    "options": [option("Basic", "basic"), option("Pro", "pro")],
                },
            ),
            field(
                "area",
                "Area code",
                {"type": "plain_text_input", "action_id": "area"},
                dispatch_action=True,
            ),
        ],
    }


async def test_fill_every_kind_of_input_and_submit(
    slack: FakeSlack, side: AppSide, driver: SlackDriver, client: AsyncWebClient
) -> None:
    await client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=survey_modal())
    assert await driver.fill("U1", "Kind", "Toll-free") is None  # no dispatch_action: silent
    assert await driver.check("U1", ["SMS", "Fax"], field="Features") is None
    await driver.fill("U1", "Owner", "@bob")
    await driver.select("U1", "Pro")
    typed = await driver.fill("U1", "Area code", "415")  # dispatch_action: Slack tells the app
    assert typed is not None and typed.status == 200
    view = slack.state.top_view("U1")
    assert view is not None
    assert render_surface(view, names={"U2": "bob"}) == (
        "=== Survey ===\n"
        "<Kind: Local | Toll-free> = Toll-free\n"
        "Features: [x] SMS  [x] Fax  [ ] MMS\n"
        "Owner: bob\n"
        "Plan: ( ) Basic  (o) Pro\n"
        "Area code: 415\n"
        "[ Cancel ]  [ Send ]"
    )
    with pytest.raises(DriverError, match="Premium"):
        await driver.fill("U1", "Kind", "Premium")

    assert (await driver.submit("U1")).outcome == "closed"
    await slack.wait_for(lambda s: bool(side.submitted))
    values = side.submitted[0]
    assert values["kind"]["k"]["selected_option"]["value"] == "tollfree"
    assert [o["value"] for o in values["features"]["f"]["selected_options"]] == ["sms", "fax"]
    assert values["owner"]["o"]["selected_user"] == "U2"
    assert values["plan"]["p"]["selected_option"]["value"] == "pro"
    assert values["area"]["area"]["value"] == "415"
    assert side.typed == ["415"]


async def test_click_in_home_tab_opens_a_modal(slack: FakeSlack, driver: SlackDriver) -> None:
    await driver.app_home_opened("U2")
    await slack.wait_for(lambda s: s.home("U2") is not None)
    await driver.click("U2", "Buy", view="home")
    top = (await slack.wait_for(lambda s: s.top_view("U2") is not None)).top_view("U2")
    assert top is not None and top.title == "Buy numbers"


async def test_submission_response_actions(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=slack.issue_trigger_id("U1"), view=modal())
    first = opened["view"]["id"]
    push = {"response_action": "push", "view": modal("B")}
    assert slack.apply_view_response("U1", first, push) == "pushed"
    second = slack.state.view_stacks["U1"][-1].id
    update = {"response_action": "update", "view": modal("C")}
    assert slack.apply_view_response("U1", second, update) == "updated"
    assert [v.title for v in slack.state.view_stacks["U1"]] == ["Buy numbers", "C"]
    with pytest.raises(SlackError, match="invalid_arguments"):
        slack.apply_view_response("U1", second, {"response_action": "errors", "errors": {"x": "?"}})
    assert slack.apply_view_response("U1", second, None) == "closed"
    assert [v.id for v in slack.state.view_stacks["U1"]] == [first]
    assert slack.apply_view_response("U1", first, {"response_action": "clear"}) == "cleared"
    assert slack.state.top_view("U1") is None
    closed = client.views_update(view_id=first, view=modal())
    assert await api_error(closed) == "not_found"


async def test_a_submission_answered_after_the_ack_timeout_fails_and_is_not_applied(
    slack: FakeSlack, driver: SlackDriver, side: AppSide
) -> None:
    """Slack waits 3 s for the answer to a view submission; then it shows the person "We
    had some trouble connecting", and an answer coming later changes nothing on screen."""
    await driver.slash("U1", "C1")
    view = (await slack.wait_for(lambda s: s.top_view("U1") is not None)).top_view("U1")
    await driver.fill("U1", "Quantity", "late")
    driver.ack_timeout = 0.2  # a shorter stand-in for Slack's 3 seconds; nothing is timed
    result = await driver.submit("U1")
    assert result.outcome == "failed" and result.problem == "timed out"
    assert result.http.timed_out and slack.state.top_view("U1") is view
    side.gate.set()  # the app answers now: too late, the modal stays as it was
    assert slack.state.top_view("U1") is view and view.title != "Late"
