"""Who is an admin or an approver, from the settings and Slack.

`admins`/`approvers` hold user ids (U…/W…) and user-group ids (S…); groups are
expanded with `usergroups.users.list`. With no `admins` configured, the
workspace's admins and owners (`users.info`) are the numbers admins. Answers
are cached for `ttl` seconds: role checks run on every click, and Slack rate
limits these methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.handlers.slack_clients import SlackClients
from bot.service.context import Actor

log = logging.getLogger(__name__)
V = TypeVar("V")


class _TtlCache(Generic[V]):
    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl, self.clock = ttl, clock
        self._items: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < self.clock():
            return None
        return hit[1]

    def put(self, key: str, value: V) -> V:
        self._items[key] = (self.clock() + self.ttl, value)
        return value


class Roles:
    def __init__(
        self,
        settings: Settings,
        client: AsyncWebClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        clients: SlackClients | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        # With workspace installs, each workspace's lookups go out with its own token.
        self.clients = clients or SlackClients(client)
        self._groups: _TtlCache[frozenset[str]] = _TtlCache(ttl, clock)
        self._owners: _TtlCache[bool] = _TtlCache(ttl, clock)

    async def actor(
        self,
        user_id: str,
        workspace_id: str,
        channel_id: str | None = None,
        *,
        team_id: str | None = None,
    ) -> Actor:
        """`workspace_id` is the installation's team, `team_id` the person's own."""
        if team_id is not None and team_id != workspace_id:
            # Slack Connect: their own workspace's admins are not ours. No lookups.
            return Actor(user_id, workspace_id, channel_id=channel_id, team_id=team_id)
        if self.settings.admins:
            is_admin = user_id in await self._members(self.settings.admins, workspace_id)
        else:
            is_admin = await self._workspace_admin(user_id, workspace_id)
        is_approver = user_id in await self._members(self.settings.approvers, workspace_id)
        return Actor(user_id, workspace_id, is_admin, is_approver, channel_id, team_id)

    async def approvers(self, workspace_id: str) -> list[str]:
        """Every approver's user id (groups expanded), in a stable order."""
        return sorted(await self._members(self.settings.approvers, workspace_id))

    async def _members(self, ids: Iterable[str], workspace_id: str) -> frozenset[str]:
        users: set[str] = set()
        for item in ids:
            if item.startswith("S"):
                users |= await self._group(item, workspace_id)
            else:
                users.add(item)
        return frozenset(users)

    async def _group(self, group_id: str, workspace_id: str) -> frozenset[str]:
        # Keyed by workspace too: each workspace's answer comes with its own token.
        key = f"{workspace_id}/{group_id}"
        cached = self._groups.get(key)
        if cached is not None:
            return cached
        client = await self.clients.of(workspace_id)
        try:
            response = await client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            # Fail closed: a group we cannot read grants nothing (and is not cached).
            log.warning("cannot expand user group %s: %s", group_id, exc.response.get("error"))
            return frozenset()
        return self._groups.put(key, frozenset(response.get("users") or []))

    async def _workspace_admin(self, user_id: str, workspace_id: str) -> bool:
        key = f"{workspace_id}/{user_id}"
        cached = self._owners.get(key)
        if cached is not None:
            return cached
        client = await self.clients.of(workspace_id)
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return False
        user = response.get("user") or {}
        return self._owners.put(key, bool(user.get("is_admin") or user.get("is_owner")))
