"""Small helpers for service-level tests."""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.records import PurchaseRequestRecord
from bot.service.context import Actor


async def buy(
    rt: Runtime,
    admin: Actor,
    manager: Actor | None,
    *,
    area: str = "415",
    count: int = 1,
    target: Assignment | None = None,
) -> PurchaseRequestRecord:
    """Search, request, accept, approve (when a manager is given) and provision."""
    s = rt.services
    found = await s.numbers.search(admin, "local", area, quantity=count)
    request = await s.purchases.request_purchase(
        admin, [n.e164 for n in found.available[:count]], target or Assignment.main()
    )
    accepted = await s.purchases.accept(admin, request.id)
    if accepted.needs_approval:
        assert manager is not None
        await s.purchases.approve(manager, request.id)
    return await s.purchases.provision(request.id)
