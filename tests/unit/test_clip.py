"""Issue 6 item 7: user text quoted back is escaped, then clipped."""

from __future__ import annotations

import random

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.blocks.lists import help_message
from bot.blocks.text import MAX_ECHO, clip, echo


def test_echo_escapes_then_clips() -> None:
    said = echo("<" * 1000)
    assert len(said) <= MAX_ECHO
    assert said.endswith("…") and "<" not in said
    assert said[:-1] == "&lt;" * ((MAX_ECHO - 1) // 4)  # whole entities only


def test_clip_never_cuts_an_entity() -> None:
    for size in range(1, 40):
        cut = clip(echo("a&b<c>d" * 10, 500), size)
        assert len(cut) <= size
        body = cut.removesuffix("…")
        amp = body.rfind("&")
        assert amp == -1 or ";" in body[amp:], cut


def test_a_bare_ampersand_far_back_costs_nothing() -> None:
    assert clip("Tom & Jerry " + "x" * 100, 50) == ("Tom & Jerry " + "x" * 100)[:49] + "…"


def test_short_text_is_only_escaped() -> None:
    assert echo("<@U1> & co") == "&lt;@U1&gt; &amp; co"


def test_every_help_message_fits_a_section() -> None:
    rng = random.Random(7)
    for _ in range(200):
        size = rng.randint(0, 4000)
        problem = "".join(rng.choice("<>&a🙂\n ") for _ in range(size))
        text, blocks = help_message(problem)
        for block in blocks:
            assert isinstance(block, SectionBlock)
            block.validate_json()
            assert isinstance(block.text, MarkdownTextObject)
            assert "<" not in block.text.text.split("*/numbers*")[0]  # nothing unescaped
        assert len(text) <= 4000
