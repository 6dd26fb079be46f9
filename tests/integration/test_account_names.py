"""Account names beyond ASCII (issue 13, item 5): found by their key, look-alikes refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command

from bot.bootstrap import Runtime
from bot.domain.errors import Conflict
from bot.service.context import Actor
from storage.migrate import alembic_config


async def test_a_name_beyond_ascii_is_found_whatever_its_case(
    runtime: Runtime, admin: Actor
) -> None:
    accounts = runtime.services.accounts
    created = await accounts.create(admin, "Örebro")
    for typed in ("Örebro", "örebro", "ÖREBRO"):
        assert (await accounts.use(admin, "C9", typed)).id == created.id


async def test_one_name_in_two_cases_is_one_account(runtime: Runtime, admin: Actor) -> None:
    accounts = runtime.services.accounts
    await accounts.create(admin, "Équipe")
    with pytest.raises(Conflict, match="An account named “Équipe” already exists"):
        await accounts.create(admin, "éQUIPE")


async def test_a_look_alike_of_an_existing_name_is_refused_naming_it(
    runtime: Runtime, admin: Actor
) -> None:
    accounts = runtime.services.accounts
    await accounts.list_accounts(admin)  # the default account, Main
    with pytest.raises(Conflict) as refused:
        await accounts.create(admin, "Мain")  # a Cyrillic М
    assert "looks like the existing account “Main”" in refused.value.message
    assert len(await accounts.list_accounts(admin)) == 1


def test_the_migration_backfills_keys_and_survives_names_that_now_collide(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{db}")
    command.upgrade(config, "0004")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "insert into workspaces (id, name, created_at) values ('T1', '', '2026-01-01')"
        )
        for i, name in enumerate(["Équipe", "éQUIPE", "Örebro"]):
            conn.execute(
                "insert into accounts (id, workspace_id, name, created_at) values (?, 'T1', ?, ?)",
                (f"a{i}", name, f"2026-01-0{i + 1}"),
            )
    command.upgrade(config, "head")
    with sqlite3.connect(db) as conn:
        keys = dict(conn.execute("select id, name_key from accounts").fetchall())
    assert keys == {"a0": "équipe", "a1": "équipe #a1", "a2": "örebro"}
