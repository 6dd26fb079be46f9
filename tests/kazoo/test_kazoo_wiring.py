"""The kazoo backend wired in: the carrier chosen from the settings, guarded and closed,
the bot's accounts mapped to Kazoo's, and Slack users routed to their Kazoo users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.backends.carrier import CarrierFault, RouteTarget
from bot.backends.guard import GuardedCarrier
from bot.backends.kazoo import KazooCarrier
from bot.bootstrap import Runtime, build_carrier, start
from bot.domain.assignment import AssignmentKind
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.phone import Kind, SearchQuery
from bot.domain.records import AccountInfo
from bot.service.changes import carrier_account
from bot.service.context import Actor
from bot.service.people import PeopleCarrier
from tests.conftest import ADMIN, FakeClock, make_settings
from tests.kazoo.conftest import RecordedSleep, make_carrier
from tests.kazoo_standin import API_KEY, CHILD_A, ROOT, KazooStandIn, running

WORKSPACE = "T1"


def kazoo_settings(tmp_path: Path, url: str, **more: Any) -> Any:
    return make_settings(
        tmp_path,
        backend="kazoo",
        kazoo_url=url,
        kazoo_api_key=API_KEY,
        kazoo_account_id=ROOT,
        **more,
    )


@pytest.fixture
async def standin() -> AsyncIterator[KazooStandIn]:
    async with running() as kazoo:
        yield kazoo
    assert kazoo.schema_errors == []


@pytest.fixture
async def runtime(
    tmp_path: Path, standin: KazooStandIn, clock: FakeClock
) -> AsyncIterator[Runtime]:
    rt = await start(kazoo_settings(tmp_path, standin.url), clock=clock)
    yield rt
    await rt.close()


def test_build_carrier_makes_a_kazoo_carrier_from_the_settings(tmp_path: Path) -> None:
    carrier = build_carrier(kazoo_settings(tmp_path, "https://kazoo.example.com:8443/v2"))
    assert isinstance(carrier, KazooCarrier)
    assert carrier.root_account_id == ROOT
    assert API_KEY not in repr(carrier)
    # The default is long enough for an e911 save or a multi-number activation.
    assert carrier._client._timeout.total == 60.0
    slow = build_carrier(kazoo_settings(tmp_path, "https://k.test", kazoo_timeout_seconds=90))
    assert isinstance(slow, KazooCarrier) and slow._client._timeout.total == 90.0


async def test_start_guards_the_kazoo_carrier_and_closes_its_session(
    tmp_path: Path, standin: KazooStandIn, clock: FakeClock
) -> None:
    runtime = await start(kazoo_settings(tmp_path, standin.url), clock=clock)
    assert runtime.carrier is None  # no simulated carrier to drill faults on
    assert isinstance(runtime.guard, GuardedCarrier)
    assert isinstance(runtime.backend, KazooCarrier)
    # The services route Slack users through the directory, over the guard.
    services_carrier = runtime.services.deps.carrier
    assert isinstance(services_carrier, PeopleCarrier)
    assert services_carrier.inner is runtime.guard
    assert runtime.mirror_units is not None
    assert [a.id for a in await runtime.guard.accounts()] == [
        ROOT,
        *sorted(a for a in standin.model.accounts if a != ROOT),
    ]
    session = runtime.backend._client._session
    assert session is not None and not session.closed
    await runtime.close()
    assert session.closed


def test_carrier_account_is_kazoos_id_when_mirrored() -> None:
    assert carrier_account(AccountInfo("bot-1", WORKSPACE, "Acme West", CHILD_A)) == CHILD_A
    # The simulated carrier knows the bot's own ids.
    assert carrier_account(AccountInfo("bot-1", WORKSPACE, "Main")) == "bot-1"


async def test_accounts_come_from_kazoo(runtime: Runtime) -> None:
    actor = Actor(ADMIN, WORKSPACE, is_admin=True)
    accounts = runtime.services.accounts
    with pytest.raises(NotAllowed, match="Kazoo's sub-accounts"):
        await accounts.create(actor, "Sales")
    # Before a sync only the unlinked default exists: nothing to offer.
    assert await accounts.list_accounts(actor) == []


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.routed: list[RouteTarget] = []

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        self.routed.append(target)


async def test_a_slack_user_is_routed_to_their_kazoo_user() -> None:
    inner = Recorder()
    asked: list[tuple[str, str]] = []

    async def lookup(slack_user: str, account_id: str) -> str:
        asked.append((slack_user, account_id))
        if slack_user == "UNOBODY":
            raise InvalidInput("target", "<@UNOBODY> has no Kazoo user on this account")
        return "kazoo-user-1"

    carrier = PeopleCarrier(inner, lookup)  # type: ignore[arg-type]
    await carrier.route("+14155550100", RouteTarget.user("UALICE"), account_id=CHILD_A)
    await carrier.route("+14155550101", RouteTarget.main(), account_id=CHILD_A)
    # A Kazoo user id the mirror recorded (no Slack user matched) is routed as it is.
    await carrier.route("+14155550102", RouteTarget.user("kz-user-7"), account_id=CHILD_A)
    with pytest.raises(InvalidInput, match="has no Kazoo user"):
        await carrier.route("+14155550103", RouteTarget.user("UNOBODY"), account_id=CHILD_A)
    assert inner.routed == [
        RouteTarget.user("kazoo-user-1"),
        RouteTarget(AssignmentKind.MAIN),
        RouteTarget.user("kz-user-7"),
    ]
    assert asked == [("UALICE", CHILD_A), ("UNOBODY", CHILD_A)]


async def test_an_account_kazoo_does_not_know_cannot_be_bound_or_moved_into(
    runtime: Runtime,
) -> None:
    actor = Actor(ADMIN, WORKSPACE, is_admin=True)
    accounts = runtime.services.accounts
    await accounts.list_accounts(actor)  # the default account, not linked to Kazoo
    with pytest.raises(NotFound, match="There is no account named “Main”"):
        await accounts.use(actor, "C1", "Main")


async def test_nothing_but_a_kazoo_account_id_is_ever_sent_to_kazoo(
    standin: KazooStandIn,
) -> None:
    """An account the sync never linked has the bot's own id (a UUID): refused, not sent."""
    carrier = make_carrier(standin, RecordedSleep())
    bot_id = "0b6c8f5e-3c1d-4c7e-9a59-2f1e8d7c6b5a"
    try:
        with pytest.raises(CarrierFault, match="not linked to a Kazoo account"):
            await carrier.search(SearchQuery(Kind.LOCAL, "415"), quantity=1, account_id=bot_id)
        with pytest.raises(CarrierFault):
            await carrier.order(["+14155550100"], account_id=bot_id, idempotency_key="x")
    finally:
        await carrier.close()
    assert [s.path for s in standin.seen if bot_id in s.path] == []
