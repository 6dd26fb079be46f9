"""The App Home: published on app_home_opened, counts and e911 coverage, its buttons,
its account select, republished on changes, and its size at 100,000 numbers."""

from __future__ import annotations

from sqlalchemy import insert

from bot.console.fake_slack import View
from bot.domain.states import RequestState
from storage import models as m
from tests.conftest import ADMIN, MANAGER, MANAGER2, MEMBER
from tests.e2e.conftest import BotFactory, Harness, result_labels, text_of
from tests.e2e.manage_steps import ADDRESS, national, own, quoted, say, shown


async def _open_home(bot: Harness, user: str = ADMIN) -> View:
    before = len(bot.state.calls_to("views.publish"))
    result = await bot.driver.app_home_opened(user)
    assert result.status == 200
    await bot.until(lambda s: len(s.calls_to("views.publish")) > before)
    await bot.settle()
    home = bot.state.home(user)
    assert home is not None
    return home


def _home_text(bot: Harness, user: str = ADMIN) -> str:
    home = bot.state.home(user)
    assert home is not None
    return text_of(home)


async def test_published_with_counts_coverage_and_the_warning(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _, _ = await own(bot, count=3)
    await own(bot, count=1, area="212", target=None)
    await bot.runtime.services.numbers.unassign(bot.actor(), a)
    text = text_of(await _open_home(bot))
    assert "Account: Main" in text
    assert "Main Company Numbers: 3" in text and "Spare: 1" in text and "Aging: 0" in text
    assert "Emergency enabled: 0 of 4" in text
    assert "No main number is emergency enabled" in text
    assert "Monthly total: $4.00" in text
    assert "[ Buy Numbers ]" in text and "[ Add from Spare Numbers ]" in text
    assert "[ List numbers ]" in text

    numbers = await bot.numbers("main")
    await bot.runtime.services.e911.set_address(bot.actor(), numbers[0].e164, ADDRESS)
    text = text_of(await _open_home(bot))
    assert "No main number is emergency enabled" not in text
    assert "Emergency enabled: 1 of 4" in text


async def test_buy_numbers_opens_the_modal(direct_bot: Harness) -> None:
    bot = direct_bot
    await _open_home(bot)
    await bot.driver.click(ADMIN, "Buy Numbers", view="home")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    assert bot.modal().title == "Buy Numbers"


async def test_add_from_spare_numbers_lists_the_spares(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    await bot.runtime.services.numbers.unassign(bot.actor(), a)
    await _open_home(bot)
    await bot.driver.click(ADMIN, "Add from Spare Numbers", view="home")
    await bot.settle()
    shown = text_of(bot.modal())
    assert shown.startswith("=== Buy Numbers ===") and "Add selected numbers" in shown
    assert national(a) in shown


async def test_members_get_no_buy_buttons_and_list_numbers_answers_by_dm(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    owned = await own(bot, count=2)
    text = text_of(await _open_home(bot, MEMBER))
    assert "[ Buy Numbers ]" not in text and "[ List numbers ]" in text
    await bot.click_and_wait(
        MEMBER, "List numbers", lambda s: bool(s.messages_in(bot.dm(MEMBER))), view="home"
    )
    listed = text_of(bot.state.messages_in(bot.dm(MEMBER))[-1])
    # The list itself, read-only for a member: both numbers, the count, no row menus.
    assert all(national(n) in listed for n in owned), listed
    assert "of 2 numbers match" in listed and "Assign" not in listed


async def test_republished_when_something_it_shows_changes(direct_bot: Harness) -> None:
    bot = direct_bot
    a, _ = await own(bot, count=2)
    await _open_home(bot)
    await _open_home(bot, MEMBER)
    await say(bot, f"release {a}")
    await bot.click_and_wait(ADMIN, "Release", lambda s: "Aging: 1" in _home_text(bot))
    assert "Aging: 1" in _home_text(bot, MEMBER)
    await say(bot, f"restore {a}")
    assert "Aging: 0" in _home_text(bot) and "Main Company Numbers: 2" in _home_text(bot)


async def test_approvers_approve_from_the_home(bot: Harness) -> None:
    request = await quoted(bot, 1)
    await bot.runtime.services.purchases.accept(bot.actor(), request.id)
    text = text_of(await _open_home(bot, MANAGER))
    assert "Waiting for your approval" in text and "Open requests: 1" in text
    assert "[ Approve ]" in text and "[ Reject ]" in text
    mine = _home_text(bot, ADMIN) if bot.state.home(ADMIN) else text_of(await _open_home(bot))
    assert "Your open requests" in mine and "[ Approve ]" not in mine

    await bot.click_and_wait(
        MANAGER, "Approve", lambda s: "Open requests: 0" in _home_text(bot, MANAGER), view="home"
    )
    await bot.settle()
    assert "Waiting for your approval" not in _home_text(bot, MANAGER)
    assert "Main Company Numbers: 1" in _home_text(bot, MANAGER)
    assert "Your open requests" not in _home_text(bot, ADMIN)  # republished for the admin too


async def test_the_account_select_switches_this_viewers_home(direct_bot: Harness) -> None:
    bot = direct_bot
    await own(bot, count=2)
    await bot.runtime.services.accounts.create(bot.actor(), "Branch Office")
    await _open_home(bot)
    await _open_home(bot, MEMBER)
    await bot.driver.select(ADMIN, "Branch Office", view="home")
    await bot.until(lambda s: "Account: Branch Office" in _home_text(bot))
    assert "Main Company Numbers: 0" in _home_text(bot)
    assert "Account: Main" in _home_text(bot, MEMBER)  # someone else's choice
    text = text_of(await _open_home(bot))  # remembered
    assert "Account: Branch Office" in text


async def test_stays_within_100_blocks_at_100000_numbers(make_bot: BotFactory) -> None:
    bot = await make_bot(approvals={"mode": "never"})
    account = await bot.runtime.services.accounts.for_channel(bot.actor())
    now = bot.clock()
    numbers = [f"+1212{200 + i // 10000}{i % 10000:04d}" for i in range(100_000)]
    async with bot.runtime.engine.begin() as conn:
        await conn.execute(
            insert(m.Number),
            [
                {"e164": n, "state": "in_service", "kind": "local", "npa": "212",
                 "account_id": account.id, "updated_at": now, "version": 1}
                for n in numbers
            ],
        )  # fmt: skip
        await conn.execute(
            insert(m.NumberAssignment),
            [
                {"number": n, "account_id": account.id, "kind": "user", "user_id": ADMIN,
                 "assigned_by": ADMIN, "assigned_at": now}
                for n in numbers[:60_000]
            ],
        )  # fmt: skip
    for _ in range(5):  # open requests too: the home lists a few, never all
        await quoted(bot, 1)
    home = await _open_home(bot)
    assert len(home.blocks) <= 100
    text = text_of(home)
    assert "Users: 60000" in text and "Spare: 40000" in text
    assert "Monthly total: $100,000.00" in text


async def test_the_home_ignores_a_binding_of_the_dm_it_is_opened_from(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    await own(bot, count=1)
    await bot.runtime.services.accounts.create(bot.actor(), "Branch Office")
    await say(bot, "account use Branch Office", channel=bot.dm(ADMIN))
    assert "Account: Main" in text_of(await _open_home(bot))


async def test_an_approver_who_accepted_a_request_is_not_offered_approve_for_it(
    make_bot: BotFactory,
) -> None:
    """Four eyes on every surface: the App Home and `/numbers requests pending` draw
    `Approve` only for approvers the service would let decide."""
    bot = await make_bot(admins=[ADMIN, MANAGER])
    request = await quoted(bot, 1)
    await bot.runtime.services.purchases.accept(bot.actor(MANAGER), request.id)

    text = text_of(await _open_home(bot, MANAGER))
    assert "[ Approve ]" not in text and "Waiting for your approval" not in text
    listed = shown(await say(bot, "requests pending", user=MANAGER))
    assert "Approve" not in listed and "awaiting approval" in listed

    other = text_of(await _open_home(bot, MANAGER2))
    assert "Waiting for your approval" in other and "[ Approve ]" in other


async def test_the_homes_buttons_act_on_the_account_it_shows_and_modals_name_it(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    services = bot.runtime.services
    (number,) = await own(bot, count=1)
    await services.accounts.create(bot.actor(), "Branch Office")
    await services.numbers.move(bot.actor(), number, "Branch Office")  # a spare there
    await _open_home(bot)
    await bot.driver.select(ADMIN, "Branch Office", view="home")
    await bot.until(lambda s: "Account: Branch Office" in _home_text(bot))
    await bot.settle()

    # `List numbers`: Branch Office's numbers, by DM; a row's menu acts on that account.
    dm = bot.dm(ADMIN)
    await bot.click_and_wait(ADMIN, "List numbers", lambda s: bool(s.messages_in(dm)), view="home")
    listed = text_of(bot.state.messages_in(dm)[-1])
    assert "Branch Office" in listed and national(number) in listed, listed
    await bot.driver.menu(ADMIN, national(number), "e911", channel=dm)
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    await bot.settle()
    assert "Account: Branch Office" in text_of(bot.modal())
    await bot.driver.close(ADMIN)

    # `Add from Spare Numbers`: Branch Office's spare, in a modal that names it.
    await bot.driver.click(ADMIN, "Add from Spare Numbers", view="home")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    await bot.settle()
    shown = text_of(bot.modal())
    assert "Account: Branch Office" in shown and national(number) in shown
    await bot.driver.close(ADMIN)

    # `Buy Numbers`: the modal names the account, and the purchase is for it.
    await bot.driver.click(ADMIN, "Buy Numbers", view="home")
    await bot.until(lambda s: s.top_view(ADMIN) is not None)
    await bot.settle()
    assert "Account: Branch Office" in text_of(bot.modal())
    modal = await bot.search("212")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card(channel=dm)
    quoted_now = [
        r
        for r in await services.purchases.list_requests(bot.actor(), "all")
        if r.state is RequestState.QUOTED
    ]
    accounts = {a.name: a.id for a in await services.accounts.list_accounts(bot.actor())}
    assert [r.account_id for r in quoted_now] == [accounts["Branch Office"]]


async def test_a_slack_connect_admin_gets_a_home_that_says_it_is_not_for_them(
    make_bot: BotFactory,
) -> None:
    """NUMBERS_BOT_ADMINS unset: workspace admins are numbers admins; an admin of another
    organization opening the Home (an event names no team) is not one of them."""
    bot = await make_bot(admins=[])
    bot.state.users[ADMIN].is_admin = True
    guest = "UGUEST"
    bot.slack.add_user(guest, "guest", is_admin=True)
    bot.state.users[guest].team_id = "TOTHERORG"
    await own(bot, count=2)
    await bot.runtime.services.accounts.create(bot.actor(), "Branch Office")

    shown = text_of(await _open_home(bot, guest))
    assert "Slack Connect" in shown
    for private in ("Main Company Numbers", "Monthly total", "Main", "Branch Office", "Buy"):
        assert private not in shown, private
    team = bot.slack.workspace.team_id
    assert guest not in [v.user_id for v in await bot.runtime.services.overview.home_viewers(team)]

    # A change redraws the Homes of this workspace's people, not theirs.
    await _open_home(bot)
    published = [c for c in bot.state.calls_to("views.publish") if c.args.get("user_id") == guest]
    (a, _) = await bot.numbers("main")
    await say(bot, f"release {national(a.e164)}")
    await bot.click_and_wait(ADMIN, "Release", lambda s: "Aging: 1" in _home_text(bot))
    again = [c for c in bot.state.calls_to("views.publish") if c.args.get("user_id") == guest]
    assert again == published
