"""Background work in the app's event loop: hold expiry, activation, resuming purchases,
and with the kazoo backend the mirror sync (at start-up, every `sync minutes`, and
soon after Kazoo refused a change because a number moved on).

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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.service.container import Services
from bot.service.ports import Reply
from bot.service.resuming import RESUME_GRACE, StalledPurchases

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
# One full inventory sync (`bot.inventory_job.InventoryJob`).
MirrorRun = Callable[[], Awaitable[object]]
# After a refused change wakes the mirror loop, wait this long so a burst of
# refusals (a bulk change) costs one sync, not one each.
RESYNC_GATHER_SECONDS = 5.0


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
        *,
        interval: float = 30.0,
        resume_grace: timedelta = RESUME_GRACE,
        sleep: Sleep = asyncio.sleep,
        mirror: MirrorRun | None = None,
        sync_every: float = 15 * 60.0,
    ) -> None:
        self.services = services
        self.interval = interval
        self.stalled = StalledPurchases(services.deps, services.deliveries, resume_grace)
        self._sleep = sleep
        self.mirror = mirror
        self.sync_every = sync_every
        self._task: asyncio.Task[None] | None = None
        self._mirror_task: asyncio.Task[None] | None = None
        # Set while a pass runs, so `stop(grace=...)` lets it finish rather than cut it.
        self._passing = asyncio.Event()
        self._stopping = False

    async def resume(self, *, quiet_only: bool = False) -> list[str]:
        """Finish purchases left in provisioning, and redraw their cards.

        At start-up every such purchase (`quiet_only=False`); on a pass only those
        quiet for the grace period. One failing request does not stop the others.
        """
        resumed = []
        for request_id in await self.stalled.claim(quiet_only=quiet_only):
            try:
                await self.services.purchases.provision(request_id, Reply())
            except Exception:
                log.exception("resuming purchase %s failed", request_id)
                continue
            resumed.append(request_id)
        return resumed

    async def run_once(self) -> Tick:
        """One pass: expire holds, announce active numbers, resume stalled purchases.
        Who is told of each is the service's (bot/service/purchase/notify.py)."""
        expired = await self.services.purchases.expire_holds()
        active = await self.services.lifecycle.activation_sweep()
        resumed = await self.resume(quiet_only=True)
        pruned = await self.services.deliveries.prune()
        return Tick(
            tuple(r.id for r in expired), tuple(r.id for r in active), tuple(resumed), pruned
        )

    async def sync_mirror(self) -> bool:
        """One full mirror sync now; False when there is no mirror or the sync failed."""
        if self.mirror is None:
            return False
        telemetry = self.services.deps.telemetry
        # Numbers marked before this point are covered by this sync.
        telemetry.queue_depth("resync", len(self.services.deps.due.take()))
        began = time.perf_counter()
        try:
            await self.mirror()
        except Exception:
            # Kazoo down, Slack down: the mirror stays as it was until the next sync.
            log.exception("kazoo sync failed")
            telemetry.sync_run("failed", time.perf_counter() - began)
            return False
        telemetry.sync_run("ok", time.perf_counter() - began)
        return True

    async def mirror_forever(self) -> None:
        """A sync at start-up, then every `sync_every` seconds, sooner when a number is due."""
        while True:
            await self.sync_mirror()
            if await self.services.deps.due.wait(self.sync_every):
                await self._sleep(RESYNC_GATHER_SECONDS)

    async def run_forever(self) -> None:
        self._passing.set()
        try:
            await self.resume()
        except Exception:
            log.exception("resuming provisioning failed")
        while not self._stopping:
            self._passing.set()
            try:
                await self.run_once()
            except Exception:
                # A failed pass (database busy, Slack down) must not stop the next ones.
                log.exception("background pass failed")
            finally:
                self._passing.clear()
            if self._stopping:
                break
            await self._sleep(self.interval)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._task = loop.create_task(self.run_forever())
        if self._mirror_task is None and self.mirror is not None:
            self._mirror_task = loop.create_task(self.mirror_forever())

    async def stop(self, *, grace: float = 0.0) -> None:
        """Stop; with `grace`, a pass under way gets that long to finish first.

        A sync is cut at once: each page is its own transaction and the next sync
        (here or on another replica) reads everything again.
        """
        self._stopping = True
        if grace > 0 and self._task is not None and self._passing.is_set():
            await asyncio.wait([self._task], timeout=grace)
        for task in (self._task, self._mirror_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._mirror_task = None
        self._stopping = False
