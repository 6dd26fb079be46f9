"""Background work in the app's event loop: hold expiry, activation, resuming purchases.

Every sweep is a set of conditional updates in the service layer, so several
replicas can run it at once: each request is expired or announced by exactly
one of them, and only that one redraws its cards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.blocks.cards import active_text
from bot.handlers.cards import CardPublisher
from bot.service.container import Services

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Tick:
    expired: tuple[str, ...] = ()
    activated: tuple[str, ...] = ()


class Worker:
    def __init__(
        self,
        services: Services,
        cards: CardPublisher,
        *,
        interval: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.services = services
        self.cards = cards
        self.interval = interval
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    async def resume(self) -> list[str]:
        """Finish purchases a restart left in provisioning, and redraw their cards."""
        purchases = self.services.purchases
        ids = await purchases.resume_provisioning(self.cards.refresh)
        for request_id in ids:
            await self.cards.finished(await purchases.reload(request_id))
        return ids

    async def run_once(self) -> Tick:
        """One pass: expire holds, then announce numbers that became active."""
        purchases = self.services.purchases
        expired = await purchases.expire_holds()
        for request in expired:
            await self.cards.announce(request)
        active = await purchases.activation_sweep()
        for request in active:
            await self.cards.refresh(request)
            await self.cards.tell_requester(request, active_text(request))
        return Tick(tuple(r.id for r in expired), tuple(r.id for r in active))

    async def run_forever(self) -> None:
        try:
            await self.resume()
        except Exception:
            log.exception("resuming provisioning failed")
        while True:
            try:
                await self.run_once()
            except Exception:
                # A failed pass (database busy, Slack down) must not stop the next ones.
                log.exception("background pass failed")
            await self._sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
