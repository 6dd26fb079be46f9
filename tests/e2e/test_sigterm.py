"""`numbers-bot serve` as a process: ready, serving, then SIGTERM drains it and it exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.console.driver import SlackDriver
from bot.console.fake_slack import FakeSlack
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ready(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url + "/ready") as response:
        return response.status


async def _health(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url + "/health") as response:
        return response.status, await response.json()


async def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    slack = await FakeSlack(bot_token=TOKEN).start()
    slack.add_user(ADMIN, "alice")
    slack.add_channel(CHANNEL, "numbers")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NUMBERS_BOT_", "SLACK_"))},
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "NUMBERS_BOT_SLACK_API_URL": slack.api_url,
        "NUMBERS_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "NUMBERS_BOT_HOST": "127.0.0.1",
        "NUMBERS_BOT_PORT": str(port),
        "NUMBERS_BOT_ADMINS": ADMIN,
        "NUMBERS_BOT_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    driver = SlackDriver(slack, url + "/slack/events", SECRET)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert b"listening on" in line, line
        assert await _ready(url) == 200
        status, health = await _health(url)
        assert status == 200, health
        assert health["database"] == {"ok": True, "detail": "answers"}
        answered = await driver.slash(ADMIN, CHANNEL, text="help")
        assert answered.status == 200

        process.send_signal(signal.SIGTERM)
        # A generous bound that only catches a hang; the drain itself is 8 s at most.
        code = await asyncio.wait_for(process.wait(), 60)
        assert process.stderr is not None
        logged = (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await driver.aclose()
        await slack.stop()
    assert code == 0, logged
    lines = [json.loads(text) for text in logged.splitlines() if text.startswith("{")]
    messages = [entry["message"] for entry in lines]
    assert any(m.startswith("stopping: draining") for m in messages), messages
    # Full garbage collections skip the start-up heap (bench/loop_lag.py).
    assert any(m.startswith("start-up heap frozen") for m in messages), messages
    assert TOKEN not in logged and SECRET not in logged
