"""Once-only side effects across replicas: Slack re-deliveries and repeated submissions.

A key (a view id and hash, an event id) is claimed in the database; only the
first claim proceeds, whichever replica receives the delivery.
"""

from __future__ import annotations

from datetime import timedelta

from bot.service.context import Deps

# A claim only has to outlive Slack's re-deliveries (minutes) and a person's retries.
KEEP_CLAIMS = timedelta(days=1)


class DeliveryService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def first_time(self, key: str) -> bool:
        async with self.deps.uow() as uow:
            claimed = await uow.deliveries.claim(key[:200], self.deps.clock())
            await uow.commit()
            return claimed

    async def forget(self, key: str) -> None:
        """The work under `key` failed visibly: let the person try again."""
        async with self.deps.uow() as uow:
            await uow.deliveries.release(key[:200])
            await uow.commit()

    async def prune(self, older_than: timedelta = KEEP_CLAIMS) -> int:
        """Drop claims older than `older_than` (the table would otherwise grow forever)."""
        async with self.deps.uow() as uow:
            pruned = await uow.deliveries.prune(self.deps.clock() - older_than)
            await uow.commit()
        return pruned
