"""manifest.yml subscribes to the events the app listens to, and stays valid against
Slack's manifest schema (a copy in tests/data, so the check runs on any checkout)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"


def _manifest() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_manifest_is_valid_against_the_copied_schema() -> None:
    jsonschema.validate(_manifest(), json.loads(SCHEMA.read_text()))


def test_the_app_home_event_is_subscribed_at_the_events_url() -> None:
    settings = _manifest()["settings"]
    assert isinstance(settings, dict)
    events = settings["event_subscriptions"]
    assert events["bot_events"] == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
    assert events["request_url"] == settings["interactivity"]["request_url"]
    assert events["request_url"].endswith("/slack/events")


def test_installs_ask_for_the_scopes_the_manifest_grants_and_come_back_to_the_redirect() -> None:
    from bot.app import BOT_SCOPES, REDIRECT_PATH

    oauth = _manifest()["oauth_config"]
    assert isinstance(oauth, dict)
    assert list(BOT_SCOPES) == oauth["scopes"]["bot"]
    assert [url.endswith(REDIRECT_PATH) for url in oauth["redirect_urls"]] == [True]


def test_a_manifest_without_the_events_url_would_be_refused() -> None:
    broken = _manifest()
    settings = broken["settings"]
    assert isinstance(settings, dict)
    settings["event_subscriptions"] = {"request_url": "numbers.example.com"}  # no scheme
    schema = json.loads(SCHEMA.read_text())
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted a request_url without https://")
