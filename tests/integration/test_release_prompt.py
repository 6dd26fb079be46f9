"""A Release prompt acts only on the number as it showed it (issue 13, item 8)."""

from __future__ import annotations

import pytest

from bot.bootstrap import Runtime
from bot.domain.records import Drawn
from bot.domain.states import NumberState
from bot.service.context import Actor
from bot.service.errors import ChangedSincePrompt
from tests.integration.helpers import buy


async def test_a_prompt_drawn_before_a_reassignment_releases_nothing(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    [number] = (await buy(runtime, admin, manager)).numbers
    preview = await runtime.services.overview.release_preview(admin, number)
    drawn = Drawn(preview.number.version, preview.seen)
    # An assignment leaves the row's state and version alone; the audit trail sees it.
    await runtime.services.numbers.assign(admin, number, "conference")
    with pytest.raises(ChangedSincePrompt) as refused:
        await runtime.services.numbers.release(admin, number, drawn=drawn)
    assert [e.action for e in refused.value.since] == ["number.assigned"]
    assert refused.value.record.state is NumberState.IN_SERVICE


async def test_an_unchanged_prompt_releases(runtime: Runtime, admin: Actor, manager: Actor) -> None:
    [number] = (await buy(runtime, admin, manager)).numbers
    preview = await runtime.services.overview.release_preview(admin, number)
    drawn = Drawn(preview.number.version, preview.seen)
    released = await runtime.services.numbers.release(admin, number, drawn=drawn)
    assert released.state is NumberState.AGING
    # A second click on the same prompt: released already, nothing more happens.
    again = await runtime.services.numbers.release(admin, number, drawn=drawn)
    assert again.state is NumberState.AGING
