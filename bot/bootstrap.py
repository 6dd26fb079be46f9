"""Composition root: settings → engine, backend, services. Nothing else wires things."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends.base import NumberBackend
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.embedded import EmbeddedBackend
from bot.config import Settings, SettingsError
from bot.service.container import Services
from bot.service.context import Clock, Deps, utc_now
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWorkFactory


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    services: Services
    carrier: SimulatedCarrier | None

    async def close(self) -> None:
        await self.engine.dispose()


def build_backend(settings: Settings) -> tuple[NumberBackend, SimulatedCarrier | None]:
    if settings.backend == "kazoo":
        raise SettingsError(
            "NUMBERS_BOT_BACKEND: the kazoo backend is not available in this version; use embedded"
        )
    carrier = SimulatedCarrier(settings.carrier)
    return EmbeddedBackend(carrier, settings.plan), carrier


async def start(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the current schema) and build the services."""
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    backend, carrier = build_backend(settings)
    deps = Deps(
        uow=UnitOfWorkFactory(session_factory(engine)),
        backend=backend,
        settings=settings,
        clock=clock,
    )
    return Runtime(settings, engine, Services.build(deps), carrier)
