"""Buying on a company account with a sub-account, as Kazoo 4.3 really answers.

`KAZOO_ACCOUNT_ID` (the stand-in's root, named "Main") holds the company's own
SmartPBX numbers and has sub-accounts. The channel is bound to nothing, so it
works on the company account. Sources: ../shared/reference/kazoo/real-behaviour.md.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot.domain.phone import format_national
from bot.domain.states import NumberState, RequestState
from tests.conftest import ADMIN
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import ADDRESS, own
from tests.e2e.manage_steps import say, shown
from tests.e2e_kazoo.conftest import callflow_numbers
from tests.e2e_kazoo.test_kazoo_faults import accept, kazoo_of, quote, request_state
from tests.kazoo_standin import CHILD_A, CHILD_B, ROOT

KAZOO_PATH = re.compile(r"^/v2/accounts/([^/]+)")


async def test_buying_in_an_unbound_channel_buys_on_the_company_account_at_kazoos_price(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    # The reseller's plan also bills user seats: they are on the invoice, not new charges.
    kazoo.model.user_rate = Decimal("5")

    numbers = await quote(bot, 2)
    card = text_of(bot.card())
    assert "on account *Main*" in str(bot.card().blocks) or "on account Main" in card
    assert "Local numbers: 2 × $1.00 = $2.00/mo" in card
    # Kazoo's invoice: four users ($20) before, two numbers more after.
    assert "Monthly bill: $20.00 → $22.00 (+$2.00)" in card
    assert "Activation charges today: $1.00" in card
    assert "User" not in card

    await accept(bot, "Bought 2 numbers")

    for number in numbers:
        at_kazoo = kazoo.model.numbers[number]
        assert (at_kazoo.assigned_to, at_kazoo.state) == (ROOT, "in_service")
    assert set(numbers) <= set(callflow_numbers(kazoo, ROOT)["MainCallflow"])
    # Searched numbers were never reserved at Kazoo (it would answer 404: B1).
    assert kazoo.calls("PUT", "/reserve") == []
    # Nothing but Kazoo's own account ids went to Kazoo (never the bot's account id).
    ids = {m.group(1) for s in kazoo.seen if (m := KAZOO_PATH.match(s.path))}
    assert ids and ids <= set(kazoo.model.accounts)


async def test_a_refused_number_shows_kazoos_reason_and_the_other_is_bought(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    good, refused = await quote(bot, 2)
    # Kazoo answers 200 with `data.error` for this number (H1).
    kazoo.fail_number(
        refused,
        code=400,
        error="invalid_state_transition",
        message="invalid state transition",
        cause="from port_out to in_service",
    )

    await accept(bot, "Bought 1 of 2 numbers")

    card = text_of(bot.card())
    assert "invalid state transition (from port_out to in_service)" in card
    assert await request_state(bot) is RequestState.PARTIALLY_COMPLETED
    assert kazoo.model.numbers[good].assigned_to == ROOT
    assert refused not in kazoo.model.numbers
    assert [n for _, n, _ in kazoo.model.charges] == [good]


async def test_a_number_moved_behind_the_bots_back_is_never_deleted(direct_bot: Harness) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    kept, released = await own(bot, 2)
    await bot.runtime.services.numbers.release(bot.actor(), released)
    # Meanwhile the reseller moves it to a sub-account in Monster's Numbers app.
    kazoo.change_number(released, assigned_to=CHILD_B)

    bot.clock.advance(days=bot.runtime.settings.aging_days + 1)
    await bot.worker.run_once()

    assert kazoo.calls("DELETE") == []
    assert (kazoo.model.numbers[released].assigned_to, kazoo.model.numbers[released].state) == (
        CHILD_B,
        "in_service",
    )
    mine = {n.e164: n.state for n in await bot.numbers()}
    assert mine.get(released) is not NumberState.AGING
    assert kazoo.model.numbers[kept].assigned_to == ROOT


async def test_kazoo_account_names_are_used_as_kazoo_has_them_and_never_mention(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    kazoo.model.accounts[CHILD_A].name = "Acme (East), Inc."
    kazoo.model.accounts[CHILD_B].name = "Ünited <!channel> @here"
    assert await bot.worker.sync_mirror()

    listed = await say(bot, "account list")
    raw = str(listed.blocks) + listed.text
    assert "Acme (East), Inc." in shown(listed) and "Main (default" in shown(listed)
    assert "<!channel>" not in raw and "&lt;!channel&gt;" in raw

    [a, b] = await own(bot, 2)
    moved = await say(bot, f"move {format_national(a)} Acme (East), Inc.")
    assert "to Acme (East), Inc." in shown(moved)
    assert kazoo.model.numbers[a].assigned_to == CHILD_A

    # The Move modal offers Kazoo's names, and the one chosen is found.
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"move {format_national(b)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    await bot.driver.select(ADMIN, "Ünited <!channel> @here")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed", (result.errors, result.problem)
    await bot.settle()
    assert kazoo.model.numbers[b].assigned_to == CHILD_B
    for message in bot.state.ephemerals_for(CHANNEL, ADMIN):
        assert "<!channel>" not in str(message.blocks) + message.text

    bound = await say(bot, "account use Acme (East), Inc.")
    assert "now works on the account Acme (East), Inc." in shown(bound)


async def test_kazoos_charges_for_e911_are_shown_and_accepted_before_saving(
    direct_bot: Harness,
) -> None:
    bot, kazoo = direct_bot, kazoo_of(direct_bot)
    kazoo.model.e911_rate = Decimal("2.5")
    [number] = await own(bot, 1)
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.slash(ADMIN, CHANNEL, text=f"e911 {format_national(number)}")
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    for label, value in ADDRESS.items():
        await bot.driver.fill(ADMIN, label, value)

    result = await bot.driver.submit(ADMIN)

    # Answered at once with a working view; Kazoo's dry run then redraws it with its charges.
    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    modal = bot.modal()
    assert modal.title == "Accept e911 charges"
    shown_text = text_of(modal)
    assert "Emergency (e911): 1 × $2.50 = $2.50/mo" in shown_text
    assert "e911" not in kazoo.model.numbers[number].features

    result = await bot.driver.submit(ADMIN)

    assert result.outcome == "updated", (result.errors, result.problem)
    await bot.settle()
    await bot.until(lambda s: any("emergency enabled" in t for t in bot.ephemeral_texts(ADMIN)))
    assert "e911" in kazoo.model.numbers[number].features
    record = await bot.runtime.services.numbers.get(bot.actor(), number)
    assert record.emergency_enabled
