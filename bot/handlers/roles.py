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
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Profile:
    """What `users.info` says about a person that roles depend on."""

    is_admin: bool  # an admin or owner of their own workspace
    team_id: str
    enterprise_id: str | None


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
        self._profiles: _TtlCache[_Profile] = _TtlCache(ttl, clock)

    async def actor(
        self,
        user_id: str,
        workspace_id: str,
        channel_id: str | None = None,
        *,
        team_id: str | None = None,
        org_id: str | None = None,
    ) -> Actor:
        """`workspace_id` is the installation's team, `team_id` the person's own.

        An event (the App Home opened) and a republish name no team: `users.info` says
        it, so a person of another workspace never gets roles from their own admin
        rights. `org_id` is an organization-wide install's organization: any workspace
        of it is at home.
        """
        if team_id is None:
            team_id = await self._home_team(user_id, workspace_id, org_id)
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
        profile = await self._profile(user_id, workspace_id)
        return profile is not None and profile.is_admin

    async def _home_team(self, user_id: str, workspace_id: str, org_id: str | None) -> str | None:
        """The person's own team; None when Slack cannot say (then nothing is refused)."""
        profile = await self._profile(user_id, workspace_id)
        if profile is None or not profile.team_id:
            return None
        if org_id is not None and profile.enterprise_id == org_id:
            return workspace_id  # another workspace of the same organization
        return profile.team_id

    async def _profile(self, user_id: str, workspace_id: str) -> _Profile | None:
        key = f"{workspace_id}/{user_id}"
        cached = self._profiles.get(key)
        if cached is not None:
            return cached
        client = await self.clients.of(workspace_id)
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return None
        user = response.get("user") or {}
        grid = user.get("enterprise_user") or {}
        return self._profiles.put(
            key,
            _Profile(
                is_admin=bool(user.get("is_admin") or user.get("is_owner")),
                team_id=str(user.get("team_id") or ""),
                enterprise_id=str(grid.get("enterprise_id") or "") or None,
            ),
        )
