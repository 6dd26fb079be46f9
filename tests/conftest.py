"""Shared fixtures: a real SQLite file, a clock tests can move, and the services."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, start
from bot.config import Settings, load_settings
from bot.service.context import Actor
from tests import postgres

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"
WORKSPACE = "T1"
ADMIN = "UADMIN"
MANAGER = "UMANAGER"
MANAGER2 = "UMANAGER2"
MEMBER = "UMEMBER"
CHANNEL = "C1"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    database_url = (
        postgres.fresh_database_url()
        if postgres.wanted()
        else f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    )
    base: dict[str, object] = {
        "database_url": database_url,
        "approvers": [MANAGER, MANAGER2],
    }
    base.update(overrides)
    return load_settings(**base)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def runtime(settings: Settings, clock: FakeClock) -> AsyncIterator[Runtime]:
    rt = await start(settings, clock=clock)
    yield rt
    await rt.close()


@pytest.fixture
def admin() -> Actor:
    return Actor(ADMIN, WORKSPACE, is_admin=True, channel_id=CHANNEL)


@pytest.fixture
def manager() -> Actor:
    return Actor(MANAGER, WORKSPACE, is_approver=True, channel_id=CHANNEL)


@pytest.fixture
def manager2() -> Actor:
    return Actor(MANAGER2, WORKSPACE, is_approver=True, channel_id=CHANNEL)


@pytest.fixture
def member() -> Actor:
    return Actor(MEMBER, WORKSPACE, channel_id=CHANNEL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, tests about SQLite's own file, locks or pragmas do not apply."""
    if not postgres.wanted():
        return
    problem = postgres.unavailable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.exit(f"PostgreSQL could not start in CI: {problem}", returncode=1)
        print(f"\nPostgreSQL could not start here, so its run is skipped: {problem}")
        for item in items:
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL could not start: {problem}"))
        return
    skip = pytest.mark.skip(reason="about SQLite itself; the run is on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)
