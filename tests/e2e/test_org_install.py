"""An organization-wide (Enterprise Grid) install: every request belongs to the workspace
of the person (or of the view), whatever the payload's shape; there is no "" workspace."""

from __future__ import annotations

from tests.conftest import ADMIN, MEMBER
from tests.e2e.conftest import CHANNEL, BotFactory, text_of
from tests.e2e.manage_steps import own, say, shown

ORG = "E0ORG"


async def test_an_org_wide_install_scopes_everything_to_the_persons_workspace(
    make_bot: BotFactory,
) -> None:
    bot = await make_bot(slack_options={"enterprise_id": ORG}, approvals={"mode": "never"})
    team = bot.slack.workspace.team_id
    await own(bot, 2)  # numbers of the workspace's default account

    # An event (its envelope names the team, its authorization none).
    await bot.driver.app_home_opened(ADMIN)
    await bot.until(lambda s: s.home(ADMIN) is not None)
    await bot.settle()
    home = text_of(bot.state.home(ADMIN))  # type: ignore[arg-type]
    assert "Main Company Numbers: 2" in home, home

    # A click on the Home (`team` is null in the payload): the same workspace's list.
    dm = bot.dm(ADMIN)
    await bot.click_and_wait(ADMIN, "List numbers", lambda s: bool(s.messages_in(dm)), view="home")
    assert "of 2 numbers match" in text_of(bot.state.messages_in(dm)[-1])

    # A command (its `team_id` is the person's team).
    listed = shown(await say(bot, "list", channel=CHANNEL))
    assert "of 2 numbers match" in listed

    overview = bot.runtime.services.overview
    assert [v.user_id for v in await overview.home_viewers(team)] == [ADMIN]
    assert await overview.home_viewers("") == []

    # Another person of the organization opening the Home is not pooled anywhere else.
    await bot.driver.app_home_opened(MEMBER)
    await bot.until(lambda s: s.home(MEMBER) is not None)
    await bot.settle()
    assert sorted(v.user_id for v in await overview.home_viewers(team)) == sorted([ADMIN, MEMBER])
