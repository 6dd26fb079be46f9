"""Assignment by command and by the row's `Assign` / `Unassign` items; spares."""

from __future__ import annotations

from bot.domain.assignment import Assignment, AssignmentKind
from bot.domain.phone import format_national
from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, Harness, result_labels, text_of
from tests.e2e.manage_helpers import latest_list, own, row_text, rows, slash_and_wait


async def _record(bot: Harness, number: str) -> Assignment | None:
    return (await bot.runtime.services.numbers.get(bot.actor(), number)).assignment


async def _set_e911(bot: Harness, number: str) -> None:
    fields = {
        "street_address": "140 Main St",
        "locality": "San Francisco",
        "region": "CA",
        "postal_code": "94103",
    }
    assert (await bot.runtime.services.e911.set_address(bot.actor(), number, fields)).saved


async def test_assign_to_a_person_from_the_row_menu(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await slash_and_wait(bot, "list")
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.menu(ADMIN, format_national(number), "Assign", channel=CHANNEL)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    modal = bot.modal()
    assert modal.title == "Assign"
    shown = text_of(modal)
    for label in ("Main Company Numbers", "Main Conference Number", "Main Faxbox Number"):
        assert label in shown
    # A user without the person: the field says so and the modal stays open.
    await bot.driver.fill(ADMIN, "Assign to", "A user")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors" and "person" in result.errors["assign.user"]
    await bot.driver.fill(ADMIN, "User", "dave")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "closed", (result.errors, result.problem)
    await bot.settle()  # the change runs after the modal is answered

    assert await _record(bot, number) == Assignment.user(MEMBER)
    dm = bot.dm(MEMBER)
    await bot.until(lambda s: bool(s.messages_in(dm)))
    note = bot.state.messages_in(dm)[-1].text
    assert format_national(number) in note and f"<@{ADMIN}>" in note
    await bot.until(lambda s: any("now rings" in t for t in bot.ephemeral_texts(ADMIN)))
    message = await slash_and_wait(bot, "list")
    assert message is not None
    assert f"<@{MEMBER}>" in row_text(message, number)


async def test_unassign_from_the_menu_then_spare_and_add_from_spare_numbers(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    numbers = await own(bot, 12, "415")
    for number in numbers:
        await slash_and_wait(bot, "list main")
        await bot.driver.menu(ADMIN, format_national(number), "Unassign", channel=CHANNEL)
        await bot.until(
            lambda s, n=number: any(
                format_national(n) in t and "spare number now" in t
                for t in bot.ephemeral_texts(ADMIN)
            )
        )
    assert [await _record(bot, n) for n in numbers] == [None] * 12

    # `/numbers spare` lists them the same way, with the menus and page buttons.
    message = await slash_and_wait(bot, "spare")
    assert message is not None
    shown = text_of(message)
    assert "Spare numbers of Main" in shown
    assert "Page 1 · 1-10 of 12 numbers match" in shown
    assert rows(message) == sorted(numbers)[:10]
    assert "Assign | Unassign | e911 | Move | Release" in shown
    assert "[ Next ]" in shown

    # `Add from Spare Numbers` offers every matching spare; one goes to the conference.
    await bot.open_buy()
    await bot.driver.fill(ADMIN, "Buy for", "Main Conference Number")
    await bot.driver.fill(ADMIN, "Area code", "415")
    modal = await bot.redraw(bot.driver.click(ADMIN, "Add from Spare Numbers"))
    labels = result_labels(modal, "Spare numbers to add")
    assert len(labels) == 12
    await bot.driver.check(ADMIN, [labels[0]], field="Spare numbers to add")
    modal = await bot.redraw(bot.driver.click(ADMIN, "Add selected numbers"))
    assert "Added 1 spare number to Main Conference Number" in text_of(modal)
    conference = await bot.numbers("conference")
    assert [n.assignment for n in conference] == [Assignment(AssignmentKind.CONFERENCE)]


async def test_assign_and_unassign_by_command(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await slash_and_wait(bot, f"assign {format_national(number)} conference")
    assert await _record(bot, number) == Assignment(AssignmentKind.CONFERENCE)
    said = [t.replace("*", "") for t in bot.ephemeral_texts(ADMIN)]
    assert any("now rings Main Conference Number" in t for t in said)

    await slash_and_wait(bot, f"assign {number} <@{MEMBER}|dave>")
    assert await _record(bot, number) == Assignment.user(MEMBER)
    dm = bot.dm(MEMBER)
    await bot.until(lambda s: bool(s.messages_in(dm)))

    await slash_and_wait(bot, f"unassign {number}")
    assert await _record(bot, number) is None
    assert any("spare number now" in t for t in bot.ephemeral_texts(ADMIN))


async def test_the_faxbox_takes_one_number(direct_bot: Harness) -> None:
    bot = direct_bot
    first, second = await own(bot, 2)
    await slash_and_wait(bot, f"assign {first} faxbox")
    await slash_and_wait(bot, f"assign {second} faxbox")
    assert any("already has a number" in t for t in bot.ephemeral_texts(ADMIN))
    assert await _record(bot, second) == Assignment.main()

    # The same refusal in the `Assign` modal, on the target field.
    await slash_and_wait(bot, "list")
    before = len(bot.state.calls_to("views.open"))
    await bot.driver.menu(ADMIN, format_national(second), "Assign", channel=CHANNEL)
    await bot.until(lambda s: len(s.calls_to("views.open")) > before)
    await bot.driver.fill(ADMIN, "Assign to", "Main Faxbox Number")
    result = await bot.driver.submit(ADMIN)
    assert result.outcome == "errors"
    assert "already has a number" in result.errors["assign.target"]


async def test_the_last_emergency_enabled_main_number_stays(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    await _set_e911(bot, number)
    await slash_and_wait(bot, f"unassign {number}")
    await slash_and_wait(bot, f"assign {number} conference")
    refusals = [t for t in bot.ephemeral_texts(ADMIN) if "last emergency-enabled main" in t]
    assert len(refusals) == 2
    assert "unassign" in refusals[0] and "reassign" in refusals[1]
    assert await _record(bot, number) == Assignment.main()


async def test_a_member_is_refused_every_change(direct_bot: Harness) -> None:
    bot = direct_bot
    [number] = await own(bot, 1)
    for text in (f"assign {number} conference", f"unassign {number}", f"e911 {number}"):
        await slash_and_wait(bot, text, user=MEMBER)
    refusals = [t for t in bot.ephemeral_texts(MEMBER) if "Only numbers admins" in t]
    assert len(refusals) == 3
    assert await _record(bot, number) == Assignment.main()
    # Their list has no menus to change anything from.
    await slash_and_wait(bot, "list", user=MEMBER)
    assert "Unassign" not in text_of(latest_list(bot, MEMBER))
