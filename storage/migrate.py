"""Bring the database schema up to date with Alembic (on start and `numbers-bot migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
# The key of the PostgreSQL advisory lock migrations take (see storage/db.py for the others).
MIGRATE_TURN = 0x6E756D6E


def shown_url(url: str) -> str:
    """The database URL as it may be printed or logged: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The config is a ConfigParser: a `%` (in a password) must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Upgrade to head on the given engine (one transaction; safe to run on every start)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one after another; the later ones then
            # find the schema at head and do nothing. The lock ends with the transaction.
            # A long migration may take longer than writers' lock_timeout: wait it out.
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_TURN})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
