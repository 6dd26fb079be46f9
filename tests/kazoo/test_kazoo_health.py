"""`GET /health` with the kazoo backend: Kazoo up, down, slow, or refusing the key."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp

from bot.backends.kazoo import KazooCarrier
from bot.config import SettingsError
from bot.console.fake_slack import FakeSlack
from bot.health import backend_health, credentials_refused, health_check
from bot.server import serve, web_app
from tests.conftest import make_settings
from tests.kazoo.conftest import RecordedSleep, make_carrier
from tests.kazoo_standin import API_KEY, ROOT, KazooStandIn


def _slack_app() -> AsyncApp:
    return AsyncApp(signing_secret="secret", token="xoxb-health")


async def _get_health(carrier: object | None) -> tuple[int, dict[str, object]]:
    server = TestServer(web_app(_slack_app(), health_check(carrier, timeout=1.0)))
    async with TestClient(server) as client:
        response = await client.get("/health")
        body = await response.json()
        text = await response.text()
    assert API_KEY not in text
    return response.status, body


async def test_health_says_kazoo_answers(carrier: KazooCarrier) -> None:
    status, body = await _get_health(carrier)
    assert (status, body) == (200, {"ok": True, "backend": "kazoo", "detail": "answers"})


async def test_health_says_kazoo_is_down(sleeps: RecordedSleep) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = KazooCarrier.connect(f"http://127.0.0.1:{port}", API_KEY, ROOT, timeout=0.3)
    try:
        status, body = await _get_health(down)
    finally:
        await down.close()
    assert status == 503
    assert body == {"ok": False, "backend": "kazoo", "detail": "kazoo could not be reached"}


async def test_health_reports_an_error_answer(standin: KazooStandIn, sleeps: RecordedSleep) -> None:
    kazoo = make_carrier(standin, sleeps)
    standin.fail_next(404, method="GET", path=f"/v2/accounts/{ROOT}")
    try:
        report = await backend_health(kazoo)
    finally:
        await kazoo.close()
    assert report == {"ok": False, "backend": "kazoo", "detail": "kazoo answered with an error"}


async def test_health_does_not_wait_for_a_slow_kazoo(
    standin: KazooStandIn, sleeps: RecordedSleep
) -> None:
    kazoo = make_carrier(standin, sleeps)
    standin.hang_next("GET", f"/v2/accounts/{ROOT}", apply=False)
    try:
        report = await backend_health(kazoo, within=0.2)
    finally:
        await standin.release_hangs()
        await kazoo.close()
    assert report == {
        "ok": False,
        "backend": "kazoo",
        "detail": "kazoo did not answer within 0.2 s",
    }


@pytest.mark.parametrize(
    "key",
    [
        "0123456789abcdef" * 4,  # 64 characters no account has: Kazoo answers 404
        "not-the-key",  # not 64 characters: Kazoo answers 400
    ],
)
async def test_health_says_the_key_was_refused(
    standin: KazooStandIn, sleeps: RecordedSleep, key: str
) -> None:
    kazoo = make_carrier(standin, sleeps, key=key)
    try:
        status, body = await _get_health(kazoo)
    finally:
        await kazoo.close()
    assert status == 503
    # Not "could not be reached": the key is what to fix.
    assert body == {"ok": False, "backend": "kazoo", "detail": "kazoo refused the API key"}
    assert key not in str(body)


async def test_an_unknown_key_stops_start_up_with_one_line(
    tmp_path: Path, standin: KazooStandIn
) -> None:
    unknown = "0123456789abcdef" * 4
    # Start-up checks the bot token with Slack first (auth.test): a stand-in answers it.
    async with FakeSlack(bot_token="xoxb-1") as slack:
        settings = make_settings(
            tmp_path,
            slack_bot_token="xoxb-1",
            slack_signing_secret="s",
            slack_api_url=slack.api_url,
            backend="kazoo",
            kazoo_url=standin.url,
            kazoo_api_key=unknown,
            kazoo_account_id=ROOT,
        )
        with pytest.raises(SettingsError) as stopped:
            await serve(settings)
    line = str(stopped.value)
    assert line == "Kazoo does not know KAZOO_API_KEY: no account has this API key."
    assert unknown not in line


async def test_kazoo_down_at_start_up_does_not_stop_it(sleeps: RecordedSleep) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = KazooCarrier.connect(f"http://127.0.0.1:{port}", API_KEY, ROOT, timeout=0.3)
    try:
        assert await credentials_refused(down) is None
    finally:
        await down.close()


async def test_health_of_the_embedded_backend_is_ok() -> None:
    assert await _get_health(None) == (
        200,
        {"ok": True, "backend": "embedded", "detail": "in process"},
    )


async def test_health_without_a_check_keeps_the_old_answer() -> None:
    server = TestServer(web_app(_slack_app()))
    async with TestClient(server) as client:
        response = await client.get("/health")
        assert (response.status, await response.json()) == (200, {"ok": True})
