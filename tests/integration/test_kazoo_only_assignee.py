"""A number rung by a person known only to Kazoo (issue 13, item 18).

The mirror records a Kazoo user no Slack user matches by their Kazoo id; the number
can be released and restored like any other, its assignment coming back from the
audit trail's stored key.
"""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.states import NumberState
from bot.service.context import Actor
from tests.integration.helpers import buy

KAZOO_ID = "6b71cb72c876b5b1396a335f8f8a2594"


async def test_a_kazoo_only_assignee_comes_back_with_restore(
    runtime: Runtime, admin: Actor, manager: Actor
) -> None:
    [number] = (await buy(runtime, admin, manager)).numbers
    numbers = runtime.services.numbers
    kazoo_person = Assignment.user(KAZOO_ID)
    await numbers.assign(admin, number, kazoo_person)
    await numbers.release(admin, number)
    restored = await numbers.restore(admin, number)
    assert restored.state is NumberState.IN_SERVICE
    assert restored.assignment == kazoo_person
