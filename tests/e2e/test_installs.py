"""Workspace installs (OAuth), end to end over HTTP on localhost: the install page, Slack's
redirect with a valid, a forged and a replayed `state`, the stand-in's `oauth.v2.access`,
then requests of each workspace served with that workspace's own token, and data of one
workspace never seen from another."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.app import BOT_SCOPES, build_app, close_app, worker_for
from bot.bootstrap import start
from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack
from bot.domain.phone import format_national
from bot.domain.records import NumberFilter
from bot.server import start_http
from bot.service.context import Actor
from tests.conftest import FakeClock, make_settings
from tests.e2e.conftest import Harness, e164_of, result_labels, says, text_of
from tests.e2e.manage_helpers import latest_list, rows

SECRET = "installs-signing-secret"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "installs-client-secret"
COOKIE = "slack-app-oauth-state"
KEY = Fernet.generate_key().decode()

ALPHA, BETA = "T0ALPHA", "T0BETA"
ALICE, DAVE = "UALICE", "UDAVE"  # Alpha's admin and a member
BRUNO, ERIN = "UBRUNO", "UERIN"  # Beta's admin and a member
C_ALPHA, C_BETA = "CALPHA", "CBETA"


@dataclass
class Installs:
    """The bot in workspace-installs mode, a browser, and Slack with two workspaces."""

    bot: Harness
    browser: aiohttp.ClientSession

    @property
    def slack(self) -> FakeSlack:
        return self.bot.slack

    @property
    def url(self) -> str:
        return self.bot.server.url

    async def install_page(self) -> tuple[str, str]:
        """GET /slack/install: Slack's authorize URL on the page, and the state cookie."""
        async with self.browser.get(self.url + "/slack/install") as page:
            assert page.status == 200, await page.text()
            body = await page.text()
            cookie = page.cookies[COOKIE].value
        found = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', body)
        assert found, body
        return html.unescape(found.group(1)), cookie

    async def redirect(self, query: dict[str, str], cookie: str | None) -> tuple[int, str]:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        async with self.browser.get(
            self.url + "/slack/oauth_redirect", params=query, headers=headers
        ) as page:
            return page.status, await page.text()

    async def install(self, team: str, user: str) -> tuple[int, str]:
        url, cookie = await self.install_page()
        return await self.redirect(self.slack.authorize(url, team_id=team, user_id=user), cookie)

    def token_of(self, team: str) -> str:
        token = self.slack.workspaces[team].bot_token
        assert token, f"{team} is not installed"
        return token

    async def sealed_rows(self) -> list[tuple[str, str]]:
        async with self.bot.runtime.engine.connect() as conn:
            found = await conn.execute(text("select team_id, bot_token from slack_installations"))
            return [(str(team), str(sealed)) for team, sealed in found]


@pytest.fixture
async def installs(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Installs]:
    slack = await FakeSlack(bot_token="xoxb-unused").start()
    slack.register_app(CLIENT_ID, CLIENT_SECRET)
    slack.add_workspace(ALPHA, "alpha", team_name="Alpha & Co")
    slack.add_workspace(BETA, "beta", team_name="Beta")
    # No admins configured: each workspace's own admins and owners are its numbers admins.
    slack.add_user(ALICE, "alice", is_admin=True, team_id=ALPHA)
    slack.add_user(DAVE, "dave", team_id=ALPHA)
    slack.add_user(BRUNO, "bruno", is_admin=True, team_id=BETA)
    slack.add_user(ERIN, "erin", team_id=BETA)
    slack.add_channel(C_ALPHA, "numbers")
    slack.add_channel(C_BETA, "numbers-beta")
    settings = make_settings(
        tmp_path,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        state_secret="installs-state-secret-0123456789",
        token_key=KEY,
        approvals={"mode": "never"},
        approvers=[],
    )
    runtime = await start(settings, clock=clock)
    app = build_app(runtime)
    server = await start_http(app)
    driver = SlackDriver(slack, server.events_url, SECRET)
    # A browser that keeps no cookies of its own: each test hands the state cookie over.
    browser = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    bot = Harness(slack, driver, runtime, server, worker_for(app), clock, app)
    yield Installs(bot, browser)
    await browser.close()
    await driver.aclose()
    await server.stop()
    await close_app(app)
    await runtime.close()
    await slack.stop()


async def test_install_then_a_command_is_served_with_the_new_workspace_token(
    installs: Installs,
) -> None:
    url, cookie = await installs.install_page()
    asked = parse_qs(urlsplit(url).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["scope"] == [",".join(BOT_SCOPES)]
    assert asked["state"][0] and "." in asked["state"][0]

    query = installs.slack.authorize(url, team_id=ALPHA, user_id=ALICE)
    status, page = await installs.redirect(query, cookie)
    assert status == 200, page
    assert "numbers-bot is installed in Alpha &amp; Co" in page
    [exchange] = installs.slack.state.calls_to("oauth.v2.access")
    assert exchange.ok and "client_secret" not in exchange.args
    token = installs.token_of(ALPHA)

    # The token is kept sealed: the database never holds it in clear.
    [(team, sealed)] = await installs.sealed_rows()
    assert team == ALPHA and token not in sealed
    assert Fernet(KEY).decrypt(sealed.encode()).decode() == token

    # A signed slash command of Alpha: every Web API call it makes uses Alpha's token.
    bot = installs.bot
    before = len(installs.slack.state.calls)
    modal = await bot.open_buy(ALICE, channel=C_ALPHA)
    assert modal.title == "Buy Numbers"
    made = installs.slack.state.calls[before:]
    assert {c.method for c in made} >= {"views.open", "users.info"}
    assert {c.token for c in made} == {token}


async def test_forged_replayed_expired_and_foreign_states_are_refused_with_a_page(
    installs: Installs,
) -> None:
    slack = installs.slack
    url, cookie = await installs.install_page()
    query = slack.authorize(url, team_id=ALPHA, user_id=ALICE)

    # Forged: a state we never issued (with a cookie to match, as an attacker would send).
    forged = {**query, "state": "forged.state"}
    status, page = await installs.redirect(forged, "forged.state")
    assert status == 401
    assert "This install link has expired or was already used" in page
    assert 'href="/slack/install"' in page
    # Another browser: the state is good, but this browser did not start the install.
    status, page = await installs.redirect(query, None)
    assert status == 400 and "started in another browser" in page
    assert slack.state.calls_to("oauth.v2.access") == []
    assert await installs.sealed_rows() == []

    # The real one works once ...
    status, page = await installs.redirect(query, cookie)
    assert status == 200 and "numbers-bot is installed" in page
    # ... and replayed, it is refused before Slack is asked again.
    status, page = await installs.redirect(query, cookie)
    assert status == 401 and "expired or was already used" in page
    assert len(slack.state.calls_to("oauth.v2.access")) == 1

    # Expired: ten minutes to come back.
    url, cookie = await installs.install_page()
    late = slack.authorize(url, team_id=BETA, user_id=BRUNO)
    installs.bot.clock.advance(minutes=11)
    status, page = await installs.redirect(late, cookie)
    assert status == 401 and "expired" in page
    # Cancelled on Slack's page: said so, nothing installed.
    status, page = await installs.redirect({"error": "access_denied", "state": "x"}, cookie)
    assert status == 200 and "cancelled" in page
    # Slack's own error, echoed escaped.
    status, page = await installs.redirect({"error": "<b>odd</b>", "state": "x"}, cookie)
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd" not in page
    assert [team for team, _ in await installs.sealed_rows()] == [ALPHA]


async def _buy(bot: Harness, user: str, channel: str, area: str, count: int) -> list[str]:
    """Buy Numbers, through the modal and the card, as the person would."""
    await bot.open_buy(user, channel=channel)
    modal = await bot.search(area, user)
    picked = result_labels(modal)[:count]
    await bot.driver.check(user, picked)
    await bot.submit_and_wait_card(user, channel)
    await bot.click_and_wait(user, "Accept", says(channel, "Bought"), channel=channel)
    return sorted(e164_of(label) for label in picked)


async def _say(bot: Harness, user: str, channel: str, words: str) -> str:
    before = len(bot.state.ephemerals_for(channel, user))
    await bot.driver.slash(user, channel, text=words)
    await bot.until(lambda s: len(s.ephemerals_for(channel, user)) > before)
    await bot.settle()
    return text_of(bot.state.ephemerals_for(channel, user)[-1])


async def test_two_workspaces_each_see_only_their_own_numbers_and_accounts(
    installs: Installs,
) -> None:
    assert (await installs.install(ALPHA, ALICE))[0] == 200
    assert (await installs.install(BETA, BRUNO))[0] == 200
    bot, slack = installs.bot, installs.slack
    alpha_token, beta_token = installs.token_of(ALPHA), installs.token_of(BETA)
    assert alpha_token != beta_token

    alpha_numbers = await _buy(bot, ALICE, C_ALPHA, "415", 2)
    beta_numbers = await _buy(bot, BRUNO, C_BETA, "212", 1)
    assert "Sales" in await _say(bot, ALICE, C_ALPHA, "account create Sales")

    # Each workspace's list shows its own numbers, and only those.
    await _say(bot, ALICE, C_ALPHA, "list")
    assert rows(latest_list(bot, ALICE, C_ALPHA)) == alpha_numbers
    await _say(bot, BRUNO, C_BETA, "list")
    assert rows(latest_list(bot, BRUNO, C_BETA)) == beta_numbers

    # Accounts: Beta has its own Main, and never sees Alpha's Sales.
    beta_accounts = await _say(bot, BRUNO, C_BETA, "account list")
    assert "Main" in beta_accounts and "Sales" not in beta_accounts
    assert "Sales" in await _say(bot, ALICE, C_ALPHA, "account list")

    # Beta's admin cannot reach Alpha's number, by any command.
    alpha_one = alpha_numbers[0]
    refusals = {
        f"assign {alpha_one} main": "is not a number of this channel's account",
        f"history {alpha_one}": "has no history in this workspace",
        f"release {alpha_one}": "is not a number of the account Main",
    }
    for words, refusal in refusals.items():
        said = await _say(bot, BRUNO, C_BETA, words)
        assert refusal in said, said
    await _say(bot, ALICE, C_ALPHA, "list")
    assert rows(latest_list(bot, ALICE, C_ALPHA)) == alpha_numbers  # untouched
    # Alpha's admin assigns it to Dave, who is told, with Alpha's token.
    before = len(slack.state.calls)
    said = await _say(bot, ALICE, C_ALPHA, f"assign {alpha_one} @dave")
    assert format_national(alpha_one) in said
    await bot.until(lambda s: bool(s.messages_in(slack.dm_channel(DAVE).id)))

    # Every Web API call the bot made for a workspace used that workspace's token.
    for call in slack.state.calls[before:]:
        if call.method != "response_url":
            assert call.token == alpha_token, call
    for call in slack.state.calls:
        channel = str(call.args.get("channel") or "")
        if channel == C_ALPHA:
            assert call.token == alpha_token, call
        if channel == C_BETA:
            assert call.token == beta_token, call
    # And the services keep the data apart too.
    beta_view = await bot.runtime.services.numbers.list_numbers(
        Actor(BRUNO, BETA, True, True, C_BETA), NumberFilter(), limit=50
    )
    assert sorted(n.e164 for n in beta_view.rows) == beta_numbers


def _event(team: str, event: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "token": "verification",
            "team_id": team,
            "api_app_id": "A0NUMBERS",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{team}{event['type']}",
            "event_time": 1,
            "authorizations": [{"enterprise_id": None, "team_id": team, "is_bot": True}],
        }
    ).encode()


async def test_uninstall_and_revoked_tokens_delete_the_workspace_tokens(
    installs: Installs,
) -> None:
    await installs.install(ALPHA, ALICE)
    await installs.install(BETA, BRUNO)
    bot, slack = installs.bot, installs.slack
    await _buy(bot, ALICE, C_ALPHA, "415", 1)  # Alpha is served
    await _buy(bot, BRUNO, C_BETA, "212", 1)

    slack.uninstall(ALPHA)
    result = await bot.driver.post_signed(
        _event(ALPHA, {"type": "app_uninstalled", "event_ts": "1.0"}), "application/json"
    )
    assert result.status == 200
    await bot.settle()
    assert [team for team, _ in await installs.sealed_rows()] == [BETA]

    # The worker's pass still tells Beta its numbers are active; Alpha is just skipped.
    bot.clock.advance(minutes=2)
    before = len(slack.state.calls)
    tick = await bot.worker.run_once()
    assert len(tick.activated) == 2
    assert "it is active now" in text_of(bot.card(C_BETA))  # one number: "it"
    sent = [c for c in slack.state.calls[before:] if c.method != "response_url"]
    assert {c.token for c in sent if c.ok} == {installs.token_of(BETA)}
    assert {c.error for c in sent if not c.ok} <= {"not_authed"}

    result = await bot.driver.post_signed(
        _event(BETA, {"type": "tokens_revoked", "tokens": {"bot": ["U0BOTBETA"]}}),
        "application/json",
    )
    assert result.status == 200
    await bot.settle()
    assert await installs.sealed_rows() == []

    # A command from the uninstalled workspace reaches no listener and makes no call.
    before = len(slack.state.calls)
    answer = await bot.driver.slash(ALICE, C_ALPHA, text="buy")
    assert answer.status == 200
    await bot.until(lambda s: bool(s.ephemerals_for(C_ALPHA, ALICE)))
    told = bot.state.ephemerals_for(C_ALPHA, ALICE)[-1].text
    assert told.startswith("numbers-bot is not installed in this workspace any more.")
    assert [c.method for c in slack.state.calls[before:]] == ["response_url"]
