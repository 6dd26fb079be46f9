"""Start-up and shutdown of `numbers-bot serve`, as a process, against a local Slack stand-in.

Every mode stops on SIGTERM or SIGINT at any point, also while it is still
connecting; failures to connect back off and log one line each; a token
Slack refuses, half the Slack settings or a port in use stop start-up with one
line naming the setting. Waits are bounded generously; no duration is asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.__main__ import main

# Generous bounds, only so a broken build fails instead of hanging the suite.
EXIT_WITHIN = 30.0
SEEN_WITHIN = 60.0


@dataclass
class SlackStandIn:
    """Answers `auth.test` and `apps.connections.open` the way a test tells it to."""

    auth: dict[str, Any] = field(
        default_factory=lambda: {"ok": True, "team_id": "T1", "user_id": "UBOT"}
    )
    socket: dict[str, Any] = field(default_factory=lambda: {"ok": True, "url": "ws://x"})
    hang_auth: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[method] = self.calls.get(method, 0) + 1
        if method == "auth.test":
            if self.hang_auth:
                await asyncio.Event().wait()
            return web.json_response(self.auth)
        if method == "apps.connections.open":
            return web.json_response(self.socket)
        return web.json_response({"ok": False, "error": "unknown_method"})


@contextlib.asynccontextmanager
async def slack_standin(standin: SlackStandIn) -> AsyncIterator[SlackStandIn]:
    app = web.Application()
    app.router.add_post("/api/{method}", standin.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    standin.url = f"http://{host}:{port}/api/"
    try:
        yield standin
    finally:
        await runner.cleanup()


def _env(tmp_path: Path, standin: SlackStandIn | None = None, **more: str) -> dict[str, str]:
    env = {
        "PATH": "",
        "NUMBERS_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "NUMBERS_BOT_HOST": "127.0.0.1",
        "NUMBERS_BOT_PORT": str(_free_port()),
    }
    if standin is not None:
        env["NUMBERS_BOT_SLACK_API_URL"] = standin.url
    env.update(more)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def wait_for(self, seen: Callable[[], bool]) -> None:
        async def poll() -> None:
            while not seen():
                if self.process.returncode is not None:
                    raise AssertionError(f"exited early: {self.stderr}")
                await asyncio.sleep(0.05)

        await asyncio.wait_for(poll(), SEEN_WITHIN)

    async def exit_code(self) -> int:
        try:
            code = await asyncio.wait_for(self.process.wait(), EXIT_WITHIN)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"did not stop; it said: {self.stderr}") from None
        await asyncio.gather(*self.readers)
        return code

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.stderr if needle in line]


async def _start(tmp_path: Path, env: dict[str, str], *args: str) -> Bot:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *(args or ("serve",)),
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = Bot(process)

    async def read(stream: asyncio.StreamReader | None, into: list[str]) -> None:
        assert stream is not None
        while line := await stream.readline():
            into.append(line.decode(errors="replace").rstrip("\n"))

    bot.readers = [
        asyncio.ensure_future(read(process.stdout, bot.stdout)),
        asyncio.ensure_future(read(process.stderr, bot.stderr)),
    ]
    return bot


# --------------------------------------------------------------------- stopping (item 12)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_socket_mode_that_cannot_connect_backs_off_and_stops_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    standin = SlackStandIn(socket={"ok": False, "error": "internal_error"})
    async with slack_standin(standin):
        env = _env(tmp_path, standin, SLACK_APP_TOKEN="xapp-test")
        bot = await _start(tmp_path, env)
        await bot.wait_for(lambda: len(bot.lines("(apps.connections.open) failed")) >= 2)
        bot.process.send_signal(sig)
        assert await bot.exit_code() == 0
    failures = bot.lines("(apps.connections.open) failed")
    # One line a failed try, each saying what Slack answered, waiting longer each time.
    assert 2 <= len(failures) <= standin.calls["apps.connections.open"]
    assert all("internal_error" in line for line in failures)
    assert "retrying in 1 s" in failures[0] and "retrying in 2 s" in failures[1]
    assert not bot.lines("Traceback")
    others = [line for line in bot.stderr if line not in failures and "alembic" not in line]
    assert len(others) <= 4, others


async def test_a_signal_while_auth_test_hangs_stops_it(tmp_path: Path) -> None:
    standin = SlackStandIn(hang_auth=True)
    async with slack_standin(standin):
        bot = await _start(tmp_path, _env(tmp_path, standin, SLACK_APP_TOKEN="xapp-test"))
        await bot.wait_for(lambda: standin.calls.get("auth.test", 0) >= 1)
        bot.process.send_signal(signal.SIGTERM)
        assert await bot.exit_code() == 0
    assert not bot.lines("Traceback")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_http_mode_stops_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    standin = SlackStandIn()
    async with slack_standin(standin):
        env = _env(tmp_path, standin)
        bot = await _start(tmp_path, env)
        await bot.wait_for(lambda: any("listening on" in line for line in bot.stdout))
        health_url = f"http://127.0.0.1:{env['NUMBERS_BOT_PORT']}/health"
        async with aiohttp.ClientSession() as http, http.get(health_url) as answer:
            health = (answer.status, await answer.json())
        bot.process.send_signal(sig)
        assert await bot.exit_code() == 0
    assert standin.calls["auth.test"] == 1
    assert not bot.lines("Traceback")
    # The backend as NUMBERS_BOT_BACKEND names it, not as the simulated carrier calls itself.
    status, body = health
    assert status == 200
    assert {k: body[k] for k in ("ok", "backend", "detail")} == {
        "ok": True,
        "backend": "embedded",
        "detail": "in process",
    }


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_the_console_stops_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    env = _env(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        del env[name]
    bot = await _start(tmp_path, env, "console")
    await bot.wait_for(lambda: any("numbers-bot console" in line for line in bot.stdout))
    bot.process.send_signal(sig)  # its input stays open: it is not stopped by an EOF
    assert await bot.exit_code() in (0, 130, -signal.SIGTERM)
    assert not bot.lines("Traceback")


# ------------------------------------------------------------------ start-up checks (item 13)


async def test_a_refused_app_token_stops_with_one_line(tmp_path: Path) -> None:
    standin = SlackStandIn(socket={"ok": False, "error": "invalid_auth"})
    async with slack_standin(standin):
        bot = await _start(tmp_path, _env(tmp_path, standin, SLACK_APP_TOKEN="xapp-wrong"))
        assert await bot.exit_code() == 2
    assert standin.calls["apps.connections.open"] == 1  # refused is not retried
    (line,) = bot.lines("SLACK_APP_TOKEN")
    assert line.startswith("numbers-bot: SLACK_APP_TOKEN: Slack refused it (invalid_auth);")
    assert "App-Level Tokens" in line and "xapp-wrong" not in line
    assert not (tmp_path / "bot.db").exists()  # nothing started before the check
    assert not bot.lines("Traceback")


async def test_a_wrong_bot_token_stops_with_one_line(tmp_path: Path) -> None:
    standin = SlackStandIn(auth={"ok": False, "error": "invalid_auth"})
    async with slack_standin(standin):
        bot = await _start(tmp_path, _env(tmp_path, standin))
        assert await bot.exit_code() == 2
    assert standin.calls["auth.test"] == 1
    assert bot.stderr == [
        "numbers-bot: SLACK_BOT_TOKEN: Slack refused it (invalid_auth); copy the Bot User OAuth"
        " Token (xoxb-...) from your app's OAuth & Permissions page, reinstalling the app if it"
        " was removed"
    ]
    assert not (tmp_path / "bot.db").exists()  # nothing started before the check


async def test_a_port_in_use_stops_with_one_line(tmp_path: Path) -> None:
    standin = SlackStandIn()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with slack_standin(standin):
            env = _env(tmp_path, standin, NUMBERS_BOT_PORT=str(port))
            bot = await _start(tmp_path, env)
            assert await bot.exit_code() == 2
    (line,) = bot.lines("NUMBERS_BOT_PORT")
    assert line == (
        f"numbers-bot: NUMBERS_BOT_PORT: port {port} on 127.0.0.1 is already in use; stop what"
        " listens there or set NUMBERS_BOT_PORT to a free port"
    )
    assert not bot.lines("Traceback")
    # Besides INFO lines and bolt's note, the one line naming the setting.
    said = [x for x in bot.stderr if not x.startswith(("INFO ", "WARNING slack_bolt"))]
    assert said == [line], bot.stderr


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN: required with SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN"),
    ],
)
@pytest.mark.parametrize("command", ["run", "serve"])
def test_half_the_slack_settings_stops_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    given: dict[str, str],
    named: str,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NUMBERS_BOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"numbers-bot: {named};") and err.count("\n") == 1
    assert "offline console" in err
    assert not (tmp_path / "bot.db").exists()
