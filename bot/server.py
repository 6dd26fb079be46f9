"""Serving the app: aiohttp at `/slack/events` (+ `GET /health`, `/ready`, `/metrics`), or
Socket Mode.

On SIGTERM an HTTP replica drains (`drain`): `/ready` answers 503 so the load
balancer stops sending, new Slack requests are refused with 503 (Slack retries
them elsewhere), the requests and listeners in hand get `drain_seconds` to
finish, and the worker finishes its pass. Whatever is still running after that
is cancelled: a purchase cut off in provisioning stays there and is resumed by
another replica (bot/service/resuming.py), as after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, close_app, kit_for, metrics_for, worker_for
from bot.bootstrap import start
from bot.config import Settings, SettingsError
from bot.health import HealthCheck, credentials_refused, health_check, with_database
from bot.metrics import CONTENT_TYPE_LATEST, LoopLagSampler
from bot.worker import Worker

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# Probes a load balancer or Prometheus keeps asking while the replica drains.
PROBES = frozenset({"/health", "/ready", "/metrics"})
# After draining, what aiohttp still gives a request in hand before cancelling it.
CLOSE_SECONDS = 1.0
REFUSED = "numbers-bot is restarting; Slack retries this request on another replica."


class Lifecycle:
    """Whether this replica takes requests, and how many HTTP requests it is serving."""

    def __init__(self, *, ready: bool = True) -> None:
        self.ready = ready
        self.draining = False
        self.in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def taking_requests(self) -> bool:
        return self.ready and not self.draining

    def begin(self) -> None:
        self.in_flight += 1
        self._quiet.clear()

    def end(self) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            self._quiet.set()

    async def quiet(self) -> None:
        await self._quiet.wait()


def web_app(
    app: AsyncApp, health: HealthCheck | None = None, *, lifecycle: Lifecycle | None = None
) -> web.Application:
    """The HTTP app; `health` (see `bot.health.health_check`) says whether the backend answers."""
    lifecycle = lifecycle or Lifecycle()
    metrics = metrics_for(app)

    @web.middleware
    async def admit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PROBES:
            return await handler(request)
        if not lifecycle.taking_requests:
            if metrics is not None:
                metrics.http_refused.inc()
            return web.json_response(
                {"ok": False, "error": REFUSED}, status=503, headers={"Connection": "close"}
            )
        lifecycle.begin()
        if metrics is not None:
            metrics.http_in_flight.inc()
        try:
            return await handler(request)
        finally:
            lifecycle.end()
            if metrics is not None:
                metrics.http_in_flight.dec()

    async def ready_route(_: web.Request) -> web.Response:
        if lifecycle.taking_requests:
            return web.json_response({"ready": True})
        detail = "shutting down" if lifecycle.draining else "starting"
        return web.json_response({"ready": False, "detail": detail}, status=503)

    async def metrics_route(_: web.Request) -> web.Response:
        if metrics is None:
            raise web.HTTPNotFound()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def events(request: web.Request) -> web.Response:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def health_route(_: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"ok": True})
        report = await health()
        return web.json_response(report, status=200 if report.get("ok") else 503)

    application = web.Application(middlewares=[admit])
    application.router.add_post(EVENTS_PATH, events)
    application.router.add_get("/health", health_route)
    application.router.add_get("/ready", ready_route)
    application.router.add_get("/metrics", metrics_route)
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
    lifecycle: Lifecycle
    app: AsyncApp

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    async def drain(self, within: float) -> bool:
        """Refuse new requests; wait up to `within` s for those in hand and their listeners.

        True when everything finished in time; otherwise the listeners left are cancelled.
        """
        self.lifecycle.draining = True

        async def quiet() -> None:
            await self.lifecycle.quiet()
            # Listeners go on after their ack (a purchase provisions after the click).
            with contextlib.suppress(KeyError):
                await kit_for(self.app).inflight.idle()

        try:
            await asyncio.wait_for(quiet(), within)
        except TimeoutError:
            # Out of time: what is left is cancelled here, while the database is still
            # open, so each listener rolls back cleanly rather than at the loop's close.
            with contextlib.suppress(KeyError):
                await kit_for(self.app).inflight.cancel()
            return False
        return True

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_http(
    app: AsyncApp, host: str = "127.0.0.1", port: int = 0, *, health: HealthCheck | None = None
) -> HttpServer:
    """Start serving `app`; port 0 picks a free port (see `HttpServer.url`)."""
    lifecycle = Lifecycle()
    runner = web.AppRunner(
        web_app(app, health, lifecycle=lifecycle), access_log=None, shutdown_timeout=CLOSE_SECONDS
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return HttpServer(runner, f"http://{bound_host}:{bound_port}", lifecycle, app)


def freeze_start_up_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    The modules, the app and its wiring are ~150,000 objects that live as long as
    the process; every full (generation 2) collection walked them all and held the
    event loop for 60-200 ms (bench/loop_lag.py). Frozen, a full pass walks only
    what was made since.
    """
    gc.collect()
    gc.freeze()
    log.info("start-up heap frozen: %d objects", gc.get_freeze_count())


async def drain(server: HttpServer, worker: Worker, within: float) -> None:
    """Stop taking requests, and give the requests, listeners and worker pass in hand
    `within` seconds to finish; the worker is stopped either way."""
    finished, _ = await asyncio.gather(server.drain(within), worker.stop(grace=within))
    if not finished:
        log.warning(
            "stopping with work in hand after %g s; purchases cut off in provisioning"
            " are resumed by another replica",
            within,
        )


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
    freeze_start_up_heap()
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
            health = with_database(health_check(runtime.backend), runtime.engine)
            server = await start_http(app, settings.host, settings.port, health=health)
            lag = LoopLagSampler(runtime.metrics.loop_lag.observe)
            lag.start()
            print(f"numbers-bot: listening on {server.url}{EVENTS_PATH}", flush=True)
            try:
                await stop.wait()
                log.info("stopping: draining for up to %g s", settings.drain_seconds)
                await drain(server, worker, settings.drain_seconds)
            finally:
                await lag.stop()
                await server.stop()
    finally:
        await worker.stop()
        await close_app(app)
        await runtime.close()
