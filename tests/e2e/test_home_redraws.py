"""App Home redraws under Slack's rate limit: coalesced, `Retry-After` honoured, and a
change never waits for them. Calls are counted; nothing is timed (the pause is a fake
sleep the test lets go of)."""

from __future__ import annotations

import asyncio

from bot.app import kit_for
from tests.conftest import ADMIN, MANAGER, MEMBER
from tests.e2e.conftest import CHANNEL, Harness, text_of
from tests.e2e.manage_helpers import own

VIEWERS = (ADMIN, MANAGER, MEMBER)
CHANGES = 5


class HeldSleep:
    """Stands for asyncio.sleep: records how long it was asked to wait, waits for `go`."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.go = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.go.wait()


async def _open_homes(bot: Harness) -> None:
    for user in VIEWERS:
        await bot.driver.app_home_opened(user)
        await bot.until(lambda s, u=user: s.home(u) is not None)  # type: ignore[misc]
    await bot.settle()


async def _command(bot: Harness, text: str) -> None:
    """Type a command and wait for its answer only (not for what it started after)."""
    before = len(bot.state.ephemerals_for(CHANNEL, ADMIN))
    await bot.driver.slash(ADMIN, CHANNEL, text=text)
    await bot.until(lambda s: len(s.ephemerals_for(CHANNEL, ADMIN)) > before)


async def test_redraws_coalesce_honour_retry_after_and_never_hold_a_change(
    direct_bot: Harness,
) -> None:
    bot = direct_bot
    (number,) = await own(bot, 1)
    await _open_homes(bot)
    sleep = HeldSleep()
    kit_for(bot.app).homes._sleep = sleep
    published = len(bot.state.calls_to("views.publish"))
    bot.slack.fail_next("views.publish", "ratelimited", retry_after=7)

    # Five changes, each answered while the Homes wait out Slack's Retry-After.
    for n in range(CHANGES):
        await _command(
            bot,
            f"{'unassign' if n % 2 == 0 else 'assign'} {number}" + ("" if n % 2 == 0 else " main"),
        )
    assert sleep.asked == [7.0]  # Retry-After honoured, one pause for the workspace
    assert not sleep.go.is_set()  # ...and every change above was answered during it

    sleep.go.set()
    await bot.settle()
    calls = bot.state.calls_to("views.publish")[published:]
    assert sum(1 for c in calls if c.status == 429) == 1
    for user in VIEWERS:
        # Five changes, yet per viewer: at most one redraw before the pause (drawn before
        # Slack refused the first), the one in flight, and one for all that changed
        # meanwhile; never one per change.
        theirs = [c for c in calls if c.args.get("user_id") == user and c.status == 200]
        assert 1 <= len(theirs) <= 3 < CHANGES, (user, len(theirs))
    # The latest state wins: after unassign, assign, unassign, assign, unassign it is spare.
    for user in VIEWERS:
        home = bot.state.home(user)
        assert home is not None
        assert "Spare: 1" in text_of(home), (user, text_of(home))
