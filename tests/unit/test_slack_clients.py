"""Which token the bot uses for a workspace when it speaks on its own (cards, roles)."""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.slack_clients import SlackClients


class Bots:
    """An installation store holding bots by team (only what `SlackClients` reads)."""

    def __init__(self, **tokens: str) -> None:
        self.tokens = tokens
        self.reads = 0

    async def async_find_bot(self, *, enterprise_id: Any, team_id: str, **_: Any) -> Bot | None:
        self.reads += 1
        token = self.tokens.get(team_id)
        if token is None:
            return None
        return Bot(bot_token=token, bot_id="B1", bot_user_id="U1", installed_at=0.0)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


BASE = AsyncWebClient(token=None, base_url="http://127.0.0.1:1/api/")


async def test_one_bot_token_is_the_one_client() -> None:
    single = AsyncWebClient(token="xoxb-one")
    assert await SlackClients(single).of("T1") is single


async def test_each_workspace_gets_its_own_token_kept_a_short_while() -> None:
    bots, clock = Bots(T1="xoxb-1", T2="xoxb-2"), Clock()
    clients = SlackClients(BASE, bots, ttl=30, clock=clock)  # type: ignore[arg-type]
    one, two = await clients.of("T1"), await clients.of("T2")
    assert (one.token, two.token) == ("xoxb-1", "xoxb-2")
    assert one.base_url == BASE.base_url
    await clients.of("T1")
    assert bots.reads == 2  # cached
    bots.tokens["T1"] = "xoxb-1-new"  # re-installed on another replica
    clock.now = 31
    assert (await clients.of("T1")).token == "xoxb-1-new"


async def test_an_uninstalled_workspace_gets_no_token_and_is_forgotten_at_once() -> None:
    bots = Bots(T1="xoxb-1")
    clients = SlackClients(BASE, bots)  # type: ignore[arg-type]
    assert (await clients.of("T1")).token == "xoxb-1"
    del bots.tokens["T1"]
    clients.forget("T1")
    assert (await clients.of("T1")).token is None
    assert (await clients.of("T9")).token is None
