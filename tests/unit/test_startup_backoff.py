"""Start-up retries (bot/startup.py): capped exponential back-off, one line a try, and a
stop that ends any wait."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import load_settings
from bot.startup import (
    Refused,
    Stopped,
    backoff,
    credentials_problem,
    until_answered,
    wait_or_stop,
)


def _answer(error: str) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="http://slack/api/x",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=200,
    )
    return SlackApiError("refused", response)


def test_backoff_doubles_up_to_a_minute() -> None:
    assert list(itertools.islice(backoff(), 9)) == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_a_stop_ends_a_wait_at_once() -> None:
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(Stopped):
        await wait_or_stop(asyncio.sleep(3600), stop)


async def test_failures_are_retried_one_line_each_until_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: list[object] = [_answer("internal_error"), OSError("unreachable"), {"ok": True}]

    async def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    caplog.set_level(logging.WARNING, logger="bot.startup")
    result = await until_answered("Trying", call, asyncio.Event(), delays=iter([0, 0]))
    assert result == {"ok": True}
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Trying failed (attempt 1): Slack answered internal_error; retrying in 0 s",
        "Trying failed (attempt 2): could not reach Slack (OSError: unreachable); retrying in 0 s",
    ]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize("error", ["invalid_auth", "not_allowed_token_type", "token_revoked"])
async def test_a_refused_token_is_not_retried(error: str) -> None:
    calls = 0

    async def call() -> object:
        nonlocal calls
        calls += 1
        raise _answer(error)

    with pytest.raises(Refused) as refused:
        await until_answered("Trying", call, asyncio.Event())
    assert (refused.value.error, calls) == (error, 1)


def test_workspace_installs_need_no_bot_token() -> None:
    from cryptography.fernet import Fernet

    settings = load_settings(
        slack_client_id="1.2",
        slack_client_secret="client-secret",
        state_secret="s" * 32,
        token_key=Fernet.generate_key().decode(),
        slack_signing_secret="signing",
    )
    assert settings.installs_enabled and settings.slack_bot_token is None
    assert credentials_problem(settings) is None
