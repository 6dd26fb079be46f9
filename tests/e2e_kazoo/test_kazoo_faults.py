"""Faults end to end on the kazoo backend, bought through Slack: an expired token
mid-purchase, a 429 burst, a 500 on one number of five, a timeout either way.

Each ends in a clear request state; nothing is bought or billed twice; no
callflow is emptied or left pointing at a number the account does not own.
"""

from __future__ import annotations

from collections import Counter

from bot.domain.states import NumberState, RequestState
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, e164_of, result_labels, says, text_of
from tests.e2e_kazoo.conftest import callflow_numbers, quick_kazoo
from tests.kazoo_standin import ROOT, KazooStandIn

ACTIVATE = "/collection/activate"


def kazoo_of(bot: Harness) -> KazooStandIn:
    standin: KazooStandIn = bot.kazoo  # type: ignore[attr-defined]
    return standin


async def quote(bot: Harness, count: int, area: str = "415") -> list[str]:
    """Search and pick `count` numbers for the main number; the billing card is shown."""
    await bot.open_buy()
    modal = await bot.search(area)
    labels = result_labels(modal)[:count]
    await bot.driver.check(ADMIN, labels)
    await bot.submit_and_wait_card()
    return [e164_of(label) for label in labels]


async def accept(bot: Harness, needle: str) -> None:
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, needle), channel=CHANNEL)


async def request_state(bot: Harness) -> RequestState:
    [request] = await bot.runtime.services.purchases.list_requests(bot.actor())
    return request.state


def assert_sound(kazoo: KazooStandIn, bought: list[str]) -> None:
    """Billed once each; callflows hold only numbers the account owns; main not emptied."""
    charged = Counter(e164 for _, e164, _ in kazoo.model.charges)
    assert {n: charged[n] for n in bought} == {n: 1 for n in bought}
    assert all(count == 1 for count in charged.values()), charged
    for name, numbers in callflow_numbers(kazoo, ROOT).items():
        for number in numbers:
            if number.startswith("+"):
                owner = kazoo.model.numbers[number]
                assert owner.assigned_to == ROOT and owner.state == "in_service", name
    assert callflow_numbers(kazoo, ROOT)["MainCallflow"]


async def owned(bot: Harness) -> list[str]:
    return sorted(n.e164 for n in await bot.numbers() if n.state is NumberState.IN_SERVICE)


async def test_a_token_that_expires_mid_purchase_buys_once(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    numbers = await quote(bot, 2)
    kazoo.expire_tokens()
    await accept(bot, "Bought 2 numbers")
    assert await owned(bot) == sorted(numbers)
    assert_sound(kazoo, numbers)
    assert len(kazoo.calls("PUT", "/api_auth")) >= 2  # logged in again, once more


async def test_a_429_burst_is_waited_out(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    quick_kazoo(bot)
    numbers = await quote(bot, 2)
    kazoo.fail_next(429, 3, method="PUT", path=ACTIVATE)  # Crossbar sends no Retry-After
    await accept(bot, "Bought 2 numbers")
    assert [f.count for f in kazoo.faults] in ([], [0])  # the burst was answered
    assert await owned(bot) == sorted(numbers)
    assert_sound(kazoo, numbers)


async def test_a_500_on_one_number_of_five_buys_the_other_four(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    numbers = await quote(bot, 5)
    broken = numbers[2]
    kazoo.fail_number(broken, code=500, error="unspecified_fault", message="carrier fault")
    await accept(bot, "Bought 4 of 5 numbers")
    assert "failed" in text_of(bot.card())
    assert await request_state(bot) is RequestState.PARTIALLY_COMPLETED
    good = [n for n in numbers if n != broken]
    assert await owned(bot) == sorted(good)
    assert_sound(kazoo, good)
    # The failed number is not the account's at Kazoo (still only in the search cache).
    assert broken not in kazoo.model.numbers


async def test_an_order_with_no_answer_that_went_through_is_bought_once(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    numbers = await quote(bot, 1)
    quick_kazoo(bot)
    kazoo.hang_next("PUT", ACTIVATE, apply=True)
    await accept(bot, "Bought 1 number")
    assert [h.count for h in kazoo.hangs] == [0]  # the order did go unanswered
    assert await request_state(bot) is RequestState.COMPLETED
    assert await owned(bot) == numbers
    assert_sound(kazoo, numbers)


async def test_an_order_with_no_answer_that_did_not_go_through_fails_cleanly(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    numbers = await quote(bot, 1)
    quick_kazoo(bot)
    kazoo.hang_next("PUT", ACTIVATE, apply=False)
    await accept(bot, "The purchase failed")
    assert [h.count for h in kazoo.hangs] == [0]
    assert await request_state(bot) is RequestState.FAILED
    assert await owned(bot) == []
    assert kazoo.model.charges == []
    assert numbers[0] not in kazoo.model.numbers
    assert_sound(kazoo, [])
