"""What people of another workspace (Slack Connect) see instead of the app."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks.text import escape

NO_WORKSPACE = (
    "I cannot tell which workspace this came from, so I changed nothing. "
    "Try again from a channel or the app's Home in your workspace."
)


def outsider_home(text: str) -> View:
    """The App Home of a person of another workspace: why there is nothing for them."""
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="numbers-bot"),
            SectionBlock(text=MarkdownTextObject(text=escape(text))),
        ],
    )


def outsider_modal(text: str) -> View:
    """Replaces a submitted modal: nothing was done, and why."""
    return View(
        type="modal",
        title=PlainTextObject(text="numbers-bot"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    )
