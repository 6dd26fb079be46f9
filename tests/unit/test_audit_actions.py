"""Every audit action has a name in `AuditAction` and words on the history page."""

from __future__ import annotations

import re
from pathlib import Path

from bot.blocks.history import ACTION_WORDS, action_text
from bot.domain.audit import AuditAction
from bot.domain.records import AuditEntry
from tests.unit.test_purchase_use_cases import Clock

ROOT = Path(__file__).resolve().parents[2]
# An action written as a string where an event is made (service and storage).
WRITTEN = re.compile(r"""["']((?:number|request|account|e911)\.[a-z_]+)["']""")


def test_every_action_has_its_own_words() -> None:
    assert set(ACTION_WORDS) == {a.value for a in AuditAction}
    words = list(ACTION_WORDS.values())
    assert len(set(words)) == len(words)


def test_the_sync_and_lapsed_holds_read_as_words() -> None:
    def entry(action: str) -> AuditEntry:
        return AuditEntry(1, Clock()(), "system", action, "+14155550100", None, None, None)

    assert action_text(entry("number.synced")) == "synced from the carrier"
    assert action_text(entry("number.hold_lapsed")) == "hold lapsed"


def test_every_action_the_bot_writes_is_named() -> None:
    written = set()
    for folder in ("bot/service", "bot/domain", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            written |= set(WRITTEN.findall(path.read_text()))
    assert written, "the pattern finds the actions"
    assert written <= {a.value for a in AuditAction}
