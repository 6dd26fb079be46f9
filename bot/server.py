"""Serving the app: aiohttp at `/slack/events` (+ `GET /health`), or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, close_app, worker_for
from bot.bootstrap import start
from bot.config import Settings, SettingsError
from bot.health import (
    HEALTH_CACHE_SECONDS,
    HealthCheck,
    cached_health,
    credentials_refused,
    health_check,
)
from bot.startup import (
    Stopped,
    backoff,
    check_bot_token,
    listen_problem,
    socket_mode_url,
    wait_or_stop,
)

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def web_app(
    app: AsyncApp,
    health: HealthCheck | None = None,
    *,
    health_cache_seconds: float = HEALTH_CACHE_SECONDS,
) -> web.Application:
    """The HTTP app; `health` (see `bot.health.health_check`) says whether the backend answers.

    `GET /health` is unauthenticated, so its probe is cached and shared
    (`cached_health`): no number of requests makes more than one backend probe
    per `health_cache_seconds`.
    """
    if health is not None:
        health = cached_health(health, seconds=health_cache_seconds)

    async def events(request: web.Request) -> web.Response:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def health_route(_: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"ok": True})
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    application = web.Application()
    application.router.add_post(EVENTS_PATH, events)
    application.router.add_get("/health", health_route)
    if (flow := app.oauth_flow) is not None:
        # Workspace installs (OAuth): the install page, and Slack's redirect back to us.
        async def install(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            return await to_aiohttp_response(await flow.handle_installation(bolt_request))

        async def oauth_redirect(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            return await to_aiohttp_response(await flow.handle_callback(bolt_request))

        application.router.add_get(flow.install_path, install)
        application.router.add_get(flow.redirect_uri_path, oauth_redirect)
    return application


@dataclass
class HttpServer:
    """A running HTTP server; `url` is its base (`http://127.0.0.1:PORT`)."""

    runner: web.AppRunner
    url: str

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_http(
    app: AsyncApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    health: HealthCheck | None = None,
    health_cache_seconds: float = HEALTH_CACHE_SECONDS,
) -> HttpServer:
    """Start serving `app`; port 0 picks a free port (see `HttpServer.url`)."""
    runner = web.AppRunner(
        web_app(app, health, health_cache_seconds=health_cache_seconds), access_log=None
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return HttpServer(runner, f"http://{bound_host}:{bound_port}")


# After SIGTERM/SIGINT, what is running gets this long to close what it opened
# before it is cancelled; with the second below, the process ends within 5 s.
STOP_GRACE_SECONDS = 3.0
CANCEL_GRACE_SECONDS = 1.0
# A Socket Mode WebSocket that has not opened by then is given up and asked for anew.
SOCKET_OPEN_SECONDS = 15.0


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM (docker stop, systemd) and SIGINT set `stop`, from the first line of `serve`."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop`): Socket Mode when SLACK_APP_TOKEN is set, else HTTP.

    The signals are watched before anything else starts, so a start-up that
    waits (Slack unreachable, a WebSocket that will not open) still ends on them.
    A setting Slack or the system refuses raises `SettingsError` (one line).
    """
    stop = stop or asyncio.Event()
    with _stop_on_signals(stop):
        body = asyncio.ensure_future(_serve(settings, stop))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({body, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not body.done():
                # `_serve` closes what it opened once it sees `stop`; a step that cannot
                # watch it (a migration, a slow close) is cancelled after the grace.
                await asyncio.wait({body}, timeout=STOP_GRACE_SECONDS)
                if not body.done():
                    log.warning("stopping: start-up or shutdown is slow, cancelling it")
                    body.cancel()
                    await asyncio.wait({body}, timeout=CANCEL_GRACE_SECONDS)
        finally:
            stopper.cancel()
    if body.done() and not body.cancelled():
        exc = body.exception()
        if exc is not None and not isinstance(exc, Stopped):
            raise exc


async def _serve(settings: Settings, stop: asyncio.Event) -> None:
    try:
        # A wrong token stops here, before anything is opened and before users meet
        # bolt's "installation no longer available"; Slack unreachable is retried, one
        # log line a try.
        if settings.slack_bot_token:  # workspace installs have a token per workspace
            identity = await check_bot_token(settings, stop)
            log.info("SLACK_BOT_TOKEN accepted for team %s", identity.get("team_id", "?"))
        first_url = await socket_mode_url(settings, stop) if settings.slack_app_token else None
    except Stopped:
        return
    runtime = await start(settings)
    try:
        refused = await wait_or_stop(credentials_refused(runtime.backend), stop)
    except Stopped:
        await _bounded(runtime.close())
        return
    if refused is not None:
        # A key Kazoo does not know (404) or cannot read (400) stops start-up, one line.
        await runtime.close()
        raise SettingsError(refused)
    app = build_app(runtime)
    # The background work starts once the bot serves: a start-up that fails or is
    # stopped leaves no pass cut short.
    worker = worker_for(app)
    try:
        if settings.slack_app_token:
            await _socket_mode(app, settings, stop, first_url, serving=worker.start)
        else:
            try:
                server = await start_http(
                    app,
                    settings.host,
                    settings.port,
                    health=health_check(runtime.backend, backend_name=settings.backend),
                )
            except OSError as exc:
                raise listen_problem(exc, settings.host, settings.port) from None
            worker.start()
            print(f"numbers-bot: listening on {server.url}{EVENTS_PATH}", flush=True)
            try:
                await stop.wait()
            finally:
                await _bounded(server.stop())
    except Stopped:
        pass
    finally:
        await _bounded(worker.stop())
        await _bounded(close_app(app))
        await _bounded(runtime.close())


async def _bounded(closing: Awaitable[None]) -> None:
    # Shutdown must end: a close that hangs is abandoned, one that fails is logged.
    try:
        await asyncio.wait_for(closing, STOP_GRACE_SECONDS)
    except Exception as exc:  # shutting down: nothing else to do with it
        log.warning("stopping: a close failed (%s)", type(exc).__name__)


class _OneLine(logging.Filter):
    """The Socket Mode client logs each failed try with a traceback: keep the line only."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _socket_logger() -> logging.Logger:
    logger = logging.getLogger("bot.socket_mode")
    if not any(isinstance(f, _OneLine) for f in logger.filters):
        logger.addFilter(_OneLine())
    return logger


async def _socket_mode(
    app: AsyncApp,
    settings: Settings,
    stop: asyncio.Event,
    first_url: str | None,
    *,
    serving: Callable[[], None],
) -> None:
    """Connect (backing off between failed tries) and stay connected until `stop`.

    A refused SLACK_APP_TOKEN stops start-up with one line (`socket_mode_url`).
    Once connected, slack_sdk reconnects by itself (Slack asks it to every few
    hours); its lines are kept to one each.
    """
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, settings.slack_app_token, logger=_socket_logger())
    try:
        delays = backoff()
        while True:
            handler.client.wss_uri = first_url or await socket_mode_url(settings, stop)
            first_url = None
            connecting = handler.client.connect()  # type: ignore[no-untyped-call]
            try:
                await wait_or_stop(asyncio.wait_for(connecting, SOCKET_OPEN_SECONDS), stop)
                break
            except TimeoutError:
                delay = next(delays)
                log.warning(
                    "Socket Mode: the WebSocket did not open within %g s; retrying in %g s",
                    SOCKET_OPEN_SECONDS,
                    delay,
                )
                await wait_or_stop(asyncio.sleep(delay), stop)
        log.info("connected to Slack in Socket Mode")
        serving()
        await stop.wait()
    finally:
        await _bounded(handler.close_async())  # type: ignore[no-untyped-call]
