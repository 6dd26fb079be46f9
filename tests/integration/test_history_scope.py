"""Issue 6 item 16: a number's history is read within the asking workspace only."""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.domain.records import AuditEvent
from bot.service.context import Actor
from tests.integration.helpers import buy


async def test_history_shows_only_the_asking_workspace(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    done = await buy(runtime, admin, manager, count=1)
    number = done.numbers[0]
    other = Actor("UOTHER", "T2", is_admin=True, channel_id="C2")
    # Workspace T2 touches the same number too (here: its own audit event for it).
    async with runtime.services.deps.uow() as uow:
        await uow.accounts.ensure_workspace("T2", runtime.services.deps.clock())
        await uow.audit.add(
            AuditEvent("number.looked_at", "UOTHER", "T2", number=number),
            runtime.services.deps.clock(),
        )
        await uow.commit()
    mine = await runtime.services.numbers.history(admin, number)
    theirs = await runtime.services.numbers.history(other, number)
    assert mine and "number.looked_at" not in [e.action for e in mine]
    assert [e.action for e in theirs] == ["number.looked_at"]
    assert all(e.actor == "UOTHER" for e in theirs)
