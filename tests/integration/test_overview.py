"""Overviews on a real SQLite file: restore's assignment, history's workspace filter,
accounts with their use, and the App Home viewer's remembered account."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.errors import NotAllowed, NotFound
from bot.service.context import Actor
from tests.conftest import FakeClock
from tests.integration.helpers import buy


async def test_restore_brings_a_users_assignment_back_or_comes_back_spare(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    n = runtime.services.numbers
    (a,) = (await buy(runtime, admin, manager, target=Assignment.user("U123ABC"))).numbers
    await n.release(admin, a)
    assert (await n.restore(admin, a)).assignment == Assignment.user("U123ABC")

    (fax,) = (await buy(runtime, admin, manager, target=Assignment.main())).numbers
    await n.assign(admin, fax, "faxbox")
    await n.release(admin, fax)
    (other,) = (await buy(runtime, admin, manager, area="212")).numbers
    await n.assign(admin, other, "faxbox")  # the faxbox is taken while the first one ages
    restored = await n.restore(admin, fax)
    assert restored.assignment is None and restored.is_spare


async def test_history_is_the_workspaces_own_newest_first(
    runtime: Runtime, admin: Actor, manager: Actor, member: Actor
) -> None:
    o = runtime.services.overview
    (a,) = (await buy(runtime, admin, manager)).numbers
    await runtime.services.numbers.unassign(admin, a)
    page = await o.history(admin, a)
    assert page.entries[0].action == "number.unassigned" and not page.has_more
    stranger = replace(admin, workspace_id="TOTHER")
    with pytest.raises(NotFound):
        await o.history(stranger, a)
    with pytest.raises(NotAllowed):
        await o.history(member, a)


async def test_account_lines_count_numbers_and_name_channels(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    await buy(runtime, admin, manager, count=2)
    await runtime.services.accounts.create(admin, "Branch")
    await runtime.services.accounts.use(admin, "C9", "Branch")
    lines = {
        line.account.name: line for line in await runtime.services.overview.account_lines(admin)
    }
    assert lines["Main"].numbers == 2 and lines["Main"].is_default
    assert lines["Branch"].numbers == 0 and lines["Branch"].channels == ("C9",)


async def test_the_home_remembers_each_viewers_account(
    runtime: Runtime, admin: Actor, member: Actor, clock: FakeClock
) -> None:
    o = runtime.services.overview
    branch = await runtime.services.accounts.create(admin, "Branch")
    assert (await o.home(admin, account_id=branch.id)).summary.account.name == "Branch"
    assert (await o.home(admin)).summary.account.name == "Branch"
    assert (await o.home(member)).summary.account.name == "Main"
    assert {v.user_id for v in await o.home_viewers(admin.workspace_id)} == {
        admin.user_id,
        member.user_id,
    }
    clock.advance(days=31)  # viewers who have not looked for a month are not republished
    assert await o.home_viewers(admin.workspace_id) == []
    with pytest.raises(NotFound):
        await o.home(replace(admin, workspace_id="TOTHER"), account_id=branch.id)
