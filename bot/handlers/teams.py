"""Only people of the workspace the app is installed in may use it.

Through Slack Connect, people of another organization share channels with this
workspace, see its cards and can type its commands. Their payloads name their own
team; the installation's team comes from `auth.test` (bolt's authorization). A
request from another team is answered with a refusal and reaches no listener: they
may change nothing and read nothing. The service layer refuses them again (`Actor`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.blocks.refusals import outsider_modal
from bot.service.context import EXTERNAL

log = logging.getLogger(__name__)

# Where the middleware leaves the teams for `actor_of`.
USER_TEAM_KEY = "numbers_user_team"
INSTALLED_TEAM_KEY = "numbers_installed_team"
INSTALLED_ORG_KEY = "numbers_installed_org"  # an organization-wide install's organization

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Teams:
    """The person's team and enterprise, and the installation's."""

    user_team: str | None
    user_enterprise: str | None
    installed_team: str | None
    installed_enterprise: str | None

    @property
    def is_outsider(self) -> bool:
        if not self.user_team or not (self.installed_team or self.installed_enterprise):
            return False  # cannot tell (an event naming no team): the listeners' own checks apply
        if self.installed_team:
            return self.user_team != self.installed_team
        # An organization-wide install: every workspace of the organization is at home.
        return self.user_enterprise != self.installed_enterprise


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def user_team_of(body: Json) -> str | None:
    """The acting person's own team, as the payload names it."""
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])  # interactions: block_actions, view_submission, ...
    if body.get("command"):
        return _id(body.get("team_id"))  # a slash command is sent with its typer's team
    event = body.get("event")
    if isinstance(event, dict):
        return _id(event.get("user_team"))
    return None


def user_enterprise_of(body: Json) -> str | None:
    return (
        _id(body.get("enterprise"))
        or _id(body.get("enterprise_id"))
        or _id(
            (body.get("team") or {}).get("enterprise_id")
            if isinstance(body.get("team"), dict)
            else None
        )
    )


def workspace_of(body: Json, teams: Teams, context: AsyncBoltContext) -> str | None:
    """The workspace a request belongs to, which scopes everything it reads and writes.

    A workspace install: the installation's team. An organization-wide (Enterprise
    Grid) install has no team of its own: the workspace is the team of the person, else
    of the view they acted in, else the one the payload names (an event's `team_id`),
    whatever the payload's shape. None when nothing names one (never "").
    """
    if teams.installed_team:
        return teams.installed_team
    view = body.get("view")
    view_team = _id(view.get("team_id")) if isinstance(view, dict) else None
    return (
        teams.user_team
        or view_team
        or _id(body.get("team"))
        or _id(body.get("team_id"))
        or context.team_id
        or None
    )


def teams_of(body: Json, context: AsyncBoltContext) -> Teams:
    installed = context.authorize_result
    team = installed.team_id if installed is not None else None
    enterprise = installed.enterprise_id if installed is not None else None
    if enterprise and (context.is_enterprise_install or team == enterprise):
        team = None  # organization-wide: the installation has no team of its own
    if team is None and enterprise is None:
        view = body.get("view")
        if isinstance(view, dict):
            team = _id(view.get("app_installed_team_id"))
    return Teams(user_team_of(body), user_enterprise_of(body), team, enterprise)


async def _refuse(body: Json, context: AsyncBoltContext) -> BoltResponse:
    if body.get("command"):
        reply: Json = {"response_type": "ephemeral", "text": EXTERNAL}
        return BoltResponse(
            status=200, body=json.dumps(reply), headers={"content-type": "application/json"}
        )
    if body.get("type") == "view_submission":
        reply = {"response_action": "update", "view": outsider_modal(EXTERNAL).to_dict()}
        return BoltResponse(
            status=200, body=json.dumps(reply), headers={"content-type": "application/json"}
        )
    if context.respond is not None and context.response_url:
        try:
            await context.respond(text=EXTERNAL, response_type="ephemeral", replace_original=False)
        except (SlackApiError, OSError) as exc:
            log.warning("cannot tell an outsider they are refused: %s", exc)
    return BoltResponse(status=200, body="")


async def only_installed_team(
    request: AsyncBoltRequest, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """bolt middleware: refuse people of other workspaces before any listener runs."""
    body: Json = request.body
    context = request.context
    teams = teams_of(body, context)
    if teams.is_outsider:
        log.info("refused %s of team %s", context.user_id, teams.user_team)
        return await _refuse(body, context)
    context[USER_TEAM_KEY] = teams.user_team
    context[INSTALLED_TEAM_KEY] = workspace_of(body, teams, context)
    context[INSTALLED_ORG_KEY] = None if teams.installed_team else teams.installed_enterprise
    return await next()
