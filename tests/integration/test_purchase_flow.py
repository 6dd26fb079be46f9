"""The purchase request state machine through the service layer, on a real SQLite file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.blocks.errors import error_text
from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.refusals import NotRequester, StaleRequest
from bot.domain.states import ItemOutcome, NumberState, RequestState
from bot.service.container import Services
from bot.service.context import Actor
from bot.service.resuming import StalledPurchases
from tests.conftest import FakeClock, make_settings
from tests.integration.helpers import buy


async def _resume_all(services: Services) -> list[str]:
    """What the worker does at start-up: claim every purchase left in provisioning, finish it."""
    ids = await StalledPurchases(services.deps, services.deliveries).claim(quiet_only=False)
    for request_id in ids:
        await services.purchases.provision(request_id)
    return ids


async def _quoted(rt: Runtime, admin: Actor, area: str = "415", count: int = 2):  # type: ignore[no-untyped-def]
    found = await rt.services.numbers.search(admin, "local", area, quantity=count)
    return await rt.services.purchases.request_purchase(
        admin, [n.e164 for n in found.available], Assignment.main()
    )


async def test_quote_holds_numbers_and_prices_the_change(runtime: Runtime, admin: Actor) -> None:
    request = await _quoted(runtime, admin, count=3)
    assert request.state is RequestState.QUOTED
    assert request.quote.items[0].quantity == 3
    assert request.quote.monthly_before == Decimal("0.00")
    assert request.quote.monthly_after == Decimal("3.00")
    assert request.quote.difference == Decimal("3.00")
    assert request.quote.activation_today == Decimal("1.50")
    async with runtime.services.deps.uow(write=False) as uow:
        held = await uow.numbers.get_many(request.numbers)
    assert {r.state for r in held.values()} == {NumberState.RESERVED}
    again = await runtime.services.numbers.search(admin, "local", "415", quantity=10)
    assert not set(request.numbers) & {n.e164 for n in again.available}


async def test_full_flow_with_approval(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    done = await buy(runtime, admin, manager, count=2)
    assert done.state is RequestState.COMPLETED
    assert done.decided_by == manager.user_id
    page = await runtime.services.numbers.list_numbers(admin)
    assert [r.assignment for r in page.rows] == [Assignment.main()] * 2
    history = await runtime.services.purchases.history(admin, done.id)
    actions = [e.action for e in history]
    assert actions[:1] == ["request.created"]
    assert "request.accepted" in actions and "request.approved" in actions
    assert actions.count("number.purchased") == 2
    assert actions[-1] == "request.provisioned"
    # The monthly bill now includes them: the next quote starts from there.
    nxt = await _quoted(runtime, admin, count=1)
    assert nxt.quote.monthly_before == Decimal("2.00")


async def test_accept_without_approvers_buys_at_once(
    tmp_path, clock: FakeClock, admin: Actor
) -> None:  # type: ignore[no-untyped-def]
    from bot.bootstrap import start

    rt = await start(make_settings(tmp_path, approvers=[]), clock=clock)
    try:
        request = await _quoted(rt, admin)
        accepted = await rt.services.purchases.accept(admin, request.id)
        assert not accepted.needs_approval
        assert accepted.request.state is RequestState.PROVISIONING
        done = await rt.services.purchases.provision(request.id)
        assert done.state is RequestState.COMPLETED
    finally:
        await rt.close()


@pytest.mark.parametrize(
    ("mode", "threshold", "count", "expected"),
    [
        ("never", "0", 2, False),
        ("always", "0", 1, True),
        ("over_amount", "2.00", 2, False),  # exactly the threshold: no approval
        ("over_amount", "2.00", 3, True),
    ],
)
async def test_approval_policy(  # type: ignore[no-untyped-def]
    tmp_path, clock: FakeClock, admin: Actor, mode: str, threshold: str, count: int, expected: bool
) -> None:
    from bot.bootstrap import start

    settings = make_settings(tmp_path, approvals={"mode": mode, "threshold": threshold})
    rt = await start(settings, clock=clock)
    try:
        request = await _quoted(rt, admin, count=count)
        accepted = await rt.services.purchases.accept(admin, request.id)
        assert accepted.needs_approval is expected
    finally:
        await rt.close()


async def test_cancel_releases_holds(runtime: Runtime, admin: Actor) -> None:
    request = await _quoted(runtime, admin)
    cancelled = await runtime.services.purchases.cancel(admin, request.id)
    assert cancelled.state is RequestState.CANCELLED
    async with runtime.services.deps.uow(write=False) as uow:
        rows = await uow.numbers.get_many(request.numbers)
    assert {r.state for r in rows.values()} == {NumberState.AVAILABLE}
    # The same numbers can be requested again.
    again = await runtime.services.purchases.request_purchase(
        admin, list(request.numbers), Assignment.main()
    )
    assert again.state is RequestState.QUOTED
    with pytest.raises(Conflict, match="cancelled"):
        await runtime.services.purchases.cancel(admin, request.id)


async def test_reject_keeps_reason_and_releases(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    request = await _quoted(runtime, admin)
    await runtime.services.purchases.accept(admin, request.id)
    rejected = await runtime.services.purchases.reject(manager, request.id, "  too  many ")
    assert rejected.state is RequestState.REJECTED
    assert rejected.reason == "too many"
    assert rejected.decided_by == manager.user_id
    with pytest.raises(StaleRequest) as stale:
        await runtime.services.purchases.approve(manager, request.id)
    assert "rejected by <@UMANAGER>" in error_text(stale.value)


async def test_awaiting_request_can_be_cancelled_by_requester(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    request = await _quoted(runtime, admin)
    await runtime.services.purchases.accept(admin, request.id)
    cancelled = await runtime.services.purchases.cancel(admin, request.id)
    assert cancelled.state is RequestState.CANCELLED


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("accept", "accept"),
        ("cancel", "accept"),
        ("cancel", "approve"),
        ("approve", "reject"),
        ("reject", "approve"),
        ("approve", "cancel"),
    ],
)
async def test_forbidden_moves_are_conflicts(
    runtime: Runtime, admin: Actor, manager: Actor, first: str, then: str
) -> None:
    p = runtime.services.purchases
    request = await _quoted(runtime, admin)
    actions = {
        "accept": lambda: p.accept(admin, request.id),
        "cancel": lambda: p.cancel(admin, request.id),
        "approve": lambda: p.approve(manager, request.id),
        "reject": lambda: p.reject(manager, request.id),
    }
    if first in ("approve", "reject"):
        await p.accept(admin, request.id)
    await actions[first]()
    before = await p.get(admin, request.id)
    with pytest.raises(Conflict):
        await actions[then]()
    after = await p.get(admin, request.id)
    assert after.state is before.state


async def test_approve_before_accept_is_refused(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    request = await _quoted(runtime, admin)
    with pytest.raises(Conflict):
        await runtime.services.purchases.approve(manager, request.id)


async def test_roles_are_checked_in_the_service(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    p = runtime.services.purchases
    with pytest.raises(NotAllowed, match="admins"):
        await runtime.services.numbers.search(member, "local", "415")
    with pytest.raises(NotAllowed):
        await p.request_purchase(member, ["+14156939183"], Assignment.main())
    request = await _quoted(runtime, admin)
    with pytest.raises(NotRequester) as refused:
        await p.accept(member, request.id)
    assert refused.value.requester_id == "UADMIN" and "<@UADMIN>" in error_text(refused.value)
    await p.accept(admin, request.id)
    with pytest.raises(NotAllowed, match="approvers"):
        await p.approve(admin, request.id)
    with pytest.raises(NotAllowed):
        await p.reject(member, request.id)
    assert (await p.get(admin, request.id)).state is RequestState.AWAITING_APPROVAL


async def test_self_approval(tmp_path, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from bot.bootstrap import start

    boss = Actor("UBOSS", "T1", is_admin=True, is_approver=True, channel_id="C1")
    for allowed in (False, True):
        settings = make_settings(
            tmp_path / str(allowed),
            approvers=["UBOSS"],
            approvals={"allow_self_approval": allowed},
        )
        (tmp_path / str(allowed)).mkdir()
        rt = await start(settings, clock=clock)
        try:
            request = await _quoted(rt, boss)
            await rt.services.purchases.accept(boss, request.id)
            if allowed:
                approved = await rt.services.purchases.approve(boss, request.id)
                assert approved.state is RequestState.PROVISIONING
            else:
                with pytest.raises(NotAllowed, match="your own request"):
                    await rt.services.purchases.approve(boss, request.id)
        finally:
            await rt.close()


async def test_hold_expiry_by_clock(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    p = runtime.services.purchases
    quoted = await _quoted(runtime, admin)
    waiting = await _quoted(runtime, admin, area="212")
    await p.accept(admin, waiting.id)
    clock.advance(minutes=14)
    assert await p.expire_holds() == []
    clock.advance(minutes=2)
    expired = await p.expire_holds()
    assert [r.id for r in expired] == [quoted.id]
    assert expired[0].state is RequestState.EXPIRED
    # The approval hold lasts 240 minutes from acceptance.
    clock.advance(minutes=240)
    expired = await p.expire_holds()
    assert [r.id for r in expired] == [waiting.id]
    assert await p.expire_holds() == []  # a second sweep (another replica) finds nothing
    with pytest.raises(Conflict, match="expired"):
        await p.approve(manager, waiting.id)
    async with runtime.services.deps.uow(write=False) as uow:
        rows = await uow.numbers.get_many(quoted.numbers + waiting.numbers)
    assert {r.state for r in rows.values()} == {NumberState.AVAILABLE}


async def test_accept_after_hold_ran_out_expires_even_before_the_sweep(
    runtime: Runtime, admin: Actor, clock: FakeClock
) -> None:
    request = await _quoted(runtime, admin)
    clock.advance(minutes=16)
    with pytest.raises(Conflict, match="expired"):
        await runtime.services.purchases.accept(admin, request.id)
    assert (await runtime.services.purchases.get(admin, request.id)).state is RequestState.EXPIRED


async def test_expired_hold_can_be_taken_by_another_request(
    runtime: Runtime, admin: Actor, clock: FakeClock
) -> None:
    first = await _quoted(runtime, admin, count=1)
    clock.advance(minutes=16)
    second = await runtime.services.purchases.request_purchase(
        admin, list(first.numbers), Assignment.main()
    )
    assert second.numbers == first.numbers
    with pytest.raises(Conflict):
        await runtime.services.purchases.accept(admin, first.id)


async def test_carrier_failure_for_some_numbers(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    assert runtime.carrier is not None
    request = await _quoted(runtime, admin, count=3)
    bad = request.numbers[1]
    runtime.carrier.fail(bad, "number ported away")
    await runtime.services.purchases.accept(admin, request.id)
    await runtime.services.purchases.approve(manager, request.id)
    done = await runtime.services.purchases.provision(request.id)
    assert done.state is RequestState.PARTIALLY_COMPLETED
    failed = done.items_with(ItemOutcome.FAILED)
    assert [(i.number, i.reason) for i in failed] == [(bad, "number ported away")]
    page = await runtime.services.numbers.list_numbers(admin)
    assert bad not in {r.e164 for r in page.rows} and len(page.rows) == 2
    async with runtime.services.deps.uow(write=False) as uow:
        record = await uow.numbers.get(bad)
    assert record is not None and record.state is NumberState.AVAILABLE
    # Retry makes a new request for what failed; once the carrier heals it goes through.
    runtime.carrier.heal(bad)
    retry = await runtime.services.purchases.retry(admin, request.id)
    assert retry.numbers == (bad,)


async def test_all_numbers_fail(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    assert runtime.carrier is not None
    request = await _quoted(runtime, admin, count=2)
    for n in request.numbers:
        runtime.carrier.fail(n)
    await runtime.services.purchases.accept(admin, request.id)
    await runtime.services.purchases.approve(manager, request.id)
    done = await runtime.services.purchases.provision(request.id)
    assert done.state is RequestState.FAILED


async def test_crash_between_approval_and_provisioning_resumes_once(
    settings,
    clock: FakeClock,
    admin: Actor,
    manager: Actor,  # type: ignore[no-untyped-def]
) -> None:
    from bot.bootstrap import start

    rt = await start(settings, clock=clock)
    request = await _quoted(rt, admin, count=3)
    await rt.services.purchases.accept(admin, request.id)
    await rt.services.purchases.approve(manager, request.id)
    # Crash after the first number was bought and recorded.
    first = request.numbers[0]
    account = await rt.services.accounts.for_channel(admin)
    await rt.services.deps.carrier.supplier.order(
        [first], account_id=account.id, idempotency_key=f"{request.id}:{first}"
    )
    async with rt.services.deps.uow() as uow:
        assert await uow.numbers.mark_purchased(
            first, request_id=request.id, account_id=account.id, now=clock(), activate_at=clock()
        )
        await uow.requests.set_item(request.id, first, ItemOutcome.BOUGHT, None, clock())
        await uow.commit()
    await rt.close()

    restarted = await start(settings, clock=clock)
    try:
        resumed = await _resume_all(restarted.services)
        assert resumed == [request.id]
        done = await restarted.services.purchases.get(admin, request.id)
        assert done.state is RequestState.COMPLETED
        page = await restarted.services.numbers.list_numbers(admin)
        assert sorted(r.e164 for r in page.rows) == sorted(request.numbers)
        summary = await restarted.services.numbers.summary(admin)
        assert summary.monthly_total == Decimal("3.00")  # billed once per number
        assert await _resume_all(restarted.services) == []
        again = await restarted.services.purchases.provision(request.id)
        assert again.state is RequestState.COMPLETED
    finally:
        await restarted.close()


async def test_bad_purchase_input(runtime: Runtime, admin: Actor) -> None:
    p = runtime.services.purchases
    with pytest.raises(InvalidInput) as empty:
        await p.request_purchase(admin, [], Assignment.main())
    assert empty.value.field == "numbers"
    with pytest.raises(InvalidInput, match="not for sale"):
        await p.request_purchase(admin, ["+14155552671"], Assignment.main())
    with pytest.raises(InvalidInput) as bad:
        await p.request_purchase(admin, ["hello"], Assignment.main())
    assert bad.value.field == "numbers"
    found = await runtime.services.numbers.search(admin, "local", "415", quantity=2)
    with pytest.raises(InvalidInput, match="only 1"):
        await p.request_purchase(
            admin,
            [n.e164 for n in found.available],
            Assignment(kind=Assignment.parse("faxbox").kind),
        )
    with pytest.raises(NotFound):
        await p.accept(admin, "no-such-request")


async def test_faxbox_takes_one_number(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    fax = Assignment.parse("faxbox")
    done = await buy(runtime, admin, manager, target=fax)
    assert done.state is RequestState.COMPLETED
    found = await runtime.services.numbers.search(admin, "local", "415", quantity=1)
    with pytest.raises(Conflict, match="Faxbox"):
        await runtime.services.purchases.request_purchase(admin, [found.available[0].e164], fax)


async def test_requests_listing(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    p = runtime.services.purchases
    a = await _quoted(runtime, admin)
    await p.accept(admin, a.id)
    await _quoted(runtime, admin, area="212")
    assert len(await p.list_requests(admin, "mine")) == 2
    pending = await p.list_requests(manager, "pending")
    assert [r.id for r in pending] == [a.id]
    assert await p.list_requests(member, "all") == []  # members see only their own
    with pytest.raises(InvalidInput):
        await p.list_requests(admin, "everything")
    with pytest.raises(NotAllowed):
        await p.get(member, a.id)
