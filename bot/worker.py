"""Background work in the app's event loop: hold expiry, activation, resuming purchases.

Every sweep is a set of conditional updates in the service layer, so several
replicas can run it at once: each request is expired or announced by exactly
one of them, and only that one redraws its cards. A purchase left in
provisioning is resumed by one replica (a claim), at start-up and on any pass
once it has been quiet for a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.blocks.cards import active_text
from bot.handlers.cards import CardPublisher
from bot.service.container import Services
from bot.service.resuming import RESUME_GRACE, StalledPurchases

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Tick:
    expired: tuple[str, ...] = ()
    activated: tuple[str, ...] = ()
    resumed: tuple[str, ...] = ()
    pruned: int = 0


class Worker:
    def __init__(
        self,
        services: Services,
        cards: CardPublisher,
        *,
        interval: float = 30.0,
        resume_grace: timedelta = RESUME_GRACE,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.services = services
        self.cards = cards
        self.interval = interval
        self.stalled = StalledPurchases(services.deps, services.deliveries, resume_grace)
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    async def resume(self, *, quiet_only: bool = False) -> list[str]:
        """Finish purchases left in provisioning, and redraw their cards.

        At start-up every such purchase (`quiet_only=False`); on a pass only those
        quiet for the grace period. One failing request does not stop the others.
        """
        resumed = []
        for request_id in await self.stalled.claim(quiet_only=quiet_only):
            try:
                await self.cards.provision(request_id)
            except Exception:
                log.exception("resuming purchase %s failed", request_id)
                continue
            resumed.append(request_id)
        return resumed

    async def run_once(self) -> Tick:
        """One pass: expire holds, announce active numbers, resume stalled purchases."""
        purchases = self.services.purchases
        expired = await purchases.expire_holds()
        for request in expired:
            await self.cards.announce(request)
        active = await purchases.activation_sweep()
        for request in active:
            await self.cards.refresh(request)
            await self.cards.tell_requester(request, active_text(request))
        resumed = await self.resume(quiet_only=True)
        pruned = await self.services.deliveries.prune()
        return Tick(
            tuple(r.id for r in expired), tuple(r.id for r in active), tuple(resumed), pruned
        )

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
