"""Assignment: `/numbers assign|unassign`, the row's `Assign` modal and `Unassign` item.

The person a number is assigned to hears of it by DM.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.assign import (
    FIELD_BLOCKS,
    aging_refusal,
    already_spare_message,
    assign_modal,
    assigned_message,
    assignee_dm,
    former_dm,
    target_of,
    unassigned_message,
)
from bot.blocks.ids import BlockId, CallbackId
from bot.blocks.payloads import AssignMeta
from bot.domain.assignment import Assignment
from bot.domain.records import NumberRecord
from bot.domain.states import NumberState
from bot.handlers.context import Submission, named, on_submit
from bot.handlers.errors import check_errors
from bot.handlers.kit import Kit, Track
from bot.handlers.notify import confirm, dm, report
from bot.handlers.slack_people import require_person
from bot.service.context import Actor
from bot.service.errors import Conflict

Json = dict[str, Any]


async def assign(
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    number: str,
    target: Assignment,
    *,
    channel_id: str | None,
) -> tuple[NumberRecord, NumberRecord]:
    """The number before and after: the DM goes out only when the assignment changed.

    A person is checked with Slack first: an id Slack does not know is never stored."""
    before = await kit.services.numbers.get(actor, number, channel_id=channel_id)
    if target.user_id is not None:
        actor.require_admin("assign numbers")  # no lookups for people who may not assign
        await require_person(client, target.user_id)
    after = await kit.services.numbers.assign(actor, number, target, channel_id=channel_id)
    return before, after


async def after_assign(
    client: AsyncWebClient, kit: Kit, actor: Actor, before: NumberRecord, after: NumberRecord
) -> None:
    """A DM to the person the number rings now (not to the admin who assigned it to
    themselves), and the App Homes redrawn: their counts changed."""
    user = after.assignment.user_id if after.assignment else None
    if user and user != actor.user_id and before.assignment != after.assignment:
        await dm(client, user, assignee_dm(after, actor.user_id))
    await tell_former(client, actor, before, after, "reassigned")
    kit.homes.changed(actor.workspace_id)


async def tell_former(
    client: AsyncWebClient, actor: Actor, before: NumberRecord, after: NumberRecord, how: str
) -> None:
    """A DM to the person the number rang before, when it no longer rings them (and they
    did not do it themselves): `how` is `unassigned`, `reassigned`, `moved`, `released`."""
    former = before.assignment.user_id if before.assignment else None
    still = (
        after.state is NumberState.IN_SERVICE
        and after.assignment is not None
        and after.assignment.user_id == former
    )
    if former and former != actor.user_id and not still:
        await dm(client, former, former_dm(before, after, actor.user_id, how))


async def unassign(
    client: AsyncWebClient, kit: Kit, actor: Actor, number: str, *, channel_id: str | None
) -> tuple[NumberRecord, str]:
    before = await kit.services.numbers.get(actor, number, channel_id=channel_id)
    after = await kit.services.numbers.unassign(actor, number, channel_id=channel_id)
    if before.assignment is None and after.assignment is None:
        return after, already_spare_message(after)  # nothing changed, nobody to tell
    await tell_former(client, actor, before, after, "unassigned")
    kit.homes.changed(actor.workspace_id)
    return after, unassigned_message(after)


async def open_assign_modal(
    client: AsyncWebClient,
    kit: Kit,
    actor: Actor,
    number: str,
    *,
    trigger_id: str,
    channel_id: str | None,
    response_url: str | None,
) -> None:
    actor.require_admin("assign numbers")
    record = await kit.services.numbers.get(actor, number, channel_id=channel_id)
    if record.state is NumberState.AGING:  # a list drawn before it was released
        raise Conflict(aging_refusal(record))
    account = await kit.services.accounts.for_channel(actor, channel_id)
    meta = AssignMeta(
        number=record.e164,
        channel_id=channel_id,
        response_url=response_url,
        account_id=account.id,
    )
    await client.views_open(trigger_id=trigger_id, view=assign_modal(record, meta, account.name))


def _picked(values: Json) -> tuple[str | None, str | None]:
    target = values.get(BlockId.ASSIGN_TARGET, {}).get(BlockId.ASSIGN_TARGET, {})
    user = values.get(BlockId.ASSIGN_USER, {}).get(BlockId.ASSIGN_USER, {})
    option = target.get("selected_option") or {}
    return option.get("value"), user.get("selected_user")


async def on_assign(sub: Submission[AssignMeta]) -> None:
    """`Assign`: checked while Slack waits, so a refusal (the faxbox has a number, the last
    e911 main) shows on the field; then the modal closes, the change runs and its outcome
    goes where the modal was opened from, else by DM."""
    kit, actor, meta, client = sub.kit, sub.actor, sub.meta, sub.client
    kind, user = _picked(sub.values)
    numbers = kit.services.numbers
    try:
        target = target_of(kind, user)
        if target.user_id is not None:
            actor.require_admin("assign numbers")  # no lookups for people who may not assign
            await require_person(client, target.user_id)
        await numbers.check_assign(actor, meta.number, target, channel_id=meta.channel_id)
    except Exception as exc:
        await sub.ack(
            response_action="errors",
            errors=check_errors(exc, FIELD_BLOCKS, BlockId.ASSIGN_TARGET),
        )
        return
    await sub.ack()
    try:
        before, after = await assign(
            client, kit, actor, meta.number, target, channel_id=meta.channel_id
        )
    except Exception as exc:
        await report(client, actor.user_id, exc, meta.response_url)
        return
    text = assigned_message(after, actor.user_id)
    await confirm(client, actor.user_id, text, meta.response_url)
    await after_assign(client, kit, actor, before, after)


def register(app: AsyncApp, track: Track) -> None:
    app.view(CallbackId.ASSIGN)(track(on_submit(AssignMeta, on_assign, channel=named)))
