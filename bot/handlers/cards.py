"""Posting and redrawing a purchase request's cards in Slack.

The requester's billing card is posted by the bot (so it can be updated hours
later with `chat.update`); its channel and ts are stored on the request, as
are the approval cards', so any replica (or the worker) can redraw them.
A failed redraw is logged, never raised: the request has moved either way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.cards import approval_card, billing_card, bought_text
from bot.config import Settings
from bot.domain.assignment import AssignmentKind
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import FINAL_REQUEST_STATES, ItemOutcome
from bot.handlers.roles import Roles
from bot.service.container import Services

log = logging.getLogger(__name__)

CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived")
INVITE_HINT = (
    ":information_source: I cannot post in this channel, so only you see this card and I "
    "cannot update it later. Invite me (`/invite @numbers-bot`) or use a public channel."
)
# Redraw the card after every number for small purchases, every few for bulk ones
# (chat.update is rate limited to about 50 a minute per channel).
PROGRESS_EVERY = 5


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


class CardPublisher:
    def __init__(
        self, services: Services, client: AsyncWebClient, roles: Roles, settings: Settings
    ) -> None:
        self.services = services
        self.client = client
        self.roles = roles
        self.settings = settings
        self._account_names: dict[str, str] = {}

    async def account_name(self, request: PurchaseRequestRecord) -> str:
        if request.account_id not in self._account_names:
            account = await self.services.accounts.get(request.account_id)
            self._account_names[account.id] = account.name
        return self._account_names[request.account_id]

    async def _offer_e911(self, request: PurchaseRequestRecord) -> bool:
        """A finished purchase for the main line while no main number is emergency enabled."""
        if request.target.kind is not AssignmentKind.MAIN or not request.items_with(
            ItemOutcome.BOUGHT
        ):
            return False
        if request.state not in FINAL_REQUEST_STATES:
            return False
        return not await self.services.listing.main_emergency_enabled(request.account_id)

    # --- posting ----------------------------------------------------------------------

    async def post_billing_card(
        self,
        request: PurchaseRequestRecord,
        channel_id: str | None,
        response_url: str | None = None,
    ) -> None:
        text, blocks = billing_card(
            request, await self.account_name(request), offer_e911=await self._offer_e911(request)
        )
        target = channel_id or request.requester_id  # no channel: the requester's DM
        try:
            posted = await self.client.chat_postMessage(
                channel=target, text=text, blocks=_dicts(blocks)
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in CANNOT_POST or not response_url:
                raise
            # A private channel without the bot: only the response_url reaches the user.
            hint = ContextBlock(elements=[MarkdownTextObject(text=INVITE_HINT)])
            await AsyncWebhookClient(response_url).send(
                text=text,
                blocks=_dicts([*blocks, hint]),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        await self.services.purchases.record_cards(
            request.id, channel_id=str(posted["channel"]), message_ts=str(posted["ts"])
        )

    async def post_approval_cards(self, request: PurchaseRequestRecord) -> None:
        """To the approvals channel, else a DM to each approver who may decide."""
        text, blocks = approval_card(request, await self.account_name(request))
        if self.settings.approvals_channel:
            destinations = [self.settings.approvals_channel]
        else:
            destinations = []
            for user in await self.roles.approvers():
                own = user == request.requester_id
                if own and not self.settings.approvals.allow_self_approval:
                    continue
                opened = await self.client.conversations_open(users=user)
                destinations.append(str(opened["channel"]["id"]))
        cards: list[tuple[str, str]] = []
        for channel in destinations:
            try:
                posted = await self.client.chat_postMessage(
                    channel=channel, text=text, blocks=_dicts(blocks)
                )
            except SlackApiError as exc:
                log.error("approval card to %s failed: %s", channel, exc.response.get("error"))
                continue
            cards.append((str(posted["channel"]), str(posted["ts"])))
        await self.services.purchases.record_cards(request.id, approval_cards=cards)

    # --- redrawing --------------------------------------------------------------------

    async def refresh(
        self, request: PurchaseRequestRecord, *, response_url: str | None = None
    ) -> None:
        """Redraw every card of the request in place."""
        name = await self.account_name(request)
        text, blocks = billing_card(request, name, offer_e911=await self._offer_e911(request))
        if request.channel_id and request.message_ts:
            await self._update(request.channel_id, request.message_ts, text, blocks)
        elif response_url:  # the card lives only as an ephemeral message
            await AsyncWebhookClient(response_url).send(
                text=text, blocks=_dicts(blocks), replace_original=True
            )
        if request.approval_cards:
            text, blocks = approval_card(request, name)
            for channel, ts in request.approval_cards:
                await self._update(channel, ts, text, blocks)

    async def _update(self, channel: str, ts: str, text: str, blocks: Sequence[Block]) -> None:
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=_dicts(blocks))
        except SlackApiError as exc:
            log.warning("cannot update card %s/%s: %s", channel, ts, exc.response.get("error"))

    async def tell_requester(self, request: PurchaseRequestRecord, text: str) -> None:
        """A reply in the card's thread (it mentions the requester), else a DM."""
        channel = request.channel_id if request.message_ts else None
        try:
            await self.client.chat_postMessage(
                channel=channel or request.requester_id,
                thread_ts=request.message_ts if channel else None,
                text=text,
            )
        except SlackApiError as exc:
            log.warning("cannot tell %s: %s", request.requester_id, exc.response.get("error"))

    # --- provisioning -----------------------------------------------------------------

    async def provision(
        self, request_id: str, *, response_url: str | None = None
    ) -> PurchaseRequestRecord:
        """Buy the numbers, showing progress on the cards, then tell the requester."""

        async def progress(record: PurchaseRequestRecord) -> None:
            done = len(record.items) - len(record.items_with(ItemOutcome.PENDING))
            if len(record.items) <= PROGRESS_EVERY * 2 or done % PROGRESS_EVERY == 0:
                await self.refresh(record, response_url=response_url)

        record = await self.services.purchases.provision(request_id, progress)
        await self.finished(record, response_url=response_url)
        return record

    async def finished(
        self, record: PurchaseRequestRecord, *, response_url: str | None = None
    ) -> None:
        await self.refresh(record, response_url=response_url)
        if record.state in FINAL_REQUEST_STATES:
            await self.tell_requester(record, bought_text(record))
