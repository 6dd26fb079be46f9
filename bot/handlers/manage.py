"""Moving and releasing numbers, and the buttons of `/numbers requests` and history pages.

`open_move_modal` and `confirm_release` are also what a number list row's `Move` and
`Release` items call, so both ways look and behave the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.accounts import move_modal, moved_message
from bot.blocks.errors import error_text
from bot.blocks.history import history_message
from bot.blocks.ids import ManageId
from bot.blocks.payloads import HistoryRef, MoveMeta, ReleaseRef, RequestsRef
from bot.blocks.release import release_prompt, released_message
from bot.blocks.requests import requests_view
from bot.domain.errors import Conflict
from bot.domain.records import Drawn, PurchaseRequestRecord
from bot.domain.states import NumberState
from bot.handlers.assign import tell_former
from bot.handlers.context import Click, Submission, named, on_click, on_submit
from bot.handlers.errors import check_errors
from bot.handlers.home_publish import decider, publish_home
from bot.handlers.kit import Kit, Track
from bot.handlers.notify import confirm, report
from bot.service.context import Actor
from bot.service.ports import Reply
from bot.service.purchase import PurchaseService

Json = dict[str, Any]


async def changed(kit: Kit, client: AsyncWebClient, workspace_id: str) -> None:
    """Something the App Home shows changed: redraw it for those who opened it (in the
    background: the change does not wait)."""
    kit.homes.changed(workspace_id)


# --- move --------------------------------------------------------------------------------


async def open_move_modal(
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    *,
    trigger_id: str,
    number: str,
    channel_id: str | None,
    response_url: str | None,
) -> None:
    """Open `Move number`: the number, its account, a select of the workspace's other accounts.

    `channel_id` is where it was asked from (its account is the number's); a list row's
    `Move` item passes the row's number and the list's channel. Refused before any modal
    opens for a non-admin or a number not on the channel's account.
    """
    actor.require_admin("move numbers")
    record = await kit.services.numbers.get(actor, number, channel_id=channel_id)
    current = await kit.services.accounts.for_channel(actor, channel_id)
    accounts = await kit.services.accounts.list_accounts(actor)
    ref = MoveMeta(
        number=record.e164,
        channel_id=channel_id,
        response_url=response_url,
        account_id=record.account_id,
    )
    await client.views_open(trigger_id=trigger_id, view=move_modal(record, current, accounts, ref))


async def on_move_submit(sub: Submission[MoveMeta]) -> None:
    """Checked while Slack waits (a refusal shows on the field), then the modal closes and
    the move runs; its outcome goes where the modal was opened from, else by DM."""
    kit, actor, ref, ack, client = sub.kit, sub.actor, sub.meta, sub.ack, sub.client
    entry = sub.values.get(ManageId.MOVE_ACCOUNT, {}).get(ManageId.MOVE_ACCOUNT, {})
    target = (entry.get("selected_option") or {}).get("value")
    block = str(ManageId.MOVE_ACCOUNT)
    if not target:
        await ack(response_action="errors", errors={block: "Choose the account to move it to."})
        return
    numbers = kit.services.numbers
    try:
        source = await kit.services.accounts.for_channel(actor, ref.channel_id)
        before = await numbers.get(actor, ref.number, channel_id=ref.channel_id)
        await numbers.check_move(actor, ref.number, str(target), channel_id=ref.channel_id)
    except Exception as exc:
        await ack(response_action="errors", errors=check_errors(exc, {}, block))
        return
    await ack()
    try:
        moved = await numbers.move(actor, ref.number, str(target), channel_id=ref.channel_id)
    except Exception as exc:
        await report(client, actor.user_id, exc, ref.response_url)
        return
    text, blocks = moved_message(moved, source.name, str(target))
    await confirm(client, actor.user_id, text, ref.response_url, blocks=blocks)
    await tell_former(client, actor, before, moved, "moved")
    await changed(kit, client, actor.workspace_id)


# --- release -----------------------------------------------------------------------------


async def confirm_release(
    kit: Kit, actor: Actor, *, number: str, channel_id: str | None, respond: AsyncRespond
) -> None:
    """Answer with what releasing `number` means and a `Release` button behind Slack's
    confirm dialog (ephemeral, through `respond`: bolt's, from a command or a list row).

    Refused at once for a non-admin, a number not on the channel's account, or the
    account's last emergency-enabled main number.
    """
    preview = await kit.services.overview.release_preview(actor, number, channel_id=channel_id)
    text, blocks = release_prompt(preview, channel_id)
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


async def on_release(click: Click[ReleaseRef]) -> None:
    """`Release`, after the confirm dialog: the number goes aging; the message says so.

    Only while the number is as the prompt showed it; otherwise the answer says what changed.
    """
    kit, actor, ref = click.kit, click.actor, click.payload
    account = await kit.services.accounts.for_channel(actor, ref.channel_id)
    drawn = Drawn(version=ref.version, seen=ref.seen)
    before = await kit.services.numbers.get(actor, ref.number, channel_id=ref.channel_id)
    released = await kit.services.numbers.release(
        actor, ref.number, channel_id=ref.channel_id, drawn=drawn
    )
    text, blocks = released_message(released, account.name)
    await click.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)
    if before.state is NumberState.IN_SERVICE:  # a repeated click releases nothing new
        await tell_former(click.client, actor, before, released, "released")
    await changed(kit, click.client, actor.workspace_id)


# --- requests ----------------------------------------------------------------------------


async def requests_reply(kit: Kit, actor: Actor, which: str) -> tuple[str, list[Block]]:
    """`/numbers requests [mine|pending|all]` as the person may see it."""
    found = await kit.services.purchases.list_requests(actor, which)
    names = {a.id: a.name for a in await kit.services.accounts.list_accounts(actor)}
    return requests_view(
        found,
        which=which,
        viewer_id=actor.user_id,
        may_decide=decider(kit.services, actor),
        account_names=names,
    )


async def _tell(click: Click[RequestsRef], text: str) -> None:
    if click.response_url:
        await click.respond(text=text, response_type="ephemeral", replace_original=False)
    else:  # the App Home has no response_url: a DM
        await click.client.chat_postMessage(channel=click.actor.user_id, text=text)


async def _request_click(
    click: Click[RequestsRef],
    move: Callable[[PurchaseService, Actor, str, Reply], Awaitable[object]],
) -> None:
    """One use case moves the request and does what follows (cards, purchase, homes);
    its answer to this click redraws the list or home it was clicked in."""
    kit, actor, ref = click.kit, click.actor, click.payload

    async def answer(_: PurchaseRequestRecord) -> None:
        if click.view.get("type") == "home":
            await publish_home(kit.services, click.client, actor)
        elif ref.which:
            text, blocks = await requests_reply(kit, actor, ref.which)
            await click.respond(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=True
            )

    try:
        await move(kit.services.purchases, actor, ref.request_id, Reply(answer=answer))
    except Conflict as exc:
        await _tell(click, error_text(exc))


async def on_requests_cancel(click: Click[RequestsRef]) -> None:
    await _request_click(click, PurchaseService.cancel)


async def on_requests_approve(click: Click[RequestsRef]) -> None:
    await _request_click(click, PurchaseService.approve)


# --- history -----------------------------------------------------------------------------


async def history_reply(
    kit: Kit, actor: Actor, number: str, page: int = 0
) -> tuple[str, list[Block]]:
    found = await kit.services.overview.history(actor, number, page)
    accounts = await kit.services.accounts.list_accounts(actor)
    names = {a.id: a.name for a in accounts}
    return history_message(found, names)


async def on_history_page(click: Click[HistoryRef]) -> None:
    ref = click.payload
    text, blocks = await history_reply(click.kit, click.actor, ref.number, ref.page)
    await click.respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def register(app: AsyncApp, track: Track) -> None:
    app.view(ManageId.MOVE_MODAL)(track(on_submit(MoveMeta, on_move_submit, channel=named)))
    app.action(ManageId.RELEASE)(track(on_click(ReleaseRef, on_release, channel=named)))
    app.action(ManageId.REQUESTS_CANCEL)(track(on_click(RequestsRef, on_requests_cancel)))
    app.action(ManageId.REQUESTS_APPROVE)(track(on_click(RequestsRef, on_requests_approve)))
    for suffix in ("prev", "next"):
        page = on_click(HistoryRef, on_history_page)
        app.action(f"{ManageId.HISTORY_PAGE}.{suffix}")(track(page))
