"""Publishing the App Home (`views.publish`), for one person or for everyone who opened it.

Kept free of bolt's context so the card publisher and the worker can republish too:
whatever changes a count, a request or an account republishes the homes that show it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import home_view
from bot.blocks.refusals import outsider_home
from bot.blocks.requests import MayDecide
from bot.handlers.roles import Roles
from bot.handlers.slack_clients import SlackClients
from bot.service.container import Services
from bot.service.context import EXTERNAL, Actor

log = logging.getLogger(__name__)
_RATE_LIMIT_HANDLERS = (AsyncRateLimitErrorRetryHandler,)


def decider(services: Services, actor: Actor) -> MayDecide:
    """Whether `actor` is offered Approve or Reject for a request (the service decides)."""
    return services.deps.decider(actor)


async def publish_home(
    services: Services,
    client: AsyncWebClient,
    actor: Actor,
    *,
    account_id: str | None = None,
    remember: bool = True,
) -> None:
    """Draw `actor`'s App Home and publish it (the account they chose, else the default).

    A person of another workspace (Slack Connect) gets a Home that says the app is for
    this workspace's people, and nothing else; they are not remembered as a viewer."""
    if actor.is_external:
        await client.views_publish(user_id=actor.user_id, view=outsider_home(EXTERNAL))
        return
    data = await services.overview.home(actor, account_id=account_id, remember=remember)
    view = home_view(data, decider(services, actor))
    await client.views_publish(user_id=actor.user_id, view=view)


Sleep = Callable[[float], Awaitable[None]]
# Redraws of one workspace's Homes at once: Slack rate-limits views.publish per workspace.
PARALLEL = 4
# A 429 without Retry-After (Slack always sends one): wait this long.
DEFAULT_RETRY_AFTER = 1.0
# Attempts of one redraw under rate limiting before it is left to the next change.
ATTEMPTS = 3


class HomeRedraws:
    """Redraws the App Home of everyone who opened it lately, when something it shows changed.

    `changed()` returns at once: a change never waits for redraws. Redraws coalesce: at
    most one is in flight per viewer, and a change meanwhile marks the viewer for one more
    redraw after it, drawn from the state of that moment (the latest state wins, however
    many changes came). Slack's `ratelimited` is honoured: its `Retry-After` pauses every
    redraw of that workspace, then the redraw is drawn afresh and sent again. `views.publish`
    goes through a client without slack_sdk's own rate-limit retry, which would sleep and
    re-send a view that may be stale by then.
    """

    def __init__(
        self,
        services: Services,
        roles: Roles,
        client: AsyncWebClient,
        *,
        clients: SlackClients | None = None,
        spawn: Callable[[Coroutine[Any, Any, None]], object] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.services = services
        self.roles = roles
        # With workspace installs, each workspace's Homes go out with its own token.
        self.clients = clients
        self.client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            session=client.session,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            headers=client.headers,
            retry_handlers=[
                h for h in client.retry_handlers if not isinstance(h, _RATE_LIMIT_HANDLERS)
            ],
        )
        self._spawn = spawn or _background
        self._sleep = sleep
        self._running: set[tuple[str, str]] = set()
        self._again: set[tuple[str, str]] = set()
        self._listing: set[str] = set()
        self._relist: set[str] = set()
        self._paused: dict[str, asyncio.Future[None]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def changed(self, workspace_id: str) -> None:
        """Something the Home shows changed in `workspace_id`: redraw it, in the background."""
        if workspace_id in self._listing:
            self._relist.add(workspace_id)  # the viewers are being read: read them again
            return
        self._listing.add(workspace_id)
        self._spawn(self._fan_out(workspace_id))

    async def _fan_out(self, workspace_id: str) -> None:
        try:
            while True:
                self._relist.discard(workspace_id)
                try:
                    viewers = await self.services.overview.home_viewers(workspace_id)
                except Exception:
                    log.exception("cannot read who opened the App Home")
                    return
                for viewer in viewers:
                    self._request((workspace_id, viewer.user_id))
                if workspace_id not in self._relist:
                    return
        finally:
            self._listing.discard(workspace_id)

    def _request(self, key: tuple[str, str]) -> None:
        if key in self._running:
            self._again.add(key)  # one more redraw once this one is done, not one per change
            return
        self._running.add(key)
        self._spawn(self._redraw(key))

    async def _redraw(self, key: tuple[str, str]) -> None:
        try:
            while True:
                self._again.discard(key)
                await self._publish(*key)
                if key not in self._again:
                    return
        finally:
            self._running.discard(key)

    async def _publish(self, workspace_id: str, user_id: str) -> None:
        slots = self._slots.setdefault(workspace_id, asyncio.Semaphore(PARALLEL))
        for _ in range(ATTEMPTS):
            pause = self._paused.get(workspace_id)
            if pause is not None:
                await asyncio.shield(pause)
            try:
                async with slots:
                    actor = await self.roles.actor(user_id, workspace_id)
                    if actor.is_external:
                        return  # their Home already says there is nothing for them here
                    client = await self._client_of(workspace_id)
                    await publish_home(self.services, client, actor, remember=False)
                return
            except SlackApiError as exc:
                if exc.response.get("error") != "ratelimited":
                    log.warning(
                        "views.publish for %s failed: %s", user_id, exc.response.get("error")
                    )
                    return
                self._pause(workspace_id, _retry_after(exc))
            except Exception:
                log.exception("cannot republish the App Home of %s", user_id)
                return
        log.warning("views.publish for %s still rate limited; the next change redraws it", user_id)

    async def _client_of(self, workspace_id: str) -> AsyncWebClient:
        """This client (no rate-limit retry of its own) with the workspace's token."""
        if self.clients is None or self.clients.installs is None:
            return self.client
        token = (await self.clients.of(workspace_id)).token
        base = self.client
        return AsyncWebClient(
            token=token,
            base_url=base.base_url,
            session=base.session,
            timeout=base.timeout,
            ssl=base.ssl,
            proxy=base.proxy,
            headers=base.headers,
            retry_handlers=base.retry_handlers,
        )

    def _pause(self, workspace_id: str, seconds: float) -> None:
        """Every redraw of the workspace waits `seconds` (one pause, however many hit it)."""
        if workspace_id in self._paused:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._paused[workspace_id] = done

        async def wait() -> None:
            try:
                await self._sleep(seconds)
            finally:
                del self._paused[workspace_id]
                done.set_result(None)

        self._spawn(wait())


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(float(raw), 0.0) if raw is not None else DEFAULT_RETRY_AFTER
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


_TASKS: set[asyncio.Task[None]] = set()


def _background(coro: Coroutine[Any, Any, None]) -> object:
    task = asyncio.get_running_loop().create_task(coro)
    _TASKS.add(task)  # a reference, so the task is not collected while it runs
    task.add_done_callback(_TASKS.discard)
    return task
