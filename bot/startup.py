"""Start-up checks of the Slack side: credentials, the listen port, the Socket Mode link.

Each failure a person must fix stops start-up with one line naming the setting
and what to do (`SettingsError`, printed by `bot.cli`). A failure that may pass
by itself (Slack unreachable, a 5xx, a rate limit) is retried with a capped
exponential back-off, one log line per attempt and no traceback, and every wait
ends as soon as `stop` is set (SIGTERM, SIGINT). docs/decisions/startup.md.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, SettingsError

log = logging.getLogger("bot.startup")

T = TypeVar("T")

# Slack's answers that mean the token itself is wrong: retrying cannot help.
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "missing_scope",
        "no_permission",
    }
)
FIRST_DELAY = 1.0
MAX_DELAY = 60.0
CALL_TIMEOUT = 10.0

_BOT_TOKEN_HELP = (
    "copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page,"
    " reinstalling the app if it was removed"
)
_APP_TOKEN_HELP = (
    "create an app-level token (xapp-...) with the connections:write scope under"
    " Basic Information > App-Level Tokens, or unset SLACK_APP_TOKEN for HTTP mode"
)


class Stopped(Exception):
    """SIGTERM or SIGINT arrived while start-up was waiting."""


class Refused(Exception):
    """Slack refused a token: `error` is Slack's word for it (`invalid_auth`, ...)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def credentials_problem(settings: Settings) -> str | None:
    """The one line to stop with when the Slack settings are half there, else None.

    With none of them set the bot runs the offline console; with some but not
    all it would silently do that too, which hides a typo in the environment.
    """
    if settings.installs_enabled:
        return None  # workspace installs: the settings' own validation checked them
    token, secret, app = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    )
    if not (token or secret or app):
        return None
    if not token:
        given = "SLACK_APP_TOKEN" if app else "SLACK_SIGNING_SECRET"
        return (
            f"SLACK_BOT_TOKEN: required with {given}; {_BOT_TOKEN_HELP}, or unset {given}"
            " to run the offline console"
        )
    if not (secret or app):
        return (
            "SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN; copy the Signing Secret from"
            " your app's Basic Information page (or set SLACK_APP_TOKEN for Socket Mode),"
            " or unset SLACK_BOT_TOKEN to run the offline console"
        )
    return None


def backoff(first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> Iterator[float]:
    """1, 2, 4, ... seconds, never more than `cap`."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


async def wait_or_stop(awaitable: Awaitable[T], stop: asyncio.Event) -> T:
    """`awaitable`'s result, or `Stopped` (the awaitable cancelled) as soon as `stop` is set."""
    task = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        raise Stopped
    return task.result()


async def _sleep_or_stop(seconds: float, stop: asyncio.Event) -> None:
    await wait_or_stop(asyncio.sleep(seconds), stop)


def _slack_error(exc: BaseException) -> str | None:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return str(error) if error else f"HTTP {exc.response.status_code}"
    return None


def _why(exc: BaseException) -> str:
    said = _slack_error(exc)
    if said is not None:
        return f"Slack answered {said}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {CALL_TIMEOUT:g} s"
    return f"could not reach Slack ({type(exc).__name__}{': ' + str(exc) if str(exc) else ''})"


async def until_answered(
    what: str,
    call: Callable[[], Awaitable[T]],
    stop: asyncio.Event,
    *,
    delays: Iterator[float] | None = None,
) -> T:
    """Call until Slack answers; `Refused` when it refuses the token, `Stopped` on a signal.

    Each failed attempt is one log line (`what` and why, no traceback).
    """
    delays = delays or backoff()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await wait_or_stop(asyncio.wait_for(call(), CALL_TIMEOUT), stop)
        except (Stopped, asyncio.CancelledError):
            raise
        except Exception as exc:  # anything else is worth another try, in one line
            said = _slack_error(exc)
            if said in REFUSED:
                raise Refused(said or "") from None
            delay = next(delays)
            log.warning(
                "%s failed (attempt %d): %s; retrying in %g s", what, attempt, _why(exc), delay
            )
        await _sleep_or_stop(delay, stop)


def _client(settings: Settings, token: str | None) -> AsyncWebClient:
    # No retry handlers: `until_answered` paces the retries itself.
    return AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=int(CALL_TIMEOUT))


async def check_bot_token(settings: Settings, stop: asyncio.Event) -> dict[str, Any]:
    """`auth.test` with SLACK_BOT_TOKEN: its answer, or `SettingsError` when Slack refuses it."""
    client = _client(settings, settings.slack_bot_token)
    try:
        answer = await until_answered(
            "Checking SLACK_BOT_TOKEN (auth.test)", client.auth_test, stop
        )
    except Refused as exc:
        raise SettingsError(
            f"SLACK_BOT_TOKEN: Slack refused it ({exc.error}); {_BOT_TOKEN_HELP}"
        ) from None
    finally:
        await _close(client)
    return dict(answer.data) if isinstance(answer.data, dict) else {}


async def socket_mode_url(settings: Settings, stop: asyncio.Event) -> str:
    """A fresh Socket Mode URL from `apps.connections.open` with SLACK_APP_TOKEN.

    A refused app token stops start-up (`SettingsError`): Slack will not accept
    it on the next try either.
    """
    client = _client(settings, None)
    try:
        answer = await until_answered(
            "Opening a Socket Mode connection (apps.connections.open)",
            lambda: client.apps_connections_open(app_token=settings.slack_app_token or ""),
            stop,
        )
    except Refused as exc:
        raise SettingsError(
            f"SLACK_APP_TOKEN: Slack refused it ({exc.error}); {_APP_TOKEN_HELP}"
        ) from None
    finally:
        await _close(client)
    url = answer.get("url")
    if not isinstance(url, str) or not url:
        raise SettingsError("NUMBERS_BOT_SLACK_API_URL: apps.connections.open gave no URL")
    return url


async def _close(client: AsyncWebClient) -> None:
    session = getattr(client, "session", None)
    if session is not None and not session.closed:
        await session.close()


def listen_problem(exc: OSError, host: str, port: int) -> SettingsError:
    """One line for a port that cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        return SettingsError(
            f"NUMBERS_BOT_PORT: port {port} on {host} is already in use; stop what listens"
            " there or set NUMBERS_BOT_PORT to a free port"
        )
    if exc.errno == errno.EACCES:
        return SettingsError(
            f"NUMBERS_BOT_PORT: not allowed to listen on port {port}; use a port above 1023"
        )
    reason = exc.strerror or type(exc).__name__
    return SettingsError(
        f"NUMBERS_BOT_HOST: cannot listen on {host}:{port} ({reason}); set NUMBERS_BOT_HOST"
        " to an address of this machine, e.g. 0.0.0.0"
    )
