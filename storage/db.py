"""Engine creation: SQLite gets WAL, a busy timeout and foreign keys on every connection."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite opens its own transaction handling; pragmas must run outside one.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


IMMEDIATE = "sqlite_immediate"


def _sqlite_begin(conn: Any) -> None:
    # A writing unit of work takes the write lock at BEGIN, so two writers queue on the
    # busy timeout instead of one failing on a stale WAL snapshot when it upgrades.
    # Readers keep a deferred BEGIN and never wait for writers.
    immediate = conn.get_execution_options().get(IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# The database holds e911 (home) addresses: only the bot's own user may read it.
PRIVATE_FILE_MODE = 0o600


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory ones."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database:
        return None
    if database == ":memory:" or database.startswith("file:") or "mode" in parsed.query:
        return None  # in memory, or a URI SQLite opens itself: not ours to create
    return Path(database)


def create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only, unless it exists.

    SQLite would create it with the umask's mode (often world-readable); it
    creates the -wal and -shm files with the database file's permissions.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except (FileExistsError, FileNotFoundError):
        return  # there already, or no such directory (SQLite says so on connect)
    os.close(fd)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    is_sqlite = url.startswith("sqlite")
    if (path := sqlite_file(url)) is not None:
        create_private_file(path)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    elif make_url(url).get_backend_name() == "postgresql":
        # A writer waiting on another's row lock gives up as SQLite's busy timeout does,
        # so the person hears "busy, try again" instead of waiting with no end.
        kwargs["connect_args"] = {"server_settings": {"lock_timeout": str(BUSY_TIMEOUT_MS)}}
        kwargs["pool_pre_ping"] = True  # a replica outlives a database restart
    engine = create_async_engine(url, **kwargs)
    if is_sqlite:
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(sync_engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling is broken).
            dbapi_connection.isolation_level = None

        event.listen(sync_engine, "begin", _sqlite_begin)
    return engine


# Keys of PostgreSQL advisory locks: writers that read, decide, then insert many rows.
MIRROR_TURN = 0x6E756D6D  # the inventory sync


async def take_turn(session: AsyncSession, key: int) -> None:
    """On PostgreSQL, queue this transaction behind any other holding `key`, across replicas.

    Row-level conditions decide races of single rows. The inventory sync reads a page and
    inserts what it did not find, which two replicas would both do; taking turns makes it
    behave as it does on SQLite, whose writers already take turns (BEGIN IMMEDIATE). The
    lock is the transaction's: commit or rollback gives it back.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
