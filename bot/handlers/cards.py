"""The Slack adapter of the service's notifier port (`PurchaseNotifier`): cards and messages.

The requester's billing card is posted by the bot (so it can be updated hours
later with `chat.update`); the service stores its channel and ts on the request,
as it does the approval cards', so any replica (or the worker) can redraw them.
A failed redraw is logged, never raised: the request has moved either way.
What happens when a card reaches nobody is the service's rule
(bot/service/purchase/notify.py); this module only says whether it did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.blocks.cards import (
    active_text,
    approval_card,
    billing_card,
    bought_text,
    given_text,
    moved_text,
    unposted_modal,
)
from bot.config import Settings
from bot.domain.assignment import AssignmentKind
from bot.domain.records import PurchaseRequestRecord
from bot.domain.states import FINAL_REQUEST_STATES, ItemOutcome
from bot.handlers.home_publish import HomeRedraws
from bot.handlers.roles import Roles
from bot.handlers.slack_clients import SlackClients
from bot.service.container import Services
from bot.service.ports import CardPlace, Reply

log = logging.getLogger(__name__)

# What a Slack call can fail with: an API error, the network, or a timeout.
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)
CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived")
INVITE_HINT = (
    ":information_source: I cannot post in this channel, so only you see this card and I "
    "cannot update it later. Invite me (`/invite @numbers-bot`) or use a public channel."
)
EPHEMERAL_HINT = (
    ":information_source: I could not post this card in the channel, so only you see it "
    "and I cannot update it later."
)
DM_HINT = ":information_source: I could not post this card where you asked, so it came here."


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def _hint(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def failure_of(exc: BaseException) -> str:
    """Slack's error code, or the kind of network failure."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


async def post_response(
    url: str, session: aiohttp.ClientSession | None = None, **payload: Any
) -> bool:
    """POST to a response_url and check the answer; a failure is logged, never lost.

    A response_url takes 5 posts in 30 minutes; past that Slack answers 404 `used_url`
    (or `expired_url`), and the webhook client does not raise on it.
    """
    try:
        response = await AsyncWebhookClient(url, session=session).send(**payload)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("response_url post failed: %s", failure_of(exc))
        return False
    if response.status_code != 200:
        log.warning("response_url post failed: %s %s", response.status_code, response.body)
        return False
    return True


class CardPublisher:
    def __init__(
        self,
        services: Services,
        client: AsyncWebClient,
        roles: Roles,
        settings: Settings,
        homes: HomeRedraws,
        clients: SlackClients | None = None,
    ) -> None:
        self.services = services
        self.client = client
        # Cards go out with their request's workspace's token (workspace installs).
        self.clients = clients or SlackClients(client)
        self.roles = roles
        self.settings = settings
        self.homes = homes
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

    async def _post(
        self, client: AsyncWebClient, channel: str, text: str, blocks: Sequence[Block]
    ) -> tuple[str, str] | str:
        """Post a card; its (channel, ts), or the reason it could not be posted."""
        try:
            posted = await client.chat_postMessage(
                channel=channel, text=text, blocks=_dicts(blocks)
            )
        except SLACK_FAILURES as exc:
            log.warning("card not posted to %s: %s", channel, failure_of(exc))
            return failure_of(exc)
        return str(posted["channel"]), str(posted["ts"])

    async def show_billing(self, request: PurchaseRequestRecord, reply: Reply) -> CardPlace | bool:
        """Show the requester their card: the channel, else the command's response_url,
        else a DM. Where it was posted; True if only the response_url shows it; False
        if it reached them nowhere (the service then cancels the request)."""
        text, blocks = billing_card(
            request, await self.account_name(request), offer_e911=await self._offer_e911(request)
        )
        target = reply.channel_id or request.requester_id  # no channel: the requester's DM
        client = await self.clients.of(request.workspace_id)
        posted = await self._post(client, target, text, blocks)
        if isinstance(posted, tuple):
            return posted
        if reply.response_url:
            # Only the response_url reaches the user (a private channel without the bot).
            hint = INVITE_HINT if posted in CANNOT_POST else EPHEMERAL_HINT
            if await post_response(
                reply.response_url,
                text=text,
                blocks=_dicts([*blocks, _hint(hint)]),
                response_type="ephemeral",
                replace_original=False,
            ):
                return True
        if target != request.requester_id:
            in_dm = await self._post(client, request.requester_id, text, [*blocks, _hint(DM_HINT)])
            if isinstance(in_dm, tuple):
                return in_dm
        return False

    async def not_shown(self, request: PurchaseRequestRecord, reply: Reply) -> None:
        """The Buy Numbers modal has closed: a small modal says the request was cancelled."""
        if not reply.trigger_id:
            return
        client = await self.clients.of(request.workspace_id)
        try:
            await client.views_open(trigger_id=reply.trigger_id, view=unposted_modal(request))
        except SLACK_FAILURES as exc:
            log.error("cannot tell %s: %s", request.requester_id, failure_of(exc))

    async def approvers(self, workspace_id: str) -> Sequence[str]:
        return await self.roles.approvers(workspace_id)

    async def _approval_to(
        self, client: AsyncWebClient, user: str, text: str, blocks: Sequence[Block]
    ) -> tuple[str, str]:
        opened = await client.conversations_open(users=user)
        posted = await client.chat_postMessage(
            channel=str(opened["channel"]["id"]), text=text, blocks=_dicts(blocks)
        )
        return str(posted["channel"]), str(posted["ts"])

    async def show_approval(
        self, request: PurchaseRequestRecord, deciders: Sequence[str]
    ) -> list[CardPlace]:
        """To the approvals channel, else a DM to each of `deciders` (one who cannot be
        reached does not keep the card from the others). Where the cards were posted."""
        text, blocks = approval_card(request, await self.account_name(request), **self._shared())
        cards: list[CardPlace] = []
        client = await self.clients.of(request.workspace_id)
        if self.settings.approvals_channel:
            posted = await self._post(client, self.settings.approvals_channel, text, blocks)
            if isinstance(posted, tuple):
                cards.append(posted)
            return cards
        for user in deciders:
            try:
                cards.append(await self._approval_to(client, user, text, blocks))
            except SLACK_FAILURES as exc:
                log.warning("approval card to %s failed: %s", user, failure_of(exc))
        return cards

    # --- redrawing --------------------------------------------------------------------

    async def redraw(self, request: PurchaseRequestRecord, reply: Reply | None = None) -> None:
        """Redraw every card of the request in place."""
        response_url = reply.response_url if reply else None
        name = await self.account_name(request)
        text, blocks = billing_card(request, name, offer_e911=await self._offer_e911(request))
        client = await self.clients.of(request.workspace_id)
        if request.channel_id and request.message_ts:
            await self._update(client, request.channel_id, request.message_ts, text, blocks)
        elif response_url:  # the card lives only as an ephemeral message
            await post_response(
                response_url, text=text, blocks=_dicts(blocks), replace_original=True
            )
        if request.approval_cards:
            text, blocks = approval_card(request, name, **self._shared())
            for channel, ts in request.approval_cards:
                await self._update(client, channel, ts, text, blocks)

    def _shared(self) -> dict[str, bool]:
        """Whether approval cards go to one channel everyone sees, and self-approval is on."""
        return {
            "shared": bool(self.settings.approvals_channel),
            "self_approval": self.settings.approvals.allow_self_approval,
        }

    def homes_changed(self, workspace_id: str) -> None:
        self.homes.changed(workspace_id)

    async def _update(
        self, client: AsyncWebClient, channel: str, ts: str, text: str, blocks: Sequence[Block]
    ) -> None:
        try:
            await client.chat_update(channel=channel, ts=ts, text=text, blocks=_dicts(blocks))
        except SLACK_FAILURES as exc:
            log.warning("cannot update card %s/%s: %s", channel, ts, failure_of(exc))

    async def tell_requester(self, request: PurchaseRequestRecord, text: str) -> None:
        """A reply in the card's thread (it mentions the requester), else a DM."""
        channel = request.channel_id if request.message_ts else None
        client = await self.clients.of(request.workspace_id)
        try:
            await client.chat_postMessage(
                channel=channel or request.requester_id,
                thread_ts=request.message_ts if channel else None,
                text=text,
            )
        except SLACK_FAILURES as exc:
            log.warning("cannot tell %s: %s", request.requester_id, failure_of(exc))

    async def tell_moved(self, request: PurchaseRequestRecord) -> None:
        """A request that ended without a purchase (rejected, expired, cancelled by the bot)
        @-mentions its requester, as a purchase does."""
        text = moved_text(request)
        if text:
            await self.tell_requester(request, text)

    async def tell_bought(self, request: PurchaseRequestRecord) -> None:
        """The requester, in the card's thread; the person the numbers ring, by DM."""
        await self.tell_requester(request, bought_text(request))
        given = given_text(request)
        if given and request.target.user_id:
            client = await self.clients.of(request.workspace_id)
            await self._tell_user(client, request.target.user_id, given)

    async def tell_active(self, request: PurchaseRequestRecord) -> None:
        await self.tell_requester(request, active_text(request))

    async def _tell_user(self, client: AsyncWebClient, user: str, text: str) -> None:
        try:
            await client.chat_postMessage(channel=user, text=text)
        except SLACK_FAILURES as exc:
            log.warning("cannot tell %s: %s", user, failure_of(exc))
