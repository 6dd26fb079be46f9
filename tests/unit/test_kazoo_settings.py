"""The kazoo backend's settings: accepted when sane, else one line naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

ACCOUNT = "0123456789abcdef0123456789ABCDEF"
KEY = "7f3c9e1b2d4a6f8e0c1b3d5f7a9e2c4b" * 2
GOOD = {
    "NUMBERS_BOT_BACKEND": "kazoo",
    "KAZOO_URL": "https://kazoo.example.com:8443",
    "KAZOO_API_KEY": KEY,
    "KAZOO_ACCOUNT_ID": ACCOUNT,
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    # No numbers-bot.yml of the working directory leaks in.
    monkeypatch.chdir(tmp_path)
    for name in (
        "NUMBERS_BOT_CONFIG",
        "NUMBERS_BOT_KAZOO_SYNC_MINUTES",
        "NUMBERS_BOT_KAZOO_TIMEOUT_SECONDS",
        *GOOD,
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_kazoo_backend_is_accepted_with_the_three_settings(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.backend == "kazoo"
    assert settings.kazoo_url == "https://kazoo.example.com:8443"
    assert settings.kazoo_account_id == ACCOUNT.lower()
    assert settings.kazoo_api_key == KEY
    assert settings.kazoo_sync_minutes == 15


def test_a_trailing_v2_is_dropped_from_the_url(env: pytest.MonkeyPatch) -> None:
    env.setenv("KAZOO_URL", "http://10.0.0.5:8000/v2/")
    assert load_settings().kazoo_url == "http://10.0.0.5:8000"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("KAZOO_URL", "kazoo.example.com", "KAZOO_URL: must be an http(s) URL with a host"),
        ("KAZOO_URL", "ftp://kazoo.example.com", "KAZOO_URL: must be an http(s) URL"),
        ("KAZOO_URL", "https://admin:pw@kazoo:8443", "KAZOO_URL: must not carry a user"),
        ("KAZOO_URL", "https://kazoo:port", "KAZOO_URL: is not a URL"),
        ("KAZOO_URL", "", "KAZOO_URL: required with NUMBERS_BOT_BACKEND=kazoo"),
        ("KAZOO_API_KEY", "", "KAZOO_API_KEY: required with NUMBERS_BOT_BACKEND=kazoo"),
        ("KAZOO_API_KEY", "   ", "KAZOO_API_KEY: required"),
        ("KAZOO_API_KEY", "abc def", "KAZOO_API_KEY: must be the key alone"),
        # Kazoo answers 400 to a key of another length: caught before starting.
        ("KAZOO_API_KEY", KEY[:-1], "KAZOO_API_KEY: must be 64 characters"),
        ("KAZOO_ACCOUNT_ID", "acct000000aa", "KAZOO_ACCOUNT_ID: must be a Kazoo account id, 32"),
        ("KAZOO_ACCOUNT_ID", ACCOUNT + "0", "KAZOO_ACCOUNT_ID: must be a Kazoo account id"),
        ("KAZOO_ACCOUNT_ID", "g" * 32, "KAZOO_ACCOUNT_ID: must be a Kazoo account id"),
    ],
)
def test_a_bad_kazoo_setting_stops_start_up_with_one_line(
    env: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(says), message
    assert "\n" not in message
    # Neither the key nor a password in the URL is echoed.
    assert KEY not in message and "pw@" not in message


def test_a_missing_setting_is_named(env: pytest.MonkeyPatch) -> None:
    env.delenv("KAZOO_ACCOUNT_ID")
    with pytest.raises(SettingsError, match=r"^KAZOO_ACCOUNT_ID: must be a Kazoo account id"):
        load_settings()


def test_the_embedded_backend_ignores_the_kazoo_settings(env: pytest.MonkeyPatch) -> None:
    env.setenv("NUMBERS_BOT_BACKEND", "embedded")
    env.setenv("KAZOO_ACCOUNT_ID", "not-an-id")
    assert load_settings().backend == "embedded"


def test_the_sync_interval_comes_from_the_environment_or_yaml(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("NUMBERS_BOT_KAZOO_SYNC_MINUTES", "5")
    assert load_settings().kazoo_sync_minutes == 5
    env.delenv("NUMBERS_BOT_KAZOO_SYNC_MINUTES")
    config = tmp_path / "bot.yml"
    config.write_text("kazoo:\n  sync_minutes: 60\n")
    assert load_settings(config).kazoo_sync_minutes == 60


def test_the_kazoo_timeout_comes_from_the_environment_or_yaml(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_settings().kazoo_timeout_seconds == 60.0
    env.setenv("NUMBERS_BOT_KAZOO_TIMEOUT_SECONDS", "90")
    assert load_settings().kazoo_timeout_seconds == 90.0
    env.delenv("NUMBERS_BOT_KAZOO_TIMEOUT_SECONDS")
    config = tmp_path / "bot.yml"
    config.write_text("kazoo:\n  timeout_seconds: 45\n  sync_minutes: 5\n")
    assert load_settings(config).kazoo_timeout_seconds == 45.0


@pytest.mark.parametrize("value", ["0", "601", "slow"])
def test_a_bad_kazoo_timeout_is_named(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("NUMBERS_BOT_KAZOO_TIMEOUT_SECONDS", value)
    with pytest.raises(SettingsError, match=r"^NUMBERS_BOT_KAZOO_TIMEOUT_SECONDS: "):
        load_settings()


@pytest.mark.parametrize("value", ["0", "1441", "often"])
def test_a_bad_sync_interval_is_named(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("NUMBERS_BOT_KAZOO_SYNC_MINUTES", value)
    with pytest.raises(SettingsError, match=r"^NUMBERS_BOT_KAZOO_SYNC_MINUTES: "):
        load_settings()


def test_the_api_key_is_masked_in_repr_and_str(env: pytest.MonkeyPatch) -> None:
    env.setenv("SLACK_BOT_TOKEN", "xoxb-secret-token")
    settings = load_settings()
    for shown in (repr(settings), str(settings)):
        assert KEY not in shown
        assert "xoxb-secret-token" not in shown
        assert "kazoo_api_key='**********'" in shown
        assert ACCOUNT.lower() in shown  # the account id is not a secret


def test_a_bad_secret_is_not_echoed(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.delenv("KAZOO_API_KEY")
    config = tmp_path / "bot.yml"
    config.write_text("kazoo_api_key: 918273645\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert str(caught.value).startswith("KAZOO_API_KEY: ")
    assert "918273645" not in str(caught.value)
    config.write_text("port: 0\n")
    with pytest.raises(SettingsError, match=r"\(got 0\)"):  # other values are still shown
        load_settings(config)
