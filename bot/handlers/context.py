"""What a listener is handed: its payload parsed, the actor resolved, the services at hand.

Like the button-context middleware of Netflix Dispatch's Slack plugin, each registration
names the pydantic model its button value or `private_metadata` carries (see
bot/blocks/payloads.py) and where the actor acts; the adapter here parses the payload
once, resolves the `Actor` and the `Kit` once, and calls the listener with them:

    async def on_release(click: Click[NumberRef]) -> None:
        released = await click.kit.services.numbers.release(click.actor, click.payload.number)

    app.action(ManageId.RELEASE)(track(on_click(NumberRef, on_release, channel=named)))

Buttons are acked first (Slack waits 3 seconds; resolving the actor may call Slack), so a
listener never acks a click. Submissions are acked by the listener, which answers with
field errors or a new view. A payload that does not parse is refused in words (`BadPayload`),
on the modal's first field for a submission, never with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import NumbersBotError
from bot.handlers.errors import say, user_message
from bot.handlers.kit import Kit, actor_of, kit_of
from bot.service.context import Actor

log = logging.getLogger(__name__)
Json = dict[str, Any]
P = TypeVar("P", bound=BaseModel)
C = TypeVar("C")

STALE = (
    "I could not read this button or form: it may be from an older version of the app. "
    "Run the command again for a fresh one."
)


class NoValue(BaseModel):
    """The payload of a button that carries nothing (`Buy Numbers` on the App Home)."""


class BadPayload(NumbersBotError):
    """A button value or `private_metadata` that is not what we put there."""

    def __init__(self) -> None:
        super().__init__(STALE)


class HasChannel(Protocol):
    @property
    def channel_id(self) -> str | None: ...


def parse(model: type[P], raw: object) -> P:
    """`raw` as `model`; a missing or malformed one is `BadPayload` (logged, not raised raw)."""
    if model is NoValue:
        return model()
    try:
        return model.model_validate_json(str(raw or "{}"))
    except ValidationError as exc:
        # Forged, truncated, or drawn by an older release: the person gets words, we a line.
        log.warning("unreadable %s payload: %s", model.__name__, exc.errors()[0].get("msg"))
        raise BadPayload() from exc


# --- where the actor acts -----------------------------------------------------------------
# A rule gets the parsed payload and the request body. Its answer is the channel handed to
# the services (`click.channel_id`); the actor's own channel falls back to the request's.


def clicked_in(_: BaseModel, body: Json) -> str | None:
    """The channel of the message clicked (a number list, a card)."""
    return str((body.get("channel") or {}).get("id") or "") or None


def named(payload: HasChannel, _: Json) -> str | None:
    """The channel the payload names: where the modal or message was opened from."""
    return payload.channel_id


def nowhere(_: BaseModel, __: Json) -> str | None:
    """No channel of its own: the actor acts where the request came from, if anywhere."""
    return None


def pinned(actor: Actor, payload: BaseModel) -> Actor:
    """The actor on the account the payload was drawn for (a list, a modal, the App Home
    showing another account), so a button acts on the account it was shown with."""
    chosen = getattr(payload, "account_id", None)
    return replace(actor, account_id=chosen) if isinstance(chosen, str) and chosen else actor


# --- what listeners get -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Click(Generic[P]):
    """A button, overflow item or select, already acked."""

    payload: P
    actor: Actor
    kit: Kit
    channel_id: str | None
    body: Json
    action: Json
    client: AsyncWebClient
    # bolt's, None where Slack gave no response_url (a modal, the App Home): see `respond`.
    responder: AsyncRespond | None

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id") or "")

    @property
    def response_url(self) -> str | None:
        url = self.body.get("response_url")
        return str(url) if url else None

    @property
    def respond(self) -> AsyncRespond:
        """Answer under the message clicked; only a click on a message has somewhere to."""
        if self.responder is None:
            raise RuntimeError("this click came with no response_url to answer through")
        return self.responder

    @property
    def view(self) -> Json:
        """The modal or home the click happened in (empty for a message)."""
        view: Json = self.body.get("view") or {}
        return view


@dataclass(frozen=True, slots=True)
class Submission(Generic[P]):
    """A modal submitted: the listener acks it (with errors, a new view, or nothing)."""

    meta: P
    actor: Actor
    kit: Kit
    channel_id: str | None
    ack: AsyncAck
    body: Json
    client: AsyncWebClient

    @property
    def view(self) -> Json:
        view: Json = self.body["view"]
        return view

    @property
    def values(self) -> Json:
        values: Json = self.view.get("state", {}).get("values", {})
        return values


@dataclass(frozen=True, slots=True)
class Slash(Generic[C]):
    """A slash command, already acked: its text parsed, who typed it and where."""

    parsed: C
    actor: Actor
    kit: Kit
    channel_id: str | None
    command: Json
    client: AsyncWebClient
    respond: AsyncRespond

    @property
    def trigger_id(self) -> str:
        return str(self.command.get("trigger_id") or "")

    @property
    def response_url(self) -> str | None:
        url = self.command.get("response_url")
        return str(url) if url else None


@dataclass(frozen=True, slots=True)
class Event:
    """An Events API event about the person (`app_home_opened`)."""

    event: Json
    actor: Actor
    kit: Kit
    client: AsyncWebClient


Adapter = Callable[..., Awaitable[None]]
ChannelRule = Callable[[P, Json], str | None]


def _named_like(adapter: Adapter, listener: Callable[..., Any]) -> Adapter:
    # Not functools.wraps: bolt reads the adapter's own arguments (it follows __wrapped__).
    adapter.__name__ = adapter.__qualname__ = getattr(listener, "__name__", "listener")
    adapter.__doc__ = listener.__doc__
    return adapter


def on_click(
    model: type[P],
    listener: Callable[[Click[P]], Awaitable[None]],
    *,
    channel: ChannelRule[P] = nowhere,
    in_view: bool = False,
) -> Adapter:
    """A block action: ack, parse the value (or, `in_view`, the modal's `private_metadata`)
    into `model`, resolve the actor in `channel`, then call `listener`."""

    async def adapter(
        ack: AsyncAck,
        body: Json,
        action: Json,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        context: AsyncBoltContext,
    ) -> None:
        await ack()
        if in_view:
            raw = (body.get("view") or {}).get("private_metadata")
        else:  # an overflow item or a select carries it in its option, a button in its value
            raw = (action.get("selected_option") or {}).get("value") or action.get("value")
        payload = parse(model, raw)
        channel_id = channel(payload, body)
        actor = pinned(await actor_of(context, channel_id), payload)
        kit = kit_of(context)
        await listener(Click(payload, actor, kit, channel_id, body, action, client, respond))

    return _named_like(adapter, listener)


def _first_input(view: Json) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


async def refuse_submission(
    error: Exception, ack: AsyncAck, view: Json, context: AsyncBoltContext
) -> None:
    """Before its listener could run: the reason on the modal's first field (it stays open,
    with what was typed), else close it and tell the person where they are."""
    message = user_message(error, "a modal submission failed before its listener")
    block = _first_input(view)
    if block is not None:
        await ack(response_action="errors", errors={block: message})
        return
    await ack()
    await say(message, context)


def on_submit(
    model: type[P],
    listener: Callable[[Submission[P]], Awaitable[None]],
    *,
    channel: ChannelRule[P] = nowhere,
) -> Adapter:
    """A view submission: parse `private_metadata` into `model`, resolve the actor in
    `channel`, then call `listener`, which acks."""

    async def adapter(
        ack: AsyncAck, body: Json, client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        view: Json = body["view"]
        try:
            meta = parse(model, view.get("private_metadata"))
            channel_id = channel(meta, body)
            actor = pinned(await actor_of(context, channel_id), meta)
        except Exception as error:
            await refuse_submission(error, ack, view, context)
            return
        kit = kit_of(context)
        await listener(Submission(meta, actor, kit, channel_id, ack, body, client))

    return _named_like(adapter, listener)


def on_event(listener: Callable[[Event], Awaitable[None]]) -> Adapter:
    """An event about the person: resolve the actor where the event happened."""

    async def adapter(event: Json, client: AsyncWebClient, context: AsyncBoltContext) -> None:
        actor = await actor_of(context)
        await listener(Event(event, actor, kit_of(context), client))

    return _named_like(adapter, listener)


Reply = tuple[str, Sequence[Block]]


def on_command(
    parse: Callable[[str], C],
    listener: Callable[[Slash[C]], Awaitable[None]],
    *,
    answer: Callable[[C], Reply | None],
) -> Adapter:
    """A slash command: parse its text; what `answer` can say at once (usage, a typo) goes
    out in the ack itself; anything else is acked, then `listener` runs with the actor."""

    async def adapter(
        ack: AsyncAck,
        command: Json,
        client: AsyncWebClient,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        parsed = parse(str(command.get("text") or ""))
        reply = answer(parsed)
        if reply is not None:
            text, blocks = reply
            await ack(text=text, blocks=blocks, response_type="ephemeral")
            return
        await ack()
        channel_id = str(command.get("channel_id") or "") or None
        actor = await actor_of(context, channel_id)
        kit = kit_of(context)
        await listener(Slash(parsed, actor, kit, channel_id, command, client, respond))

    return _named_like(adapter, listener)
