"""Issue 7 item 7: listeners get their payload parsed and the actor resolved before they run.

The adapters of bot/handlers/context.py are driven here as bolt drives them (keyword
arguments by name), with a bolt context holding a Kit whose roles record the channel
each actor was resolved in.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk.webhook import WebhookResponse

from bot.blocks.payloads import BuyMeta, E911Meta, HistoryRef, MenuPick, NumberRef
from bot.handlers.context import (
    STALE,
    BadPayload,
    Click,
    Event,
    NoValue,
    Slash,
    Submission,
    clicked_in,
    named,
    on_click,
    on_command,
    on_event,
    on_submit,
)
from bot.handlers.kit import KIT_KEY, InFlight, Kit
from bot.service.context import Actor

Json = dict[str, Any]
NUMBER = "+14155552671"


class Roles:
    """Resolves everyone as a plain member and remembers the channel it was asked about."""

    def __init__(self) -> None:
        self.channels: list[str | None] = []

    async def actor(
        self,
        user_id: str,
        workspace_id: str,
        channel_id: str | None = None,
        *,
        team_id: str | None = None,
        org_id: str | None = None,
    ) -> Actor:
        self.channels.append(channel_id)
        return Actor(user_id, workspace_id, channel_id=channel_id, team_id=team_id)


class Ack:
    def __init__(self) -> None:
        self.calls: list[Json] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


class Respond:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.said: list[str] = []

    async def __call__(self, **kwargs: Any) -> WebhookResponse:
        self.said.append(str(kwargs.get("text")))
        return WebhookResponse(url="https://hooks", status_code=self.status, body="", headers={})


class Client:
    def __init__(self) -> None:
        self.posted: list[Json] = []

    async def chat_postMessage(self, **kwargs: Any) -> Json:
        self.posted.append(kwargs)
        return {"ok": True}


def bolt_context(
    roles: Roles, *, channel_id: str | None = "C_CONTEXT", respond: Respond | None = None
) -> AsyncBoltContext:
    kit = Kit(
        services=cast(Any, None),
        settings=cast(Any, None),
        roles=cast(Any, roles),
    )
    context = AsyncBoltContext(user_id="U1", team_id="T1", channel_id=channel_id)
    context[KIT_KEY] = kit
    context["client"] = Client()
    if respond is not None:
        context["respond"] = respond
        context["response_url"] = "https://hooks"
    return context


class Seen:
    """A listener that keeps what it was handed."""

    def __init__(self) -> None:
        self.got: list[Any] = []

    async def __call__(self, handed: Any) -> None:
        self.got.append(handed)


async def click(adapter: Any, context: AsyncBoltContext, body: Json, action: Json) -> Ack:
    ack = Ack()
    await adapter(
        ack=ack, body=body, action=action, client=context.client, respond=None, context=context
    )
    return ack


# --- buttons ------------------------------------------------------------------------------


async def test_a_button_value_is_parsed_once_and_handed_over_with_actor_and_kit() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles)
    value = HistoryRef(number=NUMBER, page=2).dump()
    ack = await click(on_click(HistoryRef, seen), context, {"trigger_id": "t1"}, {"value": value})
    [got] = seen.got
    assert isinstance(got, Click)
    assert got.payload == HistoryRef(number=NUMBER, page=2)
    assert got.actor.user_id == "U1" and got.kit is context[KIT_KEY]
    assert got.trigger_id == "t1"
    assert ack.calls == [{}]  # acked before the listener, so a listener never acks a click


@pytest.mark.parametrize("value", ["not json", '{"number": "12", "page": 0}', None, '{"x": 1}'])
async def test_a_malformed_or_missing_value_is_refused_in_words_after_the_ack(
    value: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles)
    caplog.set_level(logging.WARNING, "bot.handlers.context")
    action = {} if value is None else {"value": value}
    ack = Ack()
    with pytest.raises(BadPayload) as raised:
        await on_click(HistoryRef, seen)(
            ack=ack, body={}, action=action, client=None, respond=None, context=context
        )
    assert raised.value.message == STALE
    assert ack.calls == [{}] and seen.got == [] and roles.channels == []
    assert "unreadable HistoryRef payload" in caplog.text


async def test_a_malformed_value_reaches_the_person_as_words_through_the_tracker() -> None:
    """What bolt runs: the tracker around the adapter tells the person, nothing raises."""
    respond = Respond()
    context = bolt_context(Roles(), respond=respond)
    listener = InFlight().track(on_click(HistoryRef, Seen()))
    ack = Ack()
    await listener(
        ack=ack, body={}, action={"value": "{"}, client=None, respond=respond, context=context
    )
    assert respond.said == [STALE]


async def test_bolt_reads_the_adapters_arguments_not_the_listeners() -> None:
    """bolt injects arguments by the names it finds after unwrapping; the listener takes one."""
    tracked = InFlight().track(on_click(HistoryRef, Seen()))
    assert get_arg_names_of_callable(tracked) == [
        "ack",
        "body",
        "action",
        "client",
        "respond",
        "context",
    ]
    submitted = InFlight().track(on_submit(E911Meta, Seen()))
    assert get_arg_names_of_callable(submitted) == ["ack", "body", "client", "context"]


async def test_an_overflow_item_is_read_from_its_option_in_the_channel_clicked() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles)
    pick = MenuPick(op="release", number=NUMBER).dump()
    body = {"channel": {"id": "C_LIST"}}
    await click(
        on_click(MenuPick, seen, channel=clicked_in),
        context,
        body,
        {"selected_option": {"value": pick}},
    )
    [got] = seen.got
    assert got.payload.op == "release" and got.channel_id == "C_LIST"
    assert got.actor.channel_id == "C_LIST" and roles.channels == ["C_LIST"]


async def test_the_actor_acts_in_the_channel_the_payload_names() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles, channel_id="C_CONTEXT")
    value = NumberRef(number=NUMBER, channel_id="C_NAMED").dump()
    await click(on_click(NumberRef, seen, channel=named), context, {}, {"value": value})
    assert seen.got[0].channel_id == "C_NAMED" and roles.channels == ["C_NAMED"]


async def test_without_a_channel_of_its_own_the_actor_acts_where_the_request_came_from() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles, channel_id="C_CONTEXT")
    value = NumberRef(number=NUMBER).dump()  # a modal opened from the App Home names none
    await click(on_click(NumberRef, seen, channel=named), context, {}, {"value": value})
    [got] = seen.got
    assert got.channel_id is None  # the services are told no channel, as before
    assert got.actor.channel_id == "C_CONTEXT"


async def test_a_button_inside_a_modal_reads_the_modals_metadata() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles, channel_id=None)
    meta = BuyMeta(channel_id="C_BUY", response_url="https://hooks/x").dump()
    body = {"view": {"id": "V1", "private_metadata": meta}}
    await click(
        on_click(BuyMeta, seen, channel=named, in_view=True), context, body, {"value": "ignored"}
    )
    [got] = seen.got
    assert got.payload == BuyMeta(channel_id="C_BUY", response_url="https://hooks/x")
    assert got.view["id"] == "V1" and roles.channels == ["C_BUY"]


async def test_a_button_that_carries_nothing_is_not_parsed() -> None:
    """The App Home's account select carries an account id, not one of our models."""
    seen = Seen()
    await click(
        on_click(NoValue, seen), bolt_context(Roles()), {}, {"selected_option": {"value": "A1"}}
    )
    assert seen.got[0].payload == NoValue()
    assert seen.got[0].action["selected_option"]["value"] == "A1"


# --- submissions --------------------------------------------------------------------------

E911_VIEW: Json = {
    "id": "V1",
    "blocks": [{"type": "section", "block_id": "intro"}, {"type": "input", "block_id": "street"}],
    "state": {"values": {"street": {"street": {"value": "1 Main St"}}}},
}


async def test_a_submission_gets_its_metadata_and_the_actor_and_acks_itself() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles, channel_id=None)
    view = {**E911_VIEW, "private_metadata": E911Meta(number=NUMBER, channel_id="C9").dump()}
    ack = Ack()
    await on_submit(E911Meta, seen, channel=named)(
        ack=ack, body={"view": view}, client=None, context=context
    )
    [got] = seen.got
    assert isinstance(got, Submission)
    assert got.meta.number == NUMBER and got.actor.channel_id == "C9" and got.channel_id == "C9"
    assert got.values["street"]["street"]["value"] == "1 Main St"
    assert ack.calls == [] and got.ack is ack  # a submission answers with errors or a view


@pytest.mark.parametrize("metadata", [None, "", "{}", "garbage", '{"number": "12"}'])
async def test_missing_or_malformed_metadata_keeps_the_modal_open_with_words(
    metadata: str | None,
) -> None:
    roles, seen = Roles(), Seen()
    view = dict(E911_VIEW)
    if metadata is not None:
        view["private_metadata"] = metadata
    ack = Ack()
    await on_submit(E911Meta, seen, channel=named)(
        ack=ack, body={"view": view}, client=None, context=bolt_context(roles)
    )
    assert seen.got == [] and roles.channels == []
    assert ack.calls == [{"response_action": "errors", "errors": {"street": STALE}}]


async def test_unreadable_metadata_on_a_modal_without_fields_closes_it_and_says_so_by_dm() -> None:
    context = bolt_context(Roles(), channel_id=None)
    ack = Ack()
    view = {"id": "V1", "blocks": [], "private_metadata": "{"}
    await on_submit(E911Meta, Seen())(ack=ack, body={"view": view}, client=None, context=context)
    assert ack.calls == [{}]
    assert context.client.posted == [{"channel": "U1", "text": STALE}]  # type: ignore[attr-defined]


async def test_an_actor_that_cannot_be_resolved_is_an_apology_on_the_modal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Roles):
        async def actor(self, *args: Any, **kwargs: Any) -> Actor:
            raise RuntimeError("users.info failed")

    view = {**E911_VIEW, "private_metadata": E911Meta(number=NUMBER).dump()}
    ack = Ack()
    await on_submit(E911Meta, Seen())(
        ack=ack, body={"view": view}, client=None, context=bolt_context(Broken())
    )
    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert "Something went wrong on our side" in answer["errors"]["street"]
    assert "users.info failed" in caplog.text  # logged with its traceback, not shown


# --- commands and events ------------------------------------------------------------------


async def test_a_command_answered_at_once_resolves_nobody() -> None:
    roles, seen = Roles(), Seen()
    adapter = on_command(str.split, seen, answer=lambda words: ("usage", []) if not words else None)
    ack = Ack()
    await adapter(
        ack=ack, command={"text": "  "}, client=None, respond=None, context=bolt_context(roles)
    )
    assert ack.calls == [{"text": "usage", "blocks": [], "response_type": "ephemeral"}]
    assert seen.got == [] and roles.channels == []


async def test_a_command_is_acked_then_run_with_its_parse_in_its_channel() -> None:
    roles, seen = Roles(), Seen()
    adapter = on_command(str.split, seen, answer=lambda _: None)
    ack = Ack()
    command = {"text": "list spares", "channel_id": "C_CMD", "trigger_id": "t9"}
    await adapter(ack=ack, command=command, client=None, respond=None, context=bolt_context(roles))
    [got] = seen.got
    assert isinstance(got, Slash)
    assert ack.calls == [{}] and got.parsed == ["list", "spares"]
    assert got.channel_id == "C_CMD" and roles.channels == ["C_CMD"] and got.trigger_id == "t9"


async def test_an_event_gets_the_actor_and_the_kit() -> None:
    roles, seen = Roles(), Seen()
    context = bolt_context(roles, channel_id=None)
    await on_event(seen)(event={"tab": "home"}, client=None, context=context)
    [got] = seen.got
    assert isinstance(got, Event) and got.actor.user_id == "U1" and got.kit is context[KIT_KEY]
