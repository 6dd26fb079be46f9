"""Housekeeping: a private database file, a masked URL, and old delivery claims pruned."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.bootstrap import Runtime, start
from bot.worker import Worker
from storage import db, migrate
from storage.migrate import shown_url
from tests.conftest import FakeClock, make_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default: files world-readable unless the program says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.sqlite_only
async def test_the_database_and_its_wal_files_are_created_private(
    tmp_path: Path, clock: FakeClock, open_umask: None
) -> None:
    settings = make_settings(tmp_path)
    rt = await start(settings, clock=clock)
    try:
        assert await rt.services.deliveries.first_time("a write, so the WAL files exist")
        path = tmp_path / "bot.db"
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await rt.close()


@pytest.mark.sqlite_only
async def test_an_existing_database_file_is_left_as_it_is(
    tmp_path: Path, clock: FakeClock, open_umask: None
) -> None:
    path = tmp_path / "bot.db"
    path.touch(mode=0o640)
    rt = await start(make_settings(tmp_path), clock=clock)
    await rt.close()
    assert _mode(path) == 0o640


def test_shown_url_masks_the_password() -> None:
    shown = shown_url("postgresql+asyncpg://bot:s3cr%40t@db.internal:5432/numbers")
    assert "s3cr" not in shown and "***" in shown
    assert shown.startswith("postgresql+asyncpg://bot:") and shown.endswith("/numbers")
    assert shown_url("sqlite+aiosqlite:///numbers-bot.db") == "sqlite+aiosqlite:///numbers-bot.db"


def test_migrate_prints_the_url_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://bot:hunter2@db.internal/numbers"
    monkeypatch.setenv("NUMBERS_BOT_DATABASE_URL", url)
    upgraded: list[str] = []

    class Engine:
        async def dispose(self) -> None:
            return None

    async def upgrade(engine: Any) -> None:
        upgraded.append("yes")

    # No PostgreSQL server here: the command's own output is what is under test.
    monkeypatch.setattr(db, "create_engine", lambda *_a, **_k: Engine())
    monkeypatch.setattr(migrate, "upgrade", upgrade)
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert upgraded == ["yes"]
    assert "hunter2" not in out
    assert "postgresql+asyncpg://bot:***@db.internal/numbers" in out


async def test_the_worker_prunes_claims_older_than_a_day(
    runtime: Runtime, clock: FakeClock
) -> None:
    deliveries = runtime.services.deliveries
    assert await deliveries.first_time("V1:old")
    clock.advance(hours=23)
    assert await deliveries.first_time("V2:recent")
    clock.advance(hours=2)
    worker = Worker(runtime.services, resume_grace=timedelta(minutes=5))
    tick = await worker.run_once()
    assert tick.pruned == 1
    assert await deliveries.first_time("V1:old")  # forgotten: a day is long past Slack's retries
    assert not await deliveries.first_time("V2:recent")  # kept: still within the day
