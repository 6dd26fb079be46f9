"""Which interrupted purchases to resume, claimed so one replica resumes each.

A request stays in `provisioning` when the process buying it stopped (a
crash, a restart, a redraw that failed before redraws were best-effort).
Provisioning is idempotent per number, so resuming is always safe; the claim
only keeps several replicas from doing the same work at once. A request that
a live purchase is still moving (its items change) is left alone until it
has been quiet for the grace period.
"""

from __future__ import annotations

from datetime import timedelta

from bot.service.context import Deps
from bot.service.deliveries import DeliveryService

# Longer than any single carrier order takes, so a live purchase is never taken over.
RESUME_GRACE = timedelta(minutes=5)


class StalledPurchases:
    def __init__(
        self, deps: Deps, deliveries: DeliveryService, grace: timedelta = RESUME_GRACE
    ) -> None:
        if grace <= timedelta(0):
            raise ValueError("the grace period must be positive")
        self.deps = deps
        self.deliveries = deliveries
        self.grace = grace

    async def claim(self, *, quiet_only: bool = True) -> list[str]:
        """Requests this replica should resume now; each is claimed by one replica.

        `quiet_only=False` (start-up) takes every request in provisioning: the
        process that was buying them is gone. A claim is per request, per last
        change and per grace period since it, so a resume that itself stalls
        is taken again one grace period later.
        """
        now = self.deps.clock()
        async with self.deps.uow(write=False) as uow:
            activity = await uow.requests.provisioning_activity()
        self.deps.telemetry.queue_depth("provisioning", len(activity))
        claimed: list[str] = []
        for request_id, last in activity.items():
            quiet = now - last
            if quiet_only and quiet < self.grace:
                continue
            periods = max(0, int(quiet / self.grace))
            key = f"resume:{request_id}:{last.isoformat()}:{periods}"
            if await self.deliveries.first_time(key):
                claimed.append(request_id)
        return claimed
