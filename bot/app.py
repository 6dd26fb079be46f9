"""The Slack app: `build_app(runtime)` wires bolt, the listeners and the services.

Nothing here runs at import time; the console, the server and the tests each
build their own app from a `Runtime` (bot/bootstrap.py).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.install import NOT_INSTALLED, failure_page, success_page
from bot.bootstrap import Installs, Runtime
from bot.config import Settings
from bot.handlers import register_all
from bot.handlers.cards import CardPublisher
from bot.handlers.errors import on_error
from bot.handlers.home_publish import HomeRedraws
from bot.handlers.kit import KIT_KEY, InFlight, Kit
from bot.handlers.roles import Roles
from bot.handlers.slack_clients import SlackClients
from bot.handlers.teams import only_installed_team
from bot.inventory_job import InventoryJob
from bot.logs import bind, new_request_id, unbind
from bot.metrics import Metrics
from bot.worker import Worker

_KITS: weakref.WeakKeyDictionary[AsyncApp, Kit] = weakref.WeakKeyDictionary()
_MIRRORS: weakref.WeakKeyDictionary[AsyncApp, InventoryJob] = weakref.WeakKeyDictionary()

# What a workspace install grants the bot: the manifest's bot scopes (a test holds them equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "im:write",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Web API client, retrying rate limits (honouring Retry-After), 5xx and resets.

    Given a session, every call reuses its connections; without one, slack_sdk
    opens a new connection per call.
    """
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


async def _skip_redeliveries(
    request: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    # Slack re-delivers what it thinks was not acknowledged in time; the first delivery
    # is still being handled here, so doing it again could only repeat a side effect.
    if request.headers.get("x-slack-retry-num"):
        return BoltResponse(status=200, body="")
    return await next()


# What bolt's context carries for the metrics: when the request came and its surface.
_STARTED_KEY = "numbers_started"
_SURFACE_KEY = "numbers_surface"
REQUEST_ID_KEY = "numbers_request_id"


def surface_of(body: dict[str, Any]) -> str:
    """The Slack surface a request came from, a metric label from a small fixed set."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind == "block_actions":
        return "action"
    if kind in ("view_submission", "view_closed"):
        return "view"
    if kind in ("event_callback", "url_verification"):
        return "event"
    if kind == "block_suggestion":
        return "options"
    if kind in ("shortcut", "message_action"):
        return "shortcut"
    return "other"


class ObservedApp(AsyncApp):
    """bolt's app, naming each request for the logs and timing its acknowledgement.

    bolt runs global middleware one after another (`next()` only marks it as
    passed), so nothing there wraps the listener: this wraps the dispatch, which
    returns once the listener has acked. The listener's own end is recorded by
    `InFlight`. Listener tasks start inside the dispatch, so they inherit the
    request id and workspace the logs read (bot/logs.py).
    """

    metrics: Metrics | None = None

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        context = req.context
        surface = surface_of(req.body)
        context[_STARTED_KEY] = started
        context[_SURFACE_KEY] = surface
        context[REQUEST_ID_KEY] = request_id = new_request_id()
        tokens = bind(request_id, context.team_id or context.enterprise_id)
        try:
            return await super().async_dispatch(req)
        finally:
            if self.metrics is not None:
                self.metrics.acked(surface, time.perf_counter() - started)
            unbind(tokens)


def _listener_done(metrics: Metrics) -> Callable[[AsyncBoltContext, bool], None]:
    def done(context: AsyncBoltContext, ok: bool) -> None:
        started = context.get(_STARTED_KEY)
        if isinstance(started, float):
            surface = str(context.get(_SURFACE_KEY) or "other")
            metrics.handled(surface, time.perf_counter() - started, ok=ok)

    return done


def build_app(
    runtime: Runtime, *, client: AsyncWebClient | None = None, roles: Roles | None = None
) -> AsyncApp:
    """The bolt app. `client` defaults to one for `settings.slack_api_url` with the bot token."""
    settings = runtime.settings
    http = None
    if client is None:
        http = aiohttp.ClientSession()
        client = web_client(settings, http)
    installs = runtime.installs
    clients = SlackClients(client, installs.installations if installs else None)
    roles = roles or Roles(settings, client, clients=clients)
    inflight = InFlight()
    homes = HomeRedraws(runtime.services, roles, client, clients=clients, spawn=inflight.spawn)
    cards = CardPublisher(runtime.services, client, roles, settings, homes, clients=clients)
    # The service decides who is told of a purchase; the card publisher is how (Slack).
    runtime.services.purchases.connect(cards)
    kit = Kit(
        services=runtime.services,
        settings=settings,
        roles=roles,
        inflight=inflight,
        homes=homes,
        http=http,
        metrics=runtime.metrics,
    )
    kit.inflight.finished = _listener_done(runtime.metrics)
    app = ObservedApp(
        client=client,
        signing_secret=settings.slack_signing_secret,
        # Socket Mode has no signatures to check; HTTP always does.
        request_verification_enabled=not settings.slack_app_token,
        # Workspace installs: each request is authorized with its workspace's bot token.
        oauth_flow=oauth_flow(settings, installs, client) if installs else None,
        # Said to a person of a workspace whose install is gone (uninstalled, revoked).
        user_facing_authorize_error_message=NOT_INSTALLED,
    )

    async def inject(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context[KIT_KEY] = kit
        await next()

    app.metrics = runtime.metrics
    app.use(_skip_redeliveries)
    app.use(only_installed_team)
    app.use(inject)
    app.error(on_error)
    register_all(app, kit.inflight)
    if installs is not None:
        _forget_revoked_tokens(app, installs, clients, kit.inflight)
    _KITS[app] = kit
    deps = runtime.services.deps
    if deps.carrier.inventory is not None:
        _MIRRORS[app] = InventoryJob(
            deps.carrier,
            deps.uow,
            settings,
            client,
            clock=runtime.services.deps.clock,
        )
    return app


def oauth_flow(settings: Settings, installs: Installs, client: AsyncWebClient) -> AsyncOAuthFlow:
    """bolt's OAuth flow on our stores: `/slack/install` and Slack's redirect back."""
    assert settings.slack_client_id and settings.slack_client_secret  # settings validation

    async def installed(args: AsyncSuccessArgs) -> BoltResponse:
        utils = args.settings.state_utils
        return BoltResponse(
            status=200,
            body=success_page(args.installation.team_name),
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Set-Cookie": [utils.build_set_cookie_for_deletion()],
            },
        )

    async def refused(args: AsyncFailureArgs) -> BoltResponse:
        utils = args.settings.state_utils
        return BoltResponse(
            status=args.suggested_status_code,
            body=failure_page(args.reason, args.settings.install_path),
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Set-Cookie": [utils.build_set_cookie_for_deletion()],
            },
        )

    return AsyncOAuthFlow(
        client=client,
        settings=AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            callback_options=AsyncCallbackOptions(success=installed, failure=refused),
            installation_store=installs.installations,
            installation_store_bot_only=True,
            state_store=installs.states,
        ),
    )


def _forget_revoked_tokens(
    app: AsyncApp, installs: Installs, clients: SlackClients, inflight: InFlight
) -> None:
    """`app_uninstalled` and `tokens_revoked`: the workspace's tokens are deleted at once."""
    revoked = AsyncTokenRevocationListeners(installs.installations)

    async def uninstalled(context: AsyncBoltContext) -> None:
        await revoked.handle_app_uninstalled_events(context)
        clients.forget(context.team_id or "")

    async def tokens_revoked(event: dict[str, object], context: AsyncBoltContext) -> None:
        await revoked.handle_tokens_revoked_events(event, context)
        clients.forget(context.team_id or "")

    app.event("app_uninstalled")(inflight.track(uninstalled))
    app.event("tokens_revoked")(inflight.track(tokens_revoked))


def mirror_for(app: AsyncApp) -> InventoryJob | None:
    """The kazoo backend's mirror sync (None with the embedded backend)."""
    return _MIRRORS.get(app)


def metrics_for(app: AsyncApp) -> Metrics | None:
    """The app's metrics; None for an app `build_app` did not make."""
    kit = _KITS.get(app)
    return kit.metrics if kit is not None else None


def kit_for(app: AsyncApp) -> Kit:
    return _KITS[app]


async def close_app(app: AsyncApp) -> None:
    """Close the Web API connections `build_app` opened (none when a client was given)."""
    kit = _KITS[app]
    if kit.http is not None and not kit.http.closed:
        await kit.http.close()


def worker_for(app: AsyncApp, *, interval: float | None = None) -> Worker:
    """The background worker of the app's services (who is told is theirs: the card publisher
    is connected to them as the notifier).

    With the kazoo backend it also keeps the mirror in step with Kazoo."""
    kit = _KITS[app]
    return Worker(
        kit.services,
        interval=kit.settings.worker.interval_seconds if interval is None else interval,
        resume_grace=timedelta(seconds=kit.settings.worker.resume_after_seconds),
        mirror=_MIRRORS.get(app),
        sync_every=kit.settings.kazoo_sync_minutes * 60.0,
    )
