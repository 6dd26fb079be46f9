"""A real PostgreSQL for the tests, started from the `pgserver` package.

`NUMBERS_BOT_TEST_DATABASE=postgresql` makes every test's settings point at a
database of its own, copied from a template that was migrated once (a copy
takes milliseconds; migrating each one would dominate the run). The server is
started on first use, in a folder of this run, and stopped when pytest exits.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any
from urllib.parse import quote

ENV = "NUMBERS_BOT_TEST_DATABASE"
TEMPLATE = "numbers_template"
_names = itertools.count(1)


def wanted() -> bool:
    return os.environ.get(ENV, "sqlite").lower() in ("postgresql", "postgres")


@cache
def _server() -> Any:
    import pgserver  # a dev dependency; imported only when PostgreSQL is wanted

    folder = tempfile.mkdtemp(prefix="numbers-bot-pg-")
    return pgserver.get_server(folder, cleanup_mode="stop")


def _socket_dir() -> str:
    uri: str = _server().get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def unavailable() -> str | None:
    """Why PostgreSQL cannot be started here, or None when it runs."""
    try:
        _server().psql("SELECT 1;")
    except Exception as exc:  # any reason at all is reported, never raised
        return f"{type(exc).__name__}: {exc}"
    return None


def url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(_socket_dir(), safe='/')}"


@cache
def _template() -> str:
    """Create and migrate the template database once per run."""
    from bot.bootstrap import start
    from bot.config import load_settings

    server = _server()
    server.psql(f"DROP DATABASE IF EXISTS {TEMPLATE};")
    server.psql(f"CREATE DATABASE {TEMPLATE};")

    async def migrate() -> None:
        runtime = await start(load_settings(database_url=url(TEMPLATE)))
        await runtime.close()

    # make_settings may be called inside a running event loop: migrate on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, migrate()).result()
    return TEMPLATE


def fresh_database_url() -> str:
    """A new, migrated, empty database of its own."""
    template = _template()
    name = f"t_{os.getpid()}_{next(_names)}"
    _server().psql(f"CREATE DATABASE {name} TEMPLATE {template};")
    return url(name)
