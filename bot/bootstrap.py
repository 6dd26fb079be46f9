"""Composition root: settings → engine, carrier, services. Nothing else wires things."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.backends.carrier import Carrier
from bot.backends.carrier_sim import SimulatedCarrier
from bot.backends.guard import CarrierGuard
from bot.backends.kazoo import KazooCarrier
from bot.backends.sim_carrier import SimCarrier
from bot.config import Settings, SettingsError, token_keys
from bot.handlers.slack_people import SlackDirectory
from bot.health import Pingable
from bot.metrics import Metrics
from bot.service import ports
from bot.service.container import Services
from bot.service.context import Clock, Deps, utc_now
from storage.db import create_engine, session_factory
from storage.installs import (
    SqlInstallationStore,
    SqlOAuthStateStore,
    TokenCipher,
    UndecryptableTokens,
)
from storage.migrate import upgrade
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
    # Checks every carrier call the services make: none inside a write transaction.
    guard: CarrierGuard
    # This runtime's Prometheus metrics (its own registry), served at `/metrics`.
    metrics: Metrics = field(default_factory=Metrics)
    # Workspace installs (OAuth); None with one bot token.
    installs: Installs | None = None
    # What `/health` asks whether the carrier answers; None for one in this process.
    backend: Pingable | None = None

    async def close(self) -> None:
        await self.services.deps.carrier.close()
        await self.engine.dispose()


@dataclass(frozen=True, slots=True)
class BuiltCarrier:
    """The carrier's capabilities, and what start-up needs of the carrier itself."""

    carrier: Carrier
    # The simulated carrier (told what the database owns; fault drills), else None.
    simulated: SimCarrier | None = None
    # A carrier out of process, asked by `/health` whether it answers.
    ping: Pingable | None = None


def build_carrier(settings: Settings) -> BuiltCarrier:
    """The one place that chooses the carrier, and each capability it brings, from the
    settings. The directory of people is added in `start` (it needs Slack)."""
    match settings.backend:
        case "embedded":
            # Simulated: sells, holds and rings numbers; the database is the system of record.
            sim = SimCarrier(SimulatedCarrier(settings.carrier), settings.plan)
            return BuiltCarrier(Carrier(sim, holds=sim, phone_system=sim), simulated=sim)
        case "kazoo":
            # Settings validation guarantees all three with the kazoo backend; the carrier
            # opens one aiohttp session on first use, closed by `Runtime.close`.
            if not (settings.kazoo_url and settings.kazoo_api_key and settings.kazoo_account_id):
                raise SettingsError("KAZOO_URL: required with NUMBERS_BOT_BACKEND=kazoo")
            kazoo = KazooCarrier.connect(
                settings.kazoo_url,
                settings.kazoo_api_key,
                settings.kazoo_account_id,
                timeout=settings.kazoo_timeout_seconds,
            )
            # Kazoo is the system of record (its inventory is synced), with a phone system.
            capabilities = Carrier(
                kazoo,
                holds=kazoo,
                phone_system=kazoo,
                inventory=kazoo,
                charges_e911_at_save=True,
            )
            return BuiltCarrier(capabilities, ping=kazoo)
    raise SettingsError(f"NUMBERS_BOT_BACKEND: unknown backend {settings.backend!r}")


async def start(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the current schema) and build the services."""
    engine = create_engine(settings.database_url)
    if migrate:
        await upgrade(engine)
    built = build_carrier(settings)
    # mypy checks here that storage's unit of work fits the services' ports.
    uow: ports.UnitOfWorkFactory = UnitOfWorkFactory(session_factory(engine))
    if built.simulated is not None:
        # The simulated carrier keeps its side in memory: the bot's database, the system
        # of record, tells it again on every start what the accounts own and route.
        await adopt(built.simulated, uow)
    # Every carrier call made while a write transaction is open fails (a cheap check).
    metrics = Metrics()
    guard = CarrierGuard(record_calls=False, observe=metrics.carrier_call)
    carrier = built.carrier.guarded(guard)
    if carrier.phone_system is not None and carrier.inventory is not None:
        # A carrier that is the system of record rings its own users (Kazoo): a Slack
        # user is routed to the carrier user with their email. Lookups are rare (an
        # assignment), so no pooled session.
        slack = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        carrier = replace(carrier, directory=SlackDirectory(slack, carrier.phone_system))
    deps = Deps(uow=uow, carrier=carrier, settings=settings, clock=clock, telemetry=metrics)
    installs = None
    if settings.installs_enabled:
        try:
            installs = await open_installs(settings, engine, clock)
        except SettingsError:
            await carrier.close()
            await engine.dispose()
            raise
    return Runtime(
        settings,
        engine,
        Services.build(deps),
        built.simulated,
        guard,
        metrics,
        installs,
        built.ping,
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
