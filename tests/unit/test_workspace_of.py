"""The workspace of a request in an organization-wide (Enterprise Grid) install, on
Slack's own payload shapes (tests/data/slack/payloads), whatever names the team."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_bolt.authorization.authorize_result import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext

from bot.handlers.teams import teams_of, workspace_of

PAYLOADS = Path(__file__).parents[1] / "data" / "slack" / "payloads"
Json = dict[str, Any]


def _load(name: str) -> Json:
    if name.endswith(".form"):
        return dict(parse_qsl((PAYLOADS / name).read_text().strip()))
    loaded: Json = json.loads((PAYLOADS / name).read_text())
    return loaded


def _org_context(body: Json) -> AsyncBoltContext:
    context = AsyncBoltContext()
    context["authorize_result"] = AuthorizeResult(enterprise_id="E111", team_id=None)
    context["is_enterprise_install"] = True
    team = body.get("team")
    context["team_id"] = team.get("id") if isinstance(team, dict) else body.get("team_id")
    return context


def _org_wide(body: Json) -> Json:
    """The same payload as an organization-wide install sends it: no team at the top."""
    if "team" in body:
        body["team"] = None  # an interaction: its organization is named apart
        body["enterprise"] = {"id": "E111", "name": "Sandbox Org"}
    body["is_enterprise_install"] = True
    return body


@pytest.mark.parametrize(
    "name", ["view_submission.json", "block_actions.modal.json", "slash_command.form"]
)
def test_the_persons_team_is_the_workspace(name: str) -> None:
    body = _org_wide(_load(name))
    context = _org_context(body)
    teams = teams_of(body, context)
    assert not teams.is_outsider
    assert workspace_of(body, teams, context) == "T111"


def test_a_view_names_it_when_the_person_does_not() -> None:
    body = _org_wide(_load("view_submission.json"))
    body["user"].pop("team_id")
    context = _org_context(body)
    assert workspace_of(body, teams_of(body, context), context) == "T111"


def test_an_event_names_its_team() -> None:
    body = _load("event_app_home_opened.json")
    body["authorizations"] = [{"enterprise_id": "E111", "team_id": None}]
    context = _org_context(body)
    context["team_id"] = None  # bolt reads the authorization's team: none for an org install
    assert workspace_of(body, teams_of(body, context), context) == "T111"


def test_nothing_naming_a_team_gives_none_never_an_empty_workspace() -> None:
    body: Json = {"type": "block_actions", "user": {"id": "W1"}, "team": None}
    context = _org_context(body)
    assert workspace_of(body, teams_of(body, context), context) is None
