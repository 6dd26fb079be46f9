"""A real PostgreSQL for the tests (`bench/pg.py` starts it from the `pgserver` package).

`NUMBERS_BOT_TEST_DATABASE=postgresql` makes every test's settings point at a
database of its own, copied from a template that was migrated once (a copy
takes milliseconds; migrating each one would dominate the run).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from bench import pg

ENV = "NUMBERS_BOT_TEST_DATABASE"
TEMPLATE = "numbers_template"
_names = itertools.count(1)


def wanted() -> bool:
    return os.environ.get(ENV, "sqlite").lower() in ("postgresql", "postgres")


def unavailable() -> str | None:
    """Why PostgreSQL cannot be started here, or None when it runs."""
    try:
        pg.server().psql("SELECT 1;")
    except Exception as exc:  # any reason at all is reported, never raised
        return f"{type(exc).__name__}: {exc}"
    return None


@cache
def _template() -> str:
    """Create and migrate the template database once per run."""
    from bot.bootstrap import start
    from bot.config import load_settings

    template_url = pg.create_database(TEMPLATE)

    async def migrate() -> None:
        runtime = await start(load_settings(database_url=template_url))
        await runtime.close()

    # make_settings may be called inside a running event loop: migrate on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, migrate()).result()
    return TEMPLATE


def fresh_database_url() -> str:
    """A new, migrated, empty database of its own."""
    return pg.create_database(f"t_{os.getpid()}_{next(_names)}", template=_template())
