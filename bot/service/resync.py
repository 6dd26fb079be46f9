"""Numbers the carrier says moved on: the mirror syncs sooner when there are any.

A change Kazoo refuses because the number changed there (SmartPBX, another
tool) means the bot's mirror is behind. The person is shown Kazoo's words at
once; the number is marked here and the mirror loop (bot/worker.py) wakes
for a sync instead of waiting for the schedule.
"""

from __future__ import annotations

import asyncio
import contextlib


class MirrorDue:
    """Marks from the services, read by the mirror loop. One per process."""

    def __init__(self) -> None:
        self.numbers: set[str] = set()
        self._wake = asyncio.Event()

    def mark(self, e164: str) -> None:
        self.numbers.add(e164)
        self._wake.set()

    def take(self) -> set[str]:
        """The numbers marked since the last take (the sync about to run covers them)."""
        taken, self.numbers = self.numbers, set()
        self._wake.clear()
        return taken

    async def wait(self, seconds: float) -> bool:
        """Until a number is marked (True) or `seconds` pass (False)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
            return True
        return False
