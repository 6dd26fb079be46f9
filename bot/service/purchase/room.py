"""Whether a purchase's target has room (the faxbox takes one number): the rule is the
domain's (`target_room`), the counts are here, the words in `bot/blocks/errors.py`."""

from __future__ import annotations

from bot.domain.assignment import Assignment, is_limited
from bot.domain.purchase import Room, room_limit, target_room
from bot.domain.records import AccountInfo
from bot.domain.refusals import TargetFull
from bot.service.context import Actor
from bot.service.ports import UnitOfWork
from bot.service.purchase.shared import Core


class TargetRoom:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def check(
        self, uow: UnitOfWork, account: AccountInfo, target: Assignment, adding: int
    ) -> None:
        full = await self.full(uow, account, target, adding)
        if full is not None:
            raise full

    async def full(
        self, uow: UnitOfWork, account: AccountInfo, target: Assignment, adding: int
    ) -> TargetFull | None:
        """Why the target cannot take `adding` more numbers, or None when it can
        (numbers open requests hold for it count as taken: `target_room`)."""
        if not is_limited(target.kind):
            return None
        room = target_room(
            target,
            assigned=await uow.numbers.count_assigned(account.id, target.kind),
            held=await uow.requests.pending_for_target(account.id, target),
            adding=adding,
        )
        limit = room_limit(target)
        if limit is not None and room in (Room.ASSIGNED, Room.HELD):
            return TargetFull(target, limit, held=room is Room.HELD, buying=True)
        return None

    async def for_actor(
        self, actor: Actor, target: Assignment, *, channel_id: str | None = None
    ) -> TargetFull | None:
        """Before any search: why the target is full, or None when it can take a number."""
        if not is_limited(target.kind):
            return None
        async with self.core.accounts.reading(actor, channel_id) as (uow, account):
            return await self.full(uow, account, target, 1)
