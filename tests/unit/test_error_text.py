"""Issue 7 item 7 (errors.py): what `tell` sends quotes typed text escaped and clipped, and a
response_url post Slack refuses is logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.webhook import WebhookResponse

from bot.blocks.error_text import error_text
from bot.blocks.text import MAX_ECHO, MAX_SECTION_TEXT
from bot.domain.errors import InvalidInput, NotAllowed
from bot.handlers.errors import tell


def test_what_was_typed_cannot_forge_a_mention_or_a_link() -> None:
    said = error_text("“<!channel> <@U999> <https://evil|click>” is not a number.")
    assert "<" not in said and ">" not in said
    assert "&lt;!channel&gt;" in said and "&lt;@U999&gt;" in said


def test_our_own_mentions_stay_mentions() -> None:
    assert error_text("Only <@U123> can accept this request.") == (
        "Only <@U123> can accept this request."
    )


def test_a_quote_is_clipped_and_the_words_around_it_stay() -> None:
    said = error_text(f"“{'9' * 1000}” is not a number; type 4155552671.")
    quoted = said[1 : said.index("”")]
    assert len(quoted) <= MAX_ECHO and quoted.endswith("…")
    assert said.endswith("” is not a number; type 4155552671.")


def test_text_already_escaped_is_not_escaped_twice() -> None:
    assert error_text("“a &amp; b &lt;c&gt;” and Tom & Jerry") == (
        "“a &amp; b &lt;c&gt;” and Tom &amp; Jerry"
    )


def test_the_whole_message_is_clipped() -> None:
    assert len(error_text("<" * 5000)) <= MAX_SECTION_TEXT


class Respond:
    def __init__(self, status: int) -> None:
        self.status = status
        self.said: list[str] = []

    async def __call__(self, **kwargs: Any) -> WebhookResponse:
        self.said.append(str(kwargs["text"]))
        return WebhookResponse(url="u", status_code=self.status, body="used_url", headers={})


def context_with(respond: Respond) -> AsyncBoltContext:
    return AsyncBoltContext(user_id="U1", respond=respond, response_url="https://hooks")


async def test_tell_escapes_what_the_error_quotes() -> None:
    respond = Respond(200)
    await tell(InvalidInput("area_code", "“<!here>” is not an area code."), context_with(respond))
    assert respond.said == ["“&lt;!here&gt;” is not an area code."]


async def test_a_refused_response_url_post_is_logged_not_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    respond = Respond(404)
    caplog.set_level(logging.WARNING, "bot.handlers.errors")
    await tell(NotAllowed("Only numbers admins can buy numbers."), context_with(respond))
    assert respond.said == ["Only numbers admins can buy numbers."]
    assert "404" in caplog.text and "used_url" in caplog.text
