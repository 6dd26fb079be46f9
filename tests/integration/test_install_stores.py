"""The install and OAuth state stores on the bot's database: tokens sealed at rest,
keys rotated, states signed, single-use and expiring."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import start
from bot.config import SettingsError
from storage import models as m
from storage.db import create_engine, session_factory
from storage.installs import SqlInstallationStore, SqlOAuthStateStore, TokenCipher
from storage.migrate import upgrade
from tests.conftest import FakeClock, make_settings

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
BOT_TOKEN = "xoxb-T0ALPHA-plain-bot-token"
USER_TOKEN = "xoxp-T0ALPHA-plain-user-token"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    # The test database the other tiers use (SQLite here, or the one make_settings picks).
    engine = create_engine(make_settings(tmp_path).database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def _store(engine: AsyncEngine, clock: FakeClock, *keys: str) -> SqlInstallationStore:
    return SqlInstallationStore(session_factory(engine), TokenCipher(list(keys)), "1.2", clock)


def _installation(team: str = "T0ALPHA", bot_token: str = BOT_TOKEN) -> Installation:
    return Installation(
        app_id="A0NUMBERS",
        team_id=team,
        team_name="Alpha",
        bot_token=bot_token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="commands,chat:write",
        user_id="UALICE",
        user_token=USER_TOKEN,
        user_scopes="",
    )


async def _raw(engine: AsyncEngine) -> list[tuple[str, str | None, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("select team_id, bot_token, user_token from slack_installations")
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_tokens_are_sealed_at_rest_and_read_back(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    store = _store(engine, clock, NEW)
    await store.async_save(_installation())
    [(team, bot_sealed, user_sealed)] = await _raw(engine)
    assert team == "T0ALPHA"
    assert bot_sealed and BOT_TOKEN not in bot_sealed and "xoxb" not in bot_sealed
    assert Fernet(NEW).decrypt(bot_sealed.encode()).decode() == BOT_TOKEN
    assert user_sealed and USER_TOKEN not in user_sealed

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0ALPHA")
    assert (
        bot is not None
        and bot.bot_token == BOT_TOKEN
        and bot.bot_scopes
        == [
            "commands",
            "chat:write",
        ]
    )
    found = await store.async_find_installation(enterprise_id=None, team_id="T0ALPHA")
    assert found is not None and found.user_token == USER_TOKEN
    assert await store.async_find_bot(enterprise_id=None, team_id="T0BETA") is None


async def test_a_reinstall_replaces_the_tokens(engine: AsyncEngine, clock: FakeClock) -> None:
    store = _store(engine, clock, NEW)
    await store.async_save(_installation())
    await store.async_save(_installation(bot_token="xoxb-T0ALPHA-second"))
    assert len(await _raw(engine)) == 1
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0ALPHA")
    assert bot is not None and bot.bot_token == "xoxb-T0ALPHA-second"


async def test_two_installs_of_one_workspace_at_once_leave_one_row(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    store = _store(engine, clock, NEW)
    await asyncio.gather(
        store.async_save(_installation(bot_token="xoxb-a")),
        store.async_save(_installation(bot_token="xoxb-b")),
    )
    assert len(await _raw(engine)) == 1


async def test_uninstall_and_revocations_delete_tokens(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    store = _store(engine, clock, NEW)
    await store.async_save(_installation("T0ALPHA"))
    await store.async_save(_installation("T0BETA", "xoxb-T0BETA"))
    # The installer's token revoked: the bot still serves the workspace.
    await store.async_delete_installation(enterprise_id=None, team_id="T0ALPHA", user_id="UALICE")
    found = await store.async_find_installation(enterprise_id=None, team_id="T0ALPHA")
    assert found is not None and found.user_token is None and found.bot_token == BOT_TOKEN
    # The bot's token revoked, or the app uninstalled: nothing of that workspace is left.
    await store.async_delete_bot(enterprise_id=None, team_id="T0ALPHA")
    assert await store.async_find_bot(enterprise_id=None, team_id="T0ALPHA") is None
    await store.async_delete_all(enterprise_id=None, team_id="T0BETA")
    assert await _raw(engine) == []


async def test_rotation_seals_old_tokens_with_the_newest_key(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    await _store(engine, clock, OLD).async_save(_installation())
    rotated = _store(engine, clock, NEW, OLD)
    assert await rotated.rotate_keys() == 1
    assert await rotated.rotate_keys() == 0  # nothing left under the old key
    [(_, bot_sealed, _)] = await _raw(engine)
    assert Fernet(NEW).decrypt(bot_sealed.encode()).decode() == BOT_TOKEN  # type: ignore[union-attr]
    # The old key can go now.
    bot = await _store(engine, clock, NEW).async_find_bot(enterprise_id=None, team_id="T0ALPHA")
    assert bot is not None and bot.bot_token == BOT_TOKEN


async def test_a_key_that_opens_no_installed_token_stops_start_up(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(
        tmp_path,
        slack_signing_secret="signing",
        slack_client_id="1.2",
        slack_client_secret="client-secret",
        state_secret="s" * 32,
        token_key=OLD,
    )
    runtime = await start(settings, clock=clock)
    assert runtime.installs is not None
    await runtime.installs.installations.async_save(_installation())
    await runtime.close()

    replaced = settings.model_copy(update={"token_key": NEW})
    with pytest.raises(SettingsError) as refused:
        await start(replaced, clock=clock)
    assert str(refused.value).startswith(
        "NUMBERS_BOT_TOKEN_KEY: does not decrypt the tokens installed (workspace T0ALPHA)"
    )
    runtime = await start(settings.model_copy(update={"token_key": f"{NEW},{OLD}"}), clock=clock)
    await runtime.close()


# --- OAuth states ---------------------------------------------------------------------


def _states(engine: AsyncEngine, clock: FakeClock, secret: str = "s" * 32) -> SqlOAuthStateStore:
    return SqlOAuthStateStore(session_factory(engine), secret, clock)


async def test_a_state_works_once(engine: AsyncEngine, clock: FakeClock) -> None:
    states = _states(engine, clock)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False


async def test_a_state_expires(engine: AsyncEngine, clock: FakeClock) -> None:
    states = _states(engine, clock)
    state = await states.async_issue()
    clock.advance(minutes=10, seconds=1)
    assert await states.async_consume(state) is False


async def test_forged_states_are_refused(engine: AsyncEngine, clock: FakeClock) -> None:
    states = _states(engine, clock)
    state = await states.async_issue()
    nonce, _, signature = state.partition(".")
    other_secret = _states(engine, clock, "another-secret-of-32-characters!")
    for forged in ("", "abc", nonce, f"{nonce}.{signature[:-2]}AA", f"x{nonce}.{signature}"):
        assert await states.async_consume(forged) is False, forged
    # Signed with another secret: refused too, and the real one still works once.
    assert await other_secret.async_consume(state) is False
    assert await states.async_consume(state) is True


async def test_one_of_two_redirects_with_one_state_wins(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    states = _states(engine, clock)
    state = await states.async_issue()
    results = await asyncio.gather(*(states.async_consume(state) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_expired_states_are_swept_when_new_ones_are_issued(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    states = _states(engine, clock)
    for _ in range(3):
        await states.async_issue()
    clock.advance(minutes=11)
    await states.async_issue()
    async with session_factory(engine)() as session:
        left = (await session.execute(select(m.SlackOAuthState))).scalars().all()
    assert len(left) == 1
