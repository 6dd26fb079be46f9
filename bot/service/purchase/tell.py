"""Telling people of a request through the notifier port, once one is connected."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import FINAL_REQUEST_STATES, ItemOutcome, RequestState
from bot.service.ports import CardPlace, PurchaseNotifier, Reply

log = logging.getLogger(__name__)
# Redraw the card after every number for small purchases, every few for bulk ones
# (chat.update is rate limited to about 50 a minute per channel).
PROGRESS_EVERY = 5


class NobodyListens:
    """The notifier before the Slack layer connects one (scripts, service tests)."""

    async def approvers(self, workspace_id: str) -> Sequence[str]:
        return ()

    async def show_billing(self, request: PurchaseRequestRecord, reply: Reply) -> CardPlace | bool:
        return True

    async def show_approval(
        self, request: PurchaseRequestRecord, deciders: Sequence[str]
    ) -> list[CardPlace]:
        return []

    async def not_shown(self, request: PurchaseRequestRecord, reply: Reply) -> None:
        return None

    async def redraw(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        return None

    async def tell_moved(self, request: PurchaseRequestRecord) -> None:
        return None

    async def tell_bought(self, request: PurchaseRequestRecord) -> None:
        return None

    async def tell_active(self, request: PurchaseRequestRecord) -> None:
        return None

    def homes_changed(self, workspace_id: str) -> None:
        return None


class Tell:
    """The service's side of the port: what each moment of a request tells whom."""

    def __init__(self) -> None:
        self.notifier: PurchaseNotifier = NobodyListens()

    def connect(self, notifier: PurchaseNotifier) -> None:
        self.notifier = notifier

    async def answer(self, reply: Reply | None, request: PurchaseRequestRecord) -> None:
        """The listener's own answer, first: the person hears before what follows runs."""
        if reply is not None and reply.answer is not None:
            await reply.answer(request)

    async def redraw(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        """The cards, then the App Homes: they count open requests and show those waiting
        for approvers (a purchase under way redraws them at its end)."""
        await self.notifier.redraw(request, reply)
        if request.state is not RequestState.PROVISIONING:
            self.notifier.homes_changed(request.workspace_id)

    async def announce(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        """Redraw the cards; a request that ended without a purchase (rejected, expired,
        cancelled by the bot) also tells its requester, as a purchase does."""
        await self.redraw(request, reply)
        await self.notifier.tell_moved(request)

    async def progress(self, request: PurchaseRequestRecord) -> None:
        """A number of the purchase settled: the cards show how far it is (never through
        a response_url, which takes 5 posts, kept for the final state)."""
        done = len(request.items) - len(request.items_with(ItemOutcome.PENDING))
        if len(request.items) <= PROGRESS_EVERY * 2 or done % PROGRESS_EVERY == 0:
            await self.notifier.redraw(request, None)

    async def finished(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        await self.notifier.redraw(request, reply)
        if request.state in FINAL_REQUEST_STATES:
            await self.notifier.tell_bought(request)
        self.notifier.homes_changed(request.workspace_id)

    async def activated(self, request: PurchaseRequestRecord) -> None:
        await self.redraw(request)
        await self.notifier.tell_active(request)
