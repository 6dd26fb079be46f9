"""What a listener finds in bolt's context (put there by the middleware in bot/app.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.blocks.refusals import NO_WORKSPACE
from bot.config import Settings
from bot.domain.errors import NotAllowed
from bot.handlers.errors import tell
from bot.handlers.roles import Roles
from bot.handlers.teams import INSTALLED_ORG_KEY, INSTALLED_TEAM_KEY, USER_TEAM_KEY
from bot.service.container import Services
from bot.service.context import Actor

if TYPE_CHECKING:
    from bot.handlers.home_publish import HomeRedraws
    from bot.metrics import Metrics

KIT_KEY = "numbers_kit"
Listener = TypeVar("Listener", bound=Callable[..., Awaitable[Any]])


class Track(Protocol):
    """Wraps a listener so `InFlight` knows while it runs."""

    def __call__(self, listener: Listener, /) -> Listener: ...


class InFlight:
    """Counts listeners still working after their ack, so callers can await quiet.

    Tests and the console await `idle()` after a click instead of sleeping.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # Told when a listener ends, with its context and whether it ended well (metrics).
        self.finished: Callable[[AsyncBoltContext, bool], None] | None = None
        # Listeners and background work (App Home redraws), kept referenced while they run
        # and cancelled together when a replica stops.
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` in the background, counted like a listener (App Home redraws)."""
        self._count += 1
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._count -= 1
        if not self._count:
            self._idle.set()

    def track(self, listener: Listener) -> Listener:
        @functools.wraps(listener)  # bolt reads the wrapped signature to inject arguments
        async def tracked(*args: Any, **kwargs: Any) -> Any:
            self._count += 1
            self._idle.clear()
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            ok = False
            try:
                result = await listener(*args, **kwargs)
                ok = True
                return result
            except Exception as error:
                # Report here rather than raise: bolt drops an already-sent ack when a
                # listener raises after it, and Slack would wait 3 s for nothing.
                context = kwargs.get("context")
                if not isinstance(context, AsyncBoltContext):
                    raise
                await tell(error, context)
                return None
            finally:
                context = kwargs.get("context")
                if self.finished is not None and isinstance(context, AsyncBoltContext):
                    self.finished(context, ok)
                self._tasks.discard(task)
                self._count -= 1
                if not self._count:
                    self._idle.set()

        return tracked  # type: ignore[return-value]

    async def idle(self) -> None:
        await self._idle.wait()

    async def cancel(self) -> int:
        """Cancel the listeners still running and wait until they have unwound.

        For a replica that is stopping: each unit of work rolls back, and a purchase
        cut off in provisioning stays there for another replica to resume.
        Returns how many were cancelled.
        """
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)


@dataclass
class Kit:
    services: Services
    settings: Settings
    roles: Roles
    inflight: InFlight = field(default_factory=InFlight)
    # Redraws the App Homes of a workspace when something they show changed.
    homes: HomeRedraws = field(default=cast("HomeRedraws", None))
    # The Web API client's connection pool, when build_app made it (closed by close_app).
    http: aiohttp.ClientSession | None = None
    # The runtime's metrics (bot/metrics.py), served at `/metrics`.
    metrics: Metrics | None = None


def kit_of(context: AsyncBoltContext) -> Kit:
    kit = context[KIT_KEY]
    assert isinstance(kit, Kit)
    return kit


async def actor_of(context: AsyncBoltContext, channel_id: str | None = None) -> Actor:
    """The acting user with their roles, resolved after the ack (it may call Slack)."""
    user_id = context.user_id
    if not user_id:
        raise RuntimeError("this request names no user")
    installed = context.get(INSTALLED_TEAM_KEY) or context.team_id
    if not installed:
        # Never a phantom "" workspace that pools people of every workspace.
        raise NotAllowed(NO_WORKSPACE)
    return await kit_of(context).roles.actor(
        user_id,
        installed,
        channel_id or context.channel_id,
        team_id=context.get(USER_TEAM_KEY),
        org_id=context.get(INSTALLED_ORG_KEY),
    )
