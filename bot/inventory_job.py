"""The inventory sync as a job: what `Worker` runs at start-up and on schedule.

A carrier that keeps an inventory (Kazoo) is the system of record and the bot's
database its copy (`bot.service.inventory_sync.InventorySync`). The job knows
what a sync needs from outside the service layer: the installation's workspace
(Slack's `auth.test`), Slack users by email (for assignments) and the units of
work the sync writes with (the services' own: one write lock per database).

Several replicas may run it at once: every write of a sync is a conditional
update on the row's version, so the second replica finds nothing left to
change and audits nothing (tests/kazoo/test_kazoo_schedule.py).
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.backends.carrier import Carrier
from bot.config import Settings
from bot.domain.mirror import SyncReport
from bot.handlers.slack_people import slack_users_by_email
from bot.service.context import Clock, utc_now
from bot.service.inventory_sync import InventorySync
from bot.service.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


class InventoryJob:
    def __init__(
        self,
        carrier: Carrier,
        uow: UnitOfWorkFactory,
        settings: Settings,
        client: AsyncWebClient,
        *,
        clock: Clock = utc_now,
        workspace_id: str | None = None,
    ) -> None:
        assert settings.kazoo_account_id, "the kazoo backend's settings name the account"
        self.carrier = carrier
        self.uow = uow
        self.settings = settings
        self.client = client
        self.clock = clock
        self.workspace_id = workspace_id

    async def _workspace(self) -> str:
        if self.workspace_id is None:
            answer = await self.client.auth_test()
            self.workspace_id = str(answer["team_id"])
        return self.workspace_id

    async def __call__(self) -> SyncReport:
        """One full sync; a fresh Slack lookup per run (emails may have changed)."""
        sync = InventorySync(
            self.carrier,
            self.uow,
            workspace_id=await self._workspace(),
            root_account_id=str(self.settings.kazoo_account_id),
            root_name=self.settings.default_account_name,
            slack_user_for=slack_users_by_email(self.client),
            clock=self.clock,
        )
        report = await sync.run()
        log.info("kazoo sync: %s", report.line())
        return report
