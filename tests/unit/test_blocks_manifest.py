"""manifest.yml is valid against Slack's manifest schema and declares what the app uses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Slack's manifest schema, kept in the repository so this check runs everywhere.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"


def _manifest() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_manifest_is_valid_against_slacks_schema() -> None:
    import jsonschema

    jsonschema.validate(_manifest(), json.loads(SCHEMA.read_text()))


def test_manifest_declares_the_command_and_the_scopes_the_app_uses() -> None:
    manifest = _manifest()
    features = manifest["features"]
    assert isinstance(features, dict)
    assert [c["command"] for c in features["slash_commands"]] == ["/numbers"]
    assert features["app_home"]["home_tab_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])  # type: ignore[index]
    assert scopes == {
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "users:read.email",
        "usergroups:read",
        "im:write",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # type: ignore[index]
