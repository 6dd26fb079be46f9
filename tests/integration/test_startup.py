"""Settings and migrations: a bad setting is one line; the schema migrates on start."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.config import SettingsError, load_settings
from storage.migrate import alembic_config


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NUMBERS_BOT_PORT": "abc"}, "NUMBERS_BOT_PORT"),
        ({"NUMBERS_BOT_BACKEND": "asterisk"}, "NUMBERS_BOT_BACKEND"),
        ({"NUMBERS_BOT_ADMINS": "bob"}, "NUMBERS_BOT_ADMINS"),
        ({"NUMBERS_BOT_SLACK_API_URL": "slack.com"}, "NUMBERS_BOT_SLACK_API_URL"),
        ({"NUMBERS_BOT_CONFIG": "/nonexistent.yml"}, "NUMBERS_BOT_CONFIG"),
    ],
)
def test_bad_setting_names_itself(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(named)
    assert "\n" not in str(err.value)


def test_yaml_file_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bot.yml"
    config.write_text(
        "approvers: [U1, S2]\n"
        "approvals: {mode: over_amount, threshold: '5.00'}\n"
        "holds: {quote_minutes: 5}\n"
        "service_plan: {local: {monthly: '1.25', activation: '0'}}\n"
        "carrier: {failure_rate: 0.5, latency_ms: 10}\n"
    )
    monkeypatch.setenv("NUMBERS_BOT_CONFIG", str(config))
    monkeypatch.setenv("NUMBERS_BOT_APPROVERS", "U9")
    settings = load_settings()
    assert settings.approvers == ["U9"]
    assert settings.approvals.mode == "over_amount"
    assert str(settings.approvals.threshold) == "5.00"
    assert settings.holds.quote_minutes == 5
    assert str(settings.plan.numbers["local"].monthly) == "1.25"  # type: ignore[index]
    assert settings.carrier.failure_rate == 0.5


def test_bad_yaml_value_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "bot.yml"
    config.write_text("approvals: {mode: sometimes}\n")
    monkeypatch.setenv("NUMBERS_BOT_CONFIG", str(config))
    with pytest.raises(SettingsError, match=r"^approvals\.mode"):
        load_settings()


def test_cli_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env={"NUMBERS_BOT_PORT": "x", "PATH": ""},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "NUMBERS_BOT_PORT" in result.stderr and "Traceback" not in result.stderr


def test_migrate_command_creates_schema_with_wal(tmp_path: Path) -> None:
    db = tmp_path / "numbers.db"
    env = {"NUMBERS_BOT_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "PATH": ""}
    for _ in range(2):  # safe to run twice
        result = subprocess.run(
            [sys.executable, "-m", "bot", "migrate"],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert {"numbers", "assignments", "e911_addresses", "purchase_requests"} <= tables
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        version = conn.execute("select version_num from alembic_version").fetchone()[0]
    assert version == _head_revision()


def _head_revision() -> str:
    # The newest migration, whatever its id: several may land, each with its own.
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.db import create_engine
    from storage.migrate import upgrade
    from storage.models import Base

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}")
    await upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []
