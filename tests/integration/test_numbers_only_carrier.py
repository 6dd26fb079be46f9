"""The bot on a carrier that only sells numbers: no holds, no phone system, no inventory.

The service asks for each capability it uses; without one it carries on with the
database alone (docs/decisions/carrier-contract.md). Through the service layer, on
a real database.
"""

from __future__ import annotations

from bot.backends.carrier import Carrier
from bot.backends.carrier_sim import SimulatedCarrier
from bot.bootstrap import Runtime
from bot.domain.assignment import Assignment
from bot.domain.states import NumberState, RequestState
from bot.service.context import Actor
from tests.conftest import FakeClock
from tests.contract.numbers_only import NumbersOnlyCarrier
from tests.integration.helpers import buy


def numbers_only(rt: Runtime) -> NumbersOnlyCarrier:
    seller = NumbersOnlyCarrier(SimulatedCarrier(rt.settings.carrier), rt.settings.plan)
    rt.services.deps.carrier = Carrier(seller).guarded(rt.guard)
    return seller


async def test_a_numbers_only_carrier_buys_assigns_and_takes_numbers_back(
    runtime: Runtime, admin: Actor, manager: Actor, clock: FakeClock
) -> None:
    seller = numbers_only(runtime)
    numbers = runtime.services.numbers

    done = await buy(runtime, admin, manager, count=2)

    assert done.state is RequestState.COMPLETED
    assert sorted(seller.sales) == sorted(done.numbers)
    first, second = done.numbers
    # No phone system: an assignment is the bot's record alone.
    person = Assignment.user("UALICE")
    assigned = await numbers.assign(admin, second, person)
    assert assigned.assignment == person
    await numbers.unassign(admin, first)
    released = await numbers.release(admin, first)
    assert released.state is NumberState.AGING
    clock.advance(days=runtime.settings.aging_days, seconds=1)
    await runtime.services.lifecycle.activation_sweep()
    assert first not in seller._sold  # given back to the carrier once aging ended
    assert [c.method for c in runtime.guard.violations] == []
