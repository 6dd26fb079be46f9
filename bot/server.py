"""Serving the app: aiohttp at `/slack/events` (+ `GET /health`, `/ready`, `/metrics`), or
Socket Mode.

On SIGTERM an HTTP replica drains (`drain`): `/ready` answers 503 so the load
balancer stops sending, new Slack requests are refused with 503 (Slack retries
them elsewhere), the requests and listeners in hand get `drain_seconds` to
finish, and the worker finishes its pass. Whatever is still running after that
is cancelled: a purchase cut off in provisioning stays there and is resumed by
another replica (bot/service/resuming.py), as after a crash.

Before any of it, `bot/startup.py` checks the Slack tokens; the signals are
watched from the first line, so a start-up that waits still ends on them, and
a second signal ends the drain at once (docs/decisions/startup.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.app import build_app, close_app, kit_for, metrics_for, worker_for
from bot.bootstrap import start
from bot.config import Settings, SettingsError
from bot.health import (
    HEALTH_CACHE_SECONDS,
    HealthCheck,
    cached_health,
    credentials_refused,
    health_check,
    with_database,
)
from bot.metrics import CONTENT_TYPE_LATEST, LoopLagSampler
from bot.startup import (
    Stopped,
    backoff,
    check_bot_token,
    listen_problem,
    socket_mode_url,
    wait_or_stop,
)
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
    app: AsyncApp,
    health: HealthCheck | None = None,
    *,
    lifecycle: Lifecycle | None = None,
    health_cache_seconds: float = HEALTH_CACHE_SECONDS,
) -> web.Application:
    """The HTTP app; `health` (see `bot.health.health_check`) says whether the backend answers.

    `GET /health` is unauthenticated, so its probe is cached and shared
    (`cached_health`): no number of requests makes more than one backend probe
    per `health_cache_seconds`.
    """
    if health is not None:
        health = cached_health(health, seconds=health_cache_seconds)
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
    app: AsyncApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    health: HealthCheck | None = None,
    health_cache_seconds: float = HEALTH_CACHE_SECONDS,
) -> HttpServer:
    """Start serving `app`; port 0 picks a free port (see `HttpServer.url`)."""
    lifecycle = Lifecycle()
    application = web_app(
        app, health, lifecycle=lifecycle, health_cache_seconds=health_cache_seconds
    )
    runner = web.AppRunner(application, access_log=None, shutdown_timeout=CLOSE_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
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


# After SIGTERM/SIGINT, what is running gets this long to close what it opened
# before it is cancelled; with the second below, the process ends within 5 s. An
# HTTP replica serving also drains first (`NUMBERS_BOT_DRAIN_SECONDS`, only while
# work is in hand); a second signal ends the drain at once.
STOP_GRACE_SECONDS = 3.0
CANCEL_GRACE_SECONDS = 1.0
# A Socket Mode WebSocket that has not opened by then is given up and asked for anew.
SOCKET_OPEN_SECONDS = 15.0


class _Signals:
    """The first SIGTERM/SIGINT sets `stop`; a second one sets `hurry` too."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.hurry = asyncio.Event()

    def __call__(self) -> None:
        if self.stop.is_set():
            self.hurry.set()
        self.stop.set()


@contextlib.contextmanager
def _stop_on_signals(signals: _Signals) -> Iterator[None]:
    """SIGTERM (docker stop, systemd) and SIGINT, from the first line of `serve`."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, signals)
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
    signals = _Signals(stop or asyncio.Event())
    with _stop_on_signals(signals):
        body = asyncio.ensure_future(_serve(settings, signals.stop))
        stopper = asyncio.ensure_future(signals.stop.wait())
        hurry = asyncio.ensure_future(signals.hurry.wait())
        try:
            await asyncio.wait({body, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not body.done():
                # `_serve` closes what it opened once it sees `stop` (an HTTP replica
                # drains first); a step that cannot watch it (a migration, a slow
                # close) is cancelled after the grace, or at a second signal.
                grace = STOP_GRACE_SECONDS
                if not settings.slack_app_token:
                    grace += settings.drain_seconds
                await asyncio.wait(
                    {body, hurry}, timeout=grace, return_when=asyncio.FIRST_COMPLETED
                )
                if not body.done():
                    log.warning("stopping: start-up or shutdown is slow, cancelling it")
                    body.cancel()
                    await asyncio.wait({body}, timeout=CANCEL_GRACE_SECONDS)
        finally:
            stopper.cancel()
            hurry.cancel()
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
    freeze_start_up_heap()
    try:
        if settings.slack_app_token:
            await _socket_mode(app, settings, stop, first_url, serving=worker.start)
        else:
            backend = health_check(runtime.backend, backend_name=settings.backend)
            health = with_database(backend, runtime.engine)
            try:
                server = await start_http(app, settings.host, settings.port, health=health)
            except OSError as exc:
                raise listen_problem(exc, settings.host, settings.port) from None
            worker.start()
            lag = LoopLagSampler(runtime.metrics.loop_lag.observe)
            lag.start()
            print(f"numbers-bot: listening on {server.url}{EVENTS_PATH}", flush=True)
            try:
                await stop.wait()
                log.info("stopping: draining for up to %g s", settings.drain_seconds)
                await drain(server, worker, settings.drain_seconds)
            finally:
                await _bounded(lag.stop())
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
