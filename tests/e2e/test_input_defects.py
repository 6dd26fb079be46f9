"""Issue 6, items 7, 14 and 15: what people type, and who may type it."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.states import RequestState
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, BotFactory, Harness, e164_of, result_labels, text_of

GUEST = "UGUEST"  # an admin of another organization, in a Slack Connect channel
OTHER_TEAM = "TOTHERORG"
REFUSED = "Slack Connect"  # the refusal names why

# What people paste: markup Slack would escape, entities, emoji, newlines, digits.
_PIECES = ["<", ">", "&", "&amp;", "<!channel>", "<@U1|x>", "🙂", "👩‍💻", "\n", " "]
_PIECES += ["415", "(415)", "555-0123", "buy", "search", "local", "for", "x", "é", "*_~`"]
_VERBS = ["", "buy ", "search ", "search local ", "buy tollfree ", "spare ", "requests ", "zap "]


def _random_texts(count: int) -> list[str]:
    rng = random.Random(6_7)  # the same texts on every run
    texts = []
    for _ in range(count):
        size = rng.choice([rng.randint(1, 40), rng.randint(900, 1100), rng.randint(3000, 4000)])
        body = ""
        while len(body) < size:
            body += rng.choice(_PIECES)
        texts.append((rng.choice(_VERBS) + body)[:4000])
    texts.append("<" * 1400)  # escaping triples it: 4,200 characters
    texts.append("search " + "&" * 3990)
    return texts


def _valid_message(body: object) -> None:
    assert isinstance(body, dict), body
    assert body.get("text") or body.get("blocks")
    for block in Block.parse_all(body.get("blocks") or []):
        assert block is not None
        block.validate_json()  # slack_sdk's own limits: 3,000 characters a section, ...


async def test_long_and_odd_command_texts_are_each_answered(bot: Harness) -> None:
    for text in _random_texts(40):
        before = len(bot.state.ephemerals_for(CHANNEL, ADMIN))
        result = await bot.driver.slash(ADMIN, CHANNEL, text=text)
        assert result.status == 200, (text[:60], result.text[:200])
        if result.json is None:  # understood: acked at once, answered through response_url
            await bot.settle()
            answer = bot.state.ephemerals_for(CHANNEL, ADMIN)[before:]
            assert answer, text[:60]
            _valid_message({"text": answer[-1].text, "blocks": answer[-1].blocks})
        else:
            _valid_message(result.json)
    assert sum(1 for t in _random_texts(40) if len(t) > 3000) >= 10  # the long ones are there


# --- item 14: an empty field means "any"; the words of a search are one query ------------


async def test_an_empty_area_code_searches_any(bot: Harness) -> None:
    await bot.open_buy()
    modal = await bot.redraw(bot.driver.click(ADMIN, "Search"))
    labels = result_labels(modal)
    assert len(labels) == 10, text_of(modal)
    assert "Enter a 3-digit area code" not in text_of(modal)


async def test_an_empty_tollfree_prefix_searches_every_prefix(bot: Harness) -> None:
    await bot.open_buy()
    await bot.redraw(bot.driver.select(ADMIN, "Toll-free"))
    modal = await bot.redraw(bot.driver.click(ADMIN, "Search"))
    labels = result_labels(modal)
    assert "is not one of the toll-free prefixes" not in text_of(modal)
    assert len({e164_of(label)[2:5] for label in labels}) >= 5, labels


async def test_search_words_are_one_query(bot: Harness) -> None:
    await bot.driver.slash(ADMIN, CHANNEL, text="search local (415) 629")
    await bot.settle()
    shown = bot.ephemeral_texts(ADMIN)
    assert shown and "quantity" not in shown[-1]
    found = [m for m in bot.state.ephemerals_for(CHANNEL, ADMIN) if m.blocks]
    assert "(415) 629-" in text_of(found[-1])


async def test_a_whole_number_is_refused_saying_what_is_accepted(bot: Harness) -> None:
    result = await bot.driver.slash(ADMIN, CHANNEL, text="search local (415) 555-0123")
    said = str(result.json)
    assert "quantity" not in said
    assert "area code and exchange" in said


async def test_buy_415_searches_area_code_415(bot: Harness) -> None:
    await bot.open_buy(text="buy 415")
    modal = await bot.until(lambda s: bool(result_labels(bot.modal())))
    labels = result_labels(bot.modal())
    assert labels and all(lb.startswith("(415)") for lb in labels), modal


# An unknown verb gets one line, not the whole usage (issue 13, item 17).
@pytest.mark.parametrize("text", ["help", "buy 415 extra words"])
async def test_help_names_every_argument(bot: Harness, text: str) -> None:
    said = str((await bot.driver.slash(ADMIN, CHANNEL, text=text)).json)
    for argument in ("AREA-CODE", "PREFIX", "HOW-MANY", "@user", "mine|pending|all"):
        assert argument in said


# --- item 15: people of another workspace ------------------------------------------------


async def _guest(make_bot: BotFactory) -> Harness:
    bot = await make_bot(admins=[])  # workspace admins are numbers admins
    bot.state.users[ADMIN].is_admin = True
    bot.slack.add_user(GUEST, "guest", is_admin=True)  # an admin, of their own workspace
    bot.state.users[GUEST].team_id = OTHER_TEAM
    return bot


async def test_a_slack_connect_admin_cannot_buy_or_read(make_bot: BotFactory) -> None:
    bot = await _guest(make_bot)
    for text in ("buy", "search 415", "spare", "requests all"):
        result = await bot.driver.slash(GUEST, CHANNEL, text=text)
        assert result.status == 200
        assert REFUSED in result.json["text"]
    await bot.settle()
    assert bot.state.calls_to("views.open") == []
    assert bot.state.calls_to("users.info") == []  # their own admin rights were not asked
    workspace = bot.slack.workspace.team_id
    async with bot.runtime.services.deps.uow(write=False) as uow:
        assert await uow.accounts.default_of(OTHER_TEAM) is None
        assert await uow.requests.open_for_workspace(workspace) == 0


async def test_a_slack_connect_click_changes_nothing(make_bot: BotFactory) -> None:
    bot = await _guest(make_bot)
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    result = await bot.driver.click(GUEST, "Cancel", channel=CHANNEL)
    assert result is not None and result.status == 200
    await bot.settle()
    assert any(REFUSED in text for text in bot.ephemeral_texts(GUEST))
    requests = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    assert [r.state for r in requests] == [RequestState.QUOTED]


async def test_a_slack_connect_modal_submission_buys_nothing(make_bot: BotFactory) -> None:
    bot = await _guest(make_bot)
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    ws = bot.slack.workspace
    view = bot.modal().to_api()
    view["app_installed_team_id"] = ws.team_id  # as Slack sends a modal of this installation
    payload = {
        "type": "view_submission",
        "team": {"id": OTHER_TEAM, "domain": "other"},
        "user": {"id": GUEST, "username": "guest", "name": "guest", "team_id": OTHER_TEAM},
        "api_app_id": ws.app_id,
        "token": "verification_token",
        "trigger_id": bot.slack.issue_trigger_id(GUEST),
        "view": view,
        "response_urls": [],
    }
    result = await bot.driver.post_signed(urlencode({"payload": json.dumps(payload)}).encode())
    assert result.status == 200
    assert result.json["response_action"] == "update"
    assert REFUSED in json.dumps(result.json["view"])
    await bot.settle()
    assert bot.cards() == []
    assert await bot.runtime.services.purchases.list_requests(bot.actor(), "all") == []
