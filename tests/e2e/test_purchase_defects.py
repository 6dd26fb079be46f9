"""Issue 6, items 4, 5, 8, 9, 11 and 13: approval cards that reach nobody, four eyes,
a billing card Slack will not take, cards behind a response_url, a full faxbox, and
telling people what happened."""

from __future__ import annotations

import logging

import pytest

from bot.blocks.errors import error_text
from bot.domain.assignment import Assignment
from bot.domain.errors import NotAllowed
from bot.domain.records import PurchaseRequestRecord
from bot.domain.refusals import TargetFull
from bot.domain.states import RequestState
from bot.service.context import Actor
from tests.conftest import ADMIN, MANAGER, MANAGER2, MEMBER
from tests.e2e.conftest import (
    APPROVALS,
    CHANNEL,
    PRIVATE,
    BotFactory,
    Harness,
    e164_of,
    result_labels,
    says,
    text_of,
)


async def _quote(
    bot: Harness, count: int = 2, *, user: str = ADMIN, target: str | None = None
) -> list[str]:
    """From /numbers buy to the billing card in the channel; returns the numbers quoted."""
    await bot.open_buy(user)
    if target:
        await bot.driver.fill(user, "Buy for", target)
    modal = await bot.search("415", user)
    labels = result_labels(modal)[:count]
    await bot.driver.check(user, labels)
    await bot.submit_and_wait_card(user)
    return [e164_of(label) for label in labels]


async def _only_request(bot: Harness) -> PurchaseRequestRecord:
    (request,) = await bot.runtime.services.purchases.list_requests(bot.actor(), "all")
    return request


def _approver(bot: Harness, user: str) -> Actor:
    return Actor(user, bot.slack.workspace.team_id, True, True, CHANNEL)


async def _for_sale(bot: Harness, numbers: list[str]) -> bool:
    found = await bot.runtime.services.numbers.search(bot.actor(), "local", "415")
    return set(numbers) <= {n.e164 for n in found.available}


# --- item 4: approval cards go to each approver on its own ---------------------------------


async def test_an_unreachable_approver_does_not_keep_the_card_from_the_others(
    bot: Harness,
) -> None:
    await _quote(bot)
    # The first approver (bob) is deactivated: Slack refuses to open a DM with him.
    bot.slack.fail_next("conversations.open", "user_disabled")
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    assert bot.cards(bot.dm(MANAGER)) == []
    dm = bot.dm(MANAGER2)
    assert "[ Approve ]" in text_of(bot.card(dm))
    request = await _only_request(bot)
    assert [channel for channel, _ in request.approval_cards] == [dm]  # the card posted is kept
    await bot.click_and_wait(MANAGER2, "Approve", says(CHANNEL, "Bought 2 numbers"), channel=dm)
    assert "Approved by @carol" in text_of(bot.card(dm))  # redrawn in place: it was recorded


async def test_no_approver_who_may_decide_cancels_at_once_and_releases(
    make_bot: BotFactory,
) -> None:
    # The only approver is the requester: nobody may approve, so nobody is asked.
    bot = await make_bot(approvers=[ADMIN])
    numbers = await _quote(bot)
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Cancelled at"), channel=CHANNEL)
    shown = text_of(bot.card())
    assert "no approver other than the requester" in shown
    assert "the numbers it held are free again" in shown and "[ " not in shown
    await bot.until(lambda s: any("<@UADMIN> your purchase" in t for t in bot.replies()))
    assert bot.cards(bot.dm(ADMIN)) == []  # no approval card anywhere
    request = await _only_request(bot)
    assert request.state is RequestState.CANCELLED
    assert await _for_sale(bot, numbers)  # not held for 4 hours for nobody


async def test_approval_cards_that_reach_nobody_cancel_the_request(bot: Harness) -> None:
    numbers = await _quote(bot)
    bot.slack.fail_next("conversations.open", "user_disabled", times=2)
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Cancelled at"), channel=CHANNEL)
    assert "no approver could be sent the approval card" in text_of(bot.card())
    await bot.until(lambda s: any("<@UADMIN> your purchase" in t for t in bot.replies()))
    assert (await _only_request(bot)).state is RequestState.CANCELLED
    assert await _for_sale(bot, numbers)


# --- item 5: four eyes -----------------------------------------------------------------------


async def test_the_accepter_may_not_approve(make_bot: BotFactory) -> None:
    # bob is an admin and an approver: he accepts alice's quote, so he may not approve it.
    bot = await make_bot(admins=[ADMIN, MANAGER], approvals_channel=APPROVALS)
    await _quote(bot)
    await bot.click_and_wait(
        MANAGER, "Accept", says(CHANNEL, "Accepted by @bob; awaiting approval"), channel=CHANNEL
    )
    assert "accepted by @bob" in text_of(bot.card(APPROVALS))
    # One card everyone in the channel sees: it says bob may not decide it.
    assert "@bob accepted this request, so another approver" in text_of(bot.card(APPROVALS))
    request = await _only_request(bot)
    assert request.accepted_by == MANAGER

    await bot.driver.click(MANAGER, "Approve", channel=APPROVALS)
    await bot.until(lambda s: bool(bot.ephemeral_texts(MANAGER, APPROVALS)))
    assert "You accepted this request" in bot.ephemeral_texts(MANAGER, APPROVALS)[0]
    assert (await _only_request(bot)).state is RequestState.AWAITING_APPROVAL

    await bot.click_and_wait(
        MANAGER2, "Approve", says(CHANNEL, "Bought 2 numbers"), channel=APPROVALS
    )
    assert "Approved by @carol" in text_of(bot.card())


async def test_the_accepter_is_not_sent_an_approval_card(make_bot: BotFactory) -> None:
    bot = await make_bot(admins=[ADMIN, MANAGER])
    await _quote(bot)
    await bot.click_and_wait(MANAGER, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    assert bot.cards(bot.dm(MANAGER)) == []
    assert "[ Approve ]" in text_of(bot.card(bot.dm(MANAGER2)))
    with pytest.raises(NotAllowed):
        await bot.runtime.services.purchases.approve(
            _approver(bot, MANAGER), (await _only_request(bot)).id
        )


async def test_self_approval_allowed_lets_the_accepter_approve(make_bot: BotFactory) -> None:
    bot = await make_bot(
        admins=[ADMIN, MANAGER], approvals={"mode": "always", "allow_self_approval": True}
    )
    await _quote(bot)
    await bot.click_and_wait(MANAGER, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    dm = bot.dm(MANAGER)
    await bot.click_and_wait(MANAGER, "Approve", says(CHANNEL, "Bought 2 numbers"), channel=dm)


# --- item 8: a billing card Slack will not take -------------------------------------------


async def test_billing_card_falls_back_to_the_commands_response_url(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    bot.slack.fail_next("chat.postMessage", "internal_error")
    assert (await bot.driver.submit(ADMIN)).outcome == "closed"
    await bot.until(lambda s: bool(s.ephemerals_for(CHANNEL, ADMIN)))
    await bot.settle()
    shown = text_of(bot.state.ephemerals_for(CHANNEL, ADMIN)[-1])
    assert "[ Accept ]" in shown and "only you see it" in shown
    await bot.driver.click(ADMIN, "Accept", channel=CHANNEL)
    await bot.until(lambda s: "Bought 1 number" in text_of(s.ephemerals_for(CHANNEL, ADMIN)[-1]))
    await bot.settle()
    assert len(await bot.numbers("main")) == 1


async def test_billing_card_falls_back_to_a_dm(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    bot.slack.fail_next("chat.postMessage", "internal_error")
    bot.slack.fail_next("response_url", "expired_url", status=404)
    assert (await bot.driver.submit(ADMIN)).outcome == "closed"
    dm = bot.dm(ADMIN)
    await bot.until(lambda s: bool(bot.cards(dm)))
    await bot.settle()
    assert "it came here" in text_of(bot.card(dm))
    request = await _only_request(bot)
    assert request.channel_id == dm and request.message_ts  # a real message: redrawn later
    await bot.click_and_wait(ADMIN, "Accept", says(dm, "Bought 1 number"), channel=dm)


async def test_billing_card_shown_nowhere_cancels_and_says_so(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy()
    modal = await bot.search("415")
    labels = result_labels(modal)[:1]
    await bot.driver.check(ADMIN, labels)
    bot.slack.fail_next("chat.postMessage", "internal_error", times=2)
    bot.slack.fail_next("response_url", "expired_url", status=404)
    assert (await bot.driver.submit(ADMIN)).outcome == "closed"
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    await bot.settle()
    assert "could not show you the billing card" in text_of(bot.modal())
    request = await _only_request(bot)
    assert request.state is RequestState.CANCELLED
    assert await _for_sale(bot, [e164_of(labels[0])])  # the hold is released


# --- item 9: cards behind a response_url ---------------------------------------------------


async def test_private_channel_card_of_ten_numbers_reaches_its_final_state(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    await bot.open_buy(channel=PRIVATE)
    modal = await bot.search("415")
    labels = result_labels(modal)
    assert len(labels) == 10
    await bot.driver.check(ADMIN, labels)
    assert (await bot.driver.submit(ADMIN)).outcome == "closed"
    await bot.until(lambda s: bool(s.ephemerals_for(PRIVATE, ADMIN)))
    await bot.settle()
    # The click's response_url takes 5 posts: no progress redraws, only the final state.
    await bot.driver.click(ADMIN, "Accept", channel=PRIVATE)
    await bot.until(lambda s: "Bought 10 numbers" in text_of(s.ephemerals_for(PRIVATE, ADMIN)[-1]))
    await bot.settle()
    assert [c.error for c in bot.state.calls_to("response_url") if not c.ok] == []
    assert len(await bot.numbers("main")) == 10


async def test_a_refused_response_url_post_is_logged(
    direct_bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = direct_bot
    await bot.open_buy(channel=PRIVATE)
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.driver.submit(ADMIN)
    await bot.until(lambda s: bool(s.ephemerals_for(PRIVATE, ADMIN)))
    await bot.settle()
    bot.slack.fail_next("response_url", "used_url", status=404)
    with caplog.at_level(logging.WARNING, logger="bot.handlers.cards"):
        await bot.driver.click(ADMIN, "Cancel", channel=PRIVATE)
        await bot.until(lambda s: any(c.error == "used_url" for c in s.calls_to("response_url")))
        await bot.settle()
    assert any(
        "response_url post failed: 404" in r.getMessage() and "used_url" in r.getMessage()
        for r in caplog.records
    )


# --- item 11: the faxbox takes one number ----------------------------------------------------


async def _fill_faxbox(bot: Harness, area: str = "212") -> str:
    """Buy a number through the services and put it on the faxbox; returns it."""
    services, admin, manager = bot.runtime.services, bot.actor(), _approver(bot, MANAGER)
    found = await services.numbers.search(admin, "local", area, quantity=1)
    number = found.available[0].e164
    request = await services.purchases.request_purchase(admin, [number], Assignment.main())
    accepted = await services.purchases.accept(admin, request.id)
    if accepted.needs_approval:
        await services.purchases.approve(manager, request.id)
    await services.purchases.provision(request.id)
    await services.numbers.assign(admin, number, "faxbox")
    return number


async def test_a_second_faxbox_request_is_refused_when_made(bot: Harness) -> None:
    purchases, admin = bot.runtime.services.purchases, bot.actor()
    found = await bot.runtime.services.numbers.search(admin, "local", "415", quantity=2)
    first, second = (n.e164 for n in found.available)
    faxbox = Assignment.parse("faxbox")
    await purchases.request_purchase(admin, [first], faxbox)
    with pytest.raises(TargetFull) as refused:
        await purchases.request_purchase(admin, [second], faxbox)
    # The refusal carries its data; the words are the blocks'.
    assert refused.value.held and refused.value.target == faxbox
    assert "open purchase request already holds one" in error_text(refused.value)
    assert await _for_sale(bot, [second])


async def test_the_modal_says_the_faxbox_is_full_when_it_is_chosen(direct_bot: Harness) -> None:
    bot = direct_bot
    await _fill_faxbox(bot)
    await bot.open_buy()
    modal = await bot.redraw(bot.driver.fill(ADMIN, "Buy for", "Main Faxbox Number"))
    assert "Main Faxbox Number already has its number" in text_of(modal)
    assert bot.state.calls_to("views.update") and result_labels(modal) == []  # no search yet
    # Another target: the warning goes away.
    modal = await bot.redraw(bot.driver.fill(ADMIN, "Buy for", "Main Company Numbers"))
    assert "already has its number" not in text_of(modal)


async def test_the_modal_says_so_when_opened_for_a_full_faxbox(direct_bot: Harness) -> None:
    bot = direct_bot
    await _fill_faxbox(bot)
    await bot.open_buy(text="buy for faxbox")
    await bot.until(lambda s: "already has its number" in text_of(bot.modal()))


async def test_a_faxbox_filled_while_the_request_waits_is_not_bought(bot: Harness) -> None:
    numbers = await _quote(bot, 1, target="Main Faxbox Number")
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    filler = await _fill_faxbox(bot)
    dm = bot.dm(MANAGER)
    await bot.click_and_wait(MANAGER, "Approve", says(CHANNEL, "purchase failed"), channel=dm)
    shown = text_of(bot.card())
    assert "Main Faxbox Number already has its number, so it was not bought" in shown
    owned = await bot.numbers()
    assert [n.e164 for n in owned] == [filler]  # no spare bought and billed for nothing
    assert await _for_sale(bot, numbers)


# --- item 13: people are told ------------------------------------------------------------------


async def test_a_rejection_mentions_the_requester(bot: Harness) -> None:
    await _quote(bot)
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    dm = bot.dm(MANAGER)
    await bot.driver.click(MANAGER, "Reject", channel=dm)
    await bot.until(lambda s: s.top_view(MANAGER) is not None)
    await bot.driver.fill(MANAGER, "Reason", "Not this quarter")
    assert (await bot.driver.submit(MANAGER)).outcome == "closed"
    await bot.until(lambda s: any("rejected" in t for t in bot.replies()))
    (reply,) = bot.replies()
    assert reply.startswith("<@UADMIN> ") and "rejected by <@UMANAGER>" in reply
    assert "Not this quarter" in reply


async def test_an_expiry_mentions_the_requester(bot: Harness) -> None:
    await _quote(bot)
    bot.clock.advance(minutes=16)
    tick = await bot.worker.run_once()
    assert len(tick.expired) == 1
    await bot.until(lambda s: bool(bot.replies()))
    (reply,) = bot.replies()
    assert reply.startswith("<@UADMIN> ") and "expired" in reply


async def test_an_expiry_found_by_a_click_mentions_the_requester(bot: Harness) -> None:
    # The hold ran out before the worker's next pass: the click itself expires the request.
    await _quote(bot)
    bot.clock.advance(minutes=16)
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Expired at"), channel=CHANNEL)
    assert "expired" in bot.ephemeral_texts(ADMIN)[-1]
    await bot.until(lambda s: bool(bot.replies()))
    (reply,) = bot.replies()
    assert reply.startswith("<@UADMIN> ") and "expired" in reply
    assert (await bot.worker.run_once()).expired == ()  # told once, not again by the worker


async def test_the_person_numbers_were_bought_for_gets_a_dm(direct_bot: Harness) -> None:
    bot = direct_bot
    await bot.open_buy(text=f"buy <@{MEMBER}|dave>")
    modal = await bot.search("212")
    label = result_labels(modal)[0]
    await bot.driver.check(ADMIN, [label])
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "Bought 1 number"), channel=CHANNEL)
    dm = bot.dm(MEMBER)
    await bot.until(lambda s: bool(s.messages_in(dm)))
    (note,) = [m.text for m in bot.state.messages_in(dm)]
    assert "<@UADMIN> got you 1 new number" in note and label.split(" · ")[0] in note
