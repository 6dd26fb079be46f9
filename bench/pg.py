"""A throwaway PostgreSQL from the `pgserver` package (a dev dependency), for benchmarks and tests.

`pgserver` ships PostgreSQL's binaries in its wheel and starts a server on a Unix
socket in a folder of our choosing, as any user (root included), with no system
install. The server stops when the process that started it exits.
"""

from __future__ import annotations

import tempfile
from functools import cache
from typing import Any
from urllib.parse import quote


@cache
def server() -> Any:
    import pgserver  # imported here: only the PostgreSQL runs need it

    return pgserver.get_server(tempfile.mkdtemp(prefix="numbers-bot-pg-"), cleanup_mode="stop")


def url(database: str) -> str:
    """The SQLAlchemy URL (asyncpg over the server's Unix socket) of one database."""
    uri: str = server().get_uri()
    socket_dir = uri.split("host=", 1)[1].split("&", 1)[0]
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(socket_dir, safe='/')}"


def create_database(name: str, *, template: str | None = None) -> str:
    """A new empty database (or a copy of `template`); returns its URL."""
    listed = server().psql(f"SELECT datname FROM pg_database WHERE datname = '{name}';")
    if name in listed:
        server().psql(f"DROP DATABASE {name};")
    copy = f" TEMPLATE {template}" if template else ""
    server().psql(f"CREATE DATABASE {name}{copy};")
    return url(name)
