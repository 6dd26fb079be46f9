"""Composition root: settings → engine, carrier, services. Nothing else wires things."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends.carrier import Carrier
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import GuardedCarrier
from bot.backends.kazoo import KazooCarrier
from bot.backends.sim_carrier import SimCarrier
from bot.config import Settings, SettingsError, token_keys
from bot.handlers.slack_people import slack_directory
from bot.metrics import Metrics
from bot.service import ports
from bot.service.container import Services
from bot.service.context import Clock, Deps, utc_now
from bot.service.people import PeopleCarrier
from storage.db import create_engine, session_factory
from storage.installs import (
    SqlInstallationStore,
    SqlOAuthStateStore,
    TokenCipher,
    UndecryptableTokens,
)
from storage.migrate import upgrade
from storage.mirror import mirror_units
from storage.uow import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Installs:
    """Workspace installs (OAuth): where installs and OAuth states are kept."""

    installations: SqlInstallationStore
    states: SqlOAuthStateStore


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    services: Services
    # The simulated carrier, for fault drills (tests, the console); None for a real one.
    carrier: SimCarrier | None
    # What the services call: the carrier wrapped in the write-transaction guard.
    guard: GuardedCarrier
    # The kazoo backend's mirror units (`storage.mirror.mirror_units`); None when embedded.
    mirror_units: Any = None
    # This runtime's Prometheus metrics (its own registry), served at `/metrics`.
    metrics: Metrics = field(default_factory=Metrics)
    # Workspace installs (OAuth); None with one bot token.
    installs: Installs | None = None

    @property
    def backend(self) -> Carrier:
        """The carrier itself (what `/health` pings and the mirror reads e911 from)."""
        return self.guard.inner

    async def close(self) -> None:
        await self.guard.close()
        await self.engine.dispose()


def build_carrier(settings: Settings) -> Carrier:
    """The one place that chooses the carrier from the settings."""
    if settings.backend == "kazoo":
        # Settings validation guarantees all three with the kazoo backend; the carrier
        # opens one aiohttp session on first use, closed by `Runtime.close`.
        if not (settings.kazoo_url and settings.kazoo_api_key and settings.kazoo_account_id):
            raise SettingsError("KAZOO_URL: required with NUMBERS_BOT_BACKEND=kazoo")
        return KazooCarrier.connect(
            settings.kazoo_url,
            settings.kazoo_api_key,
            settings.kazoo_account_id,
            timeout=settings.kazoo_timeout_seconds,
        )
    return SimCarrier(SimulatedCarrier(settings.carrier), settings.plan)


async def start(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the current schema) and build the services."""
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    carrier = build_carrier(settings)
    # mypy checks here that storage's unit of work fits the services' ports.
    uow: ports.UnitOfWorkFactory = UnitOfWorkFactory(session_factory(engine))
    if isinstance(carrier, SimCarrier):
        # The simulated carrier keeps its side in memory: the bot's database, the system
        # of record, tells it again on every start what the accounts own and route.
        await adopt(carrier, uow)
    # Every carrier call made while a write transaction is open fails (a cheap check).
    metrics = Metrics()
    guard = GuardedCarrier(carrier, record_calls=False, observe=metrics.carrier_call)
    services_carrier: Carrier = guard
    units = None
    if isinstance(carrier, KazooCarrier):
        # Kazoo rings its own users: a Slack user is routed to the Kazoo user with
        # their email. Lookups are rare (an assignment), so no pooled session.
        slack = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        services_carrier = PeopleCarrier(guard, slack_directory(slack, guard))
        units = mirror_units(UnitOfWorkFactory(session_factory(engine)))
    deps = Deps(
        uow=uow, carrier=services_carrier, settings=settings, clock=clock, telemetry=metrics
    )
    simulated = carrier if isinstance(carrier, SimCarrier) else None
    installs = None
    if settings.installs_enabled:
        try:
            installs = await open_installs(settings, engine, clock)
        except SettingsError:
            await guard.close()
            await engine.dispose()
            raise
    return Runtime(
        settings, engine, Services.build(deps), simulated, guard, units, metrics, installs
    )


async def open_installs(settings: Settings, engine: AsyncEngine, clock: Clock) -> Installs:
    """The install and state stores; tokens an older key sealed are sealed again with
    the newest. Tokens that no key given opens stop start-up (one line, no traceback)."""
    assert settings.slack_client_id and settings.state_secret  # settings validation
    sessions = session_factory(engine)
    installations = SqlInstallationStore(
        sessions, TokenCipher(token_keys(settings.token_key)), settings.slack_client_id, clock
    )
    try:
        await installations.rotate_keys()
    except UndecryptableTokens as exc:
        raise SettingsError(
            f"NUMBERS_BOT_TOKEN_KEY: does not decrypt the tokens installed (workspace {exc});"
            " keep the key they were sealed with after the new one, separated by a comma"
        ) from None
    return Installs(installations, SqlOAuthStateStore(sessions, settings.state_secret, clock))


async def adopt(carrier: SimCarrier, uow: ports.UnitOfWorkFactory) -> None:
    async with uow(write=False) as reading:
        for number in await reading.numbers.all_owned():
            assert number.account_id is not None
            carrier.adopt(number.e164, number.account_id, number.assignment, number.e911)
