"""Seed flows 3.2-3.5 and 3.7, with no approval needed (Accept buys at once)."""

from __future__ import annotations

from bot.domain.assignment import Assignment
from bot.domain.phone import format_national
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness, e164_of, result_labels, says, text_of


async def _accept_and_wait(bot: Harness, bought: str) -> None:
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, bought), channel=CHANNEL)


async def test_buy_tollfree_numbers(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    modal = await bot.redraw(bot.driver.select(ADMIN, "Toll-free"))
    assert "Prefix" in text_of(modal) and "Area code" not in text_of(modal)
    await bot.driver.fill(ADMIN, "Prefix", "888")
    modal = await bot.redraw(bot.driver.click(ADMIN, "Search"))
    labels = result_labels(modal)
    assert labels and all(lb.startswith("(888)") and "$2.00/mo" in lb for lb in labels)
    await bot.driver.check(ADMIN, labels[:1])
    card = await bot.submit_and_wait_card()
    assert "Toll-free numbers: 1 × $2.00 = $2.00/mo" in text_of(card)
    await _accept_and_wait(bot, "Bought 1 number")
    owned = await bot.numbers("main")
    assert [n.e164 for n in owned] == [e164_of(labels[0])]


async def test_buy_for_a_user_from_the_command(direct_bot: Harness) -> None:
    bot = direct_bot
    modal = await bot.open_buy(text=f"buy <@{MEMBER}|dave>")
    assert "A user" in text_of(modal)
    modal = await bot.search("212")
    labels = result_labels(modal)
    await bot.driver.check(ADMIN, labels[:1])
    card = await bot.submit_and_wait_card()
    assert "for @dave" in text_of(card)
    await _accept_and_wait(bot, "Bought 1 number")
    owned = await bot.numbers(f"user:{MEMBER}")
    assert [n.assignment for n in owned] == [Assignment.user(MEMBER)]


async def test_buy_for_a_user_picked_in_the_modal(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Buy for", "A user")
    modal = await bot.search("312")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    # Forgot to say which user: the field says so and the modal stays open.
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert "Choose the person" in " ".join(result.errors.values())
    await bot.driver.fill(ADMIN, "User", "dave")
    await bot.submit_and_wait_card()
    await _accept_and_wait(bot, "Bought 1 number")
    assert len(await bot.numbers(f"user:{MEMBER}")) == 1


async def test_buy_conference_number_with_search_in_the_command(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy(text="buy local 646 for conference")
    # The modal opened at once, then the search the command asked for filled it in.
    await bot.until(lambda s: bool(result_labels(bot.modal())))
    modal = bot.modal()
    assert "Main Conference Number" in text_of(modal)
    labels = result_labels(modal)
    assert all(lb.startswith("(646)") for lb in labels)
    await bot.driver.check(ADMIN, labels[:1])
    await bot.submit_and_wait_card()
    await _accept_and_wait(bot, "Bought 1 number")
    owned = await bot.numbers("conference")
    assert [n.e164 for n in owned] == [e164_of(labels[0])]


async def test_buy_faxbox_number_refuses_two(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Buy for", "Main Faxbox Number")
    modal = await bot.search("415")
    labels = result_labels(modal)
    await bot.driver.check(ADMIN, labels[:2])
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert "takes only 1 number" in " ".join(result.errors.values())
    assert bot.cards() == []  # nothing quoted, nothing posted

    await bot.driver.check(ADMIN, labels[:1])
    await bot.submit_and_wait_card()
    await _accept_and_wait(bot, "Bought 1 number")
    owned = await bot.numbers("faxbox")
    assert [n.e164 for n in owned] == [e164_of(labels[0])]


async def _make_spares(bot: Harness, count: int) -> list[str]:
    """Buy numbers through the service and unassign them: the account's spares."""
    services, actor = bot.runtime.services, bot.actor()
    found = await services.numbers.search(actor, "local", "415", quantity=count)
    numbers = [n.e164 for n in found.available]
    request = await services.purchases.request_purchase(actor, numbers, Assignment.main())
    await services.purchases.accept(actor, request.id)
    await services.purchases.provision(request.id)
    for number in numbers:
        await services.numbers.unassign(actor, number)
    return numbers


async def test_use_spare_numbers(direct_bot: Harness) -> None:
    bot = direct_bot
    spares = await _make_spares(bot, 2)

    # `/numbers spare` lists them.
    await bot.driver.slash(ADMIN, CHANNEL, text="spare")
    await bot.until(lambda s: any("2 spare numbers" in t for t in bot.ephemeral_texts(ADMIN)))
    listing = text_of(bot.state.ephemerals_for(CHANNEL, ADMIN)[-1])
    assert all(format_national(n) in listing for n in spares)

    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Buy for", "Main Conference Number")
    await bot.driver.fill(ADMIN, "Area code", "415")
    modal = await bot.redraw(bot.driver.click(ADMIN, "Add from Spare Numbers"))
    labels = result_labels(modal, "Spare numbers to add")
    assert sorted(e164_of(lb) for lb in labels) == sorted(spares)
    assert all("spare · free" in lb for lb in labels)
    await bot.driver.check(ADMIN, labels[:1])
    modal = await bot.redraw(bot.driver.click(ADMIN, "Add selected numbers"))
    assert "Added 1 spare number to Main Conference Number" in text_of(modal)
    assert "No purchase" in text_of(modal)

    owned = await bot.numbers("conference")
    assert [n.e164 for n in owned] == [e164_of(labels[0])]
    assert bot.cards() == []  # no billing card: nothing is bought


async def test_search_offers_matching_spares_first_and_free(direct_bot: Harness) -> None:
    bot = direct_bot
    spares = await _make_spares(bot, 1)
    await bot.open_buy()
    modal = await bot.search("415")
    spare_labels = result_labels(modal, "Spare numbers")
    assert [e164_of(lb) for lb in spare_labels] == spares
    assert "spare · free" in spare_labels[0]
    shown = text_of(modal)
    assert shown.index("Spare numbers (optional)") < shown.index("\nNumbers (optional)")
    await bot.driver.check(ADMIN, spare_labels, field="Spare numbers")
    card = await bot.submit_and_wait_card()
    assert "Spare numbers: 1 × free" in text_of(card)
    assert "(+$0.00)" in text_of(card)
