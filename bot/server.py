"""Serving the app: aiohttp at `/slack/events` (+ `GET /health`), or Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, close_app, worker_for
from bot.bootstrap import start
from bot.config import Settings, SettingsError
from bot.health import HealthCheck, credentials_refused, health_check

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def web_app(app: AsyncApp, health: HealthCheck | None = None) -> web.Application:
    """The HTTP app; `health` (see `bot.health.health_check`) says whether the backend answers."""

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
    app: AsyncApp, host: str = "127.0.0.1", port: int = 0, *, health: HealthCheck | None = None
) -> HttpServer:
    """Start serving `app`; port 0 picks a free port (see `HttpServer.url`)."""
    runner = web.AppRunner(web_app(app, health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return HttpServer(runner, f"http://{bound_host}:{bound_port}")


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (docker stop, systemd) and SIGINT end `serve` cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT: Socket Mode when SLACK_APP_TOKEN is set, else HTTP."""
    stop = _stop_on_signals()
    runtime = await start(settings)
    refused = await credentials_refused(runtime.backend)
    if refused is not None:
        # A key Kazoo does not know (404) or cannot read (400) stops start-up, one line.
        await runtime.close()
        raise SettingsError(refused)
    app = build_app(runtime)
    worker = worker_for(app)
    worker.start()
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(app, settings.slack_app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            try:
                await stop.wait()
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            server = await start_http(
                app, settings.host, settings.port, health=health_check(runtime.backend)
            )
            print(f"numbers-bot: listening on {server.url}{EVENTS_PATH}", flush=True)
            try:
                await stop.wait()
            finally:
                await server.stop()
    finally:
        await worker.stop()
        await close_app(app)
        await runtime.close()
