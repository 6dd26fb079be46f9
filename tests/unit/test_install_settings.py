"""Workspace installs' settings: all three OAuth settings and a token key Fernet accepts,
else start-up stops with one line naming the setting (and never showing a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.__main__ import main
from bot.config import SettingsError, load_settings

KEY = Fernet.generate_key().decode()
STATE_SECRET = "s3cr3t-state-0123456789abcdef"
GOOD = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-s3cret-value",
    "NUMBERS_BOT_STATE_SECRET": STATE_SECRET,
    "NUMBERS_BOT_TOKEN_KEY": KEY,
    "SLACK_SIGNING_SECRET": "signing-s3cret",
}
OTHERS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "NUMBERS_BOT_CONFIG", "NUMBERS_BOT_BACKEND")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no numbers-bot.yml of the working directory leaks in
    for name in (*GOOD, *OTHERS):
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _refusal() -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


def test_installs_are_on_with_the_three_settings_and_a_key(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.installs_enabled and settings.has_slack_credentials
    shown = repr(settings)
    for secret in (KEY, STATE_SECRET, GOOD["SLACK_CLIENT_SECRET"]):
        assert secret not in shown


def test_one_bot_token_leaves_installs_off(env: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "NUMBERS_BOT_STATE_SECRET"):
        env.delenv(name)
    env.delenv("NUMBERS_BOT_TOKEN_KEY")
    env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    settings = load_settings()
    assert not settings.installs_enabled and settings.has_slack_credentials


@pytest.mark.parametrize(
    "missing", ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "NUMBERS_BOT_STATE_SECRET"]
)
def test_each_missing_oauth_setting_is_named(env: pytest.MonkeyPatch, missing: str) -> None:
    env.delenv(missing)
    assert _refusal().startswith(f"{missing}: required with ")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "NUMBERS_BOT_TOKEN_KEY: required with workspace installs (OAuth); a Fernet key"),
        ("not-a-key", "NUMBERS_BOT_TOKEN_KEY: is not a valid key; a Fernet key"),
        (f"{KEY},short", "NUMBERS_BOT_TOKEN_KEY: is not a valid key"),
    ],
)
def test_a_missing_or_invalid_token_key_stops_start_up(
    env: pytest.MonkeyPatch, value: str | None, says: str
) -> None:
    if value is None:
        env.delenv("NUMBERS_BOT_TOKEN_KEY")
    else:
        env.setenv("NUMBERS_BOT_TOKEN_KEY", value)
    refusal = _refusal()
    assert refusal.startswith(says)
    assert "\n" not in refusal and "not-a-key" not in refusal and KEY not in refusal


def test_several_keys_are_accepted_newest_first(env: pytest.MonkeyPatch) -> None:
    env.setenv("NUMBERS_BOT_TOKEN_KEY", f"{Fernet.generate_key().decode()}, {KEY}")
    assert load_settings().installs_enabled


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("NUMBERS_BOT_STATE_SECRET", "short", "NUMBERS_BOT_STATE_SECRET: must be at least 16"),
        ("SLACK_APP_TOKEN", "xapp-1", "SLACK_APP_TOKEN: workspace installs (OAuth) are served"),
        ("SLACK_BOT_TOKEN", "xoxb-1", "SLACK_BOT_TOKEN: unset it with workspace installs"),
        ("NUMBERS_BOT_BACKEND", "kazoo", "NUMBERS_BOT_BACKEND: kazoo serves one workspace"),
    ],
)
def test_settings_that_do_not_go_with_installs(
    env: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    env.setenv(name, value)
    if name == "NUMBERS_BOT_BACKEND":
        env.setenv("KAZOO_URL", "https://kazoo.example.com")
        env.setenv("KAZOO_API_KEY", "k" * 64)  # Kazoo keys are 64 characters
        env.setenv("KAZOO_ACCOUNT_ID", "0123456789abcdef0123456789abcdef")
    assert _refusal().startswith(says)


def test_no_signing_secret_with_installs(env: pytest.MonkeyPatch) -> None:
    env.delenv("SLACK_SIGNING_SECRET")
    assert _refusal() == "SLACK_SIGNING_SECRET: required with workspace installs (OAuth)"


def test_the_command_prints_one_line(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("NUMBERS_BOT_TOKEN_KEY", "not-a-key")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numbers-bot: NUMBERS_BOT_TOKEN_KEY: is not a valid key")
    assert err.count("\n") == 1
