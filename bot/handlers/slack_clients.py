"""The Web API client for a workspace: what the bot says to a workspace, it says with
that workspace's own token.

A request from Slack comes with its client (bolt's authorization put the workspace's
token in it). What the bot sends on its own (cards redrawn by the worker, approval
cards, role lookups) asks `SlackClients.of(workspace_id)`: with one bot token
(SLACK_BOT_TOKEN) that is the one client; with workspace installs, a client with the
token of that workspace's install, read from the installation store and kept a short
while (another replica may see the app uninstalled).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackClients:
    def __init__(
        self,
        base: AsyncWebClient,
        installs: AsyncInstallationStore | None = None,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.installs = installs
        self.ttl, self.clock = ttl, clock
        self._tokens: dict[str, tuple[float, str]] = {}

    async def of(self, workspace_id: str) -> AsyncWebClient:
        """The client speaking for `workspace_id`.

        A workspace without an install (uninstalled since) gets a client without a
        token: Slack answers it `not_authed`, which every caller already treats like
        Slack being out of reach (logged; a card nobody can see cancels its request).
        One workspace gone never stops the worker's pass for the others.
        """
        if self.installs is None:
            return self.base
        base = self.base
        return AsyncWebClient(
            token=await self._token(workspace_id),
            base_url=base.base_url,
            timeout=base.timeout,
            session=base.session,
            retry_handlers=base.retry_handlers,
            logger=base.logger,
        )

    async def _token(self, workspace_id: str) -> str | None:
        cached = self._tokens.get(workspace_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        assert self.installs is not None
        bot = await self.installs.async_find_bot(enterprise_id=None, team_id=workspace_id)
        if bot is None or not bot.bot_token:
            self._tokens.pop(workspace_id, None)
            log.warning("workspace %s has no install: nothing is sent to it", workspace_id)
            return None
        self._tokens[workspace_id] = (self.clock() + self.ttl, str(bot.bot_token))
        return str(bot.bot_token)

    def forget(self, workspace_id: str) -> None:
        """Drop a cached token at once (the app was uninstalled from the workspace)."""
        self._tokens.pop(workspace_id, None)
