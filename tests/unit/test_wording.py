"""Issue 13, item 17: the words of the bot, singular and plural, stops and the right verb."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from bot.__main__ import main
from bot.blocks.buy import BuyForm, Results, buy_modal
from bot.blocks.cards import bought_text, given_text, moved_text, status_text, unposted_modal
from bot.blocks.history import entry_text
from bot.blocks.payloads import BuyMeta
from bot.domain.assignment import Assignment
from bot.domain.phone import Kind
from bot.domain.records import AuditEntry, NumberRecord
from bot.domain.states import ItemOutcome, NumberState, RequestState
from tests.unit.test_blocks import _offers, _request

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _shown(form: BuyForm) -> str:
    return json.dumps(buy_modal(form).to_dict(), ensure_ascii=False)


def test_one_spare_number_is_singular() -> None:
    spare = NumberRecord("+14155552000", NumberState.IN_SERVICE, Kind.LOCAL, "a1")
    shown = _shown(BuyForm(meta=BuyMeta(), spares=(spare,)))
    assert "*1* spare number: assigning it costs nothing." in shown
    results = Results("local415", "area code 415", _offers(2, spare=1))
    shown = _shown(BuyForm(meta=BuyMeta(), results=results))
    assert "*1* number for sale" in shown and "*1* spare number of yours" in shown
    assert "1* spare numbers" not in shown and "1* numbers" not in shown


def _bought(n: int) -> object:
    items = tuple(replace(i, outcome=ItemOutcome.BOUGHT) for i in _request(n).items)
    return _request(n, RequestState.COMPLETED, items=items, target=Assignment.user("U2"))


def test_one_bought_number_is_it_not_they() -> None:
    one, two = _bought(1), _bought(2)
    assert "Bought 1 number. It will be active" in status_text(one)  # type: ignore[arg-type]
    assert "Bought 2 numbers. They will be active" in status_text(two)  # type: ignore[arg-type]
    assert "It will be active" in bought_text(one)  # type: ignore[arg-type]
    assert "your number is bought" in bought_text(one)  # type: ignore[arg-type]
    assert "It will be active" in (given_text(one) or "")  # type: ignore[arg-type]


def test_a_rejection_reason_ends_with_a_full_stop() -> None:
    rejected = _request(2, RequestState.REJECTED, reason="Too expensive", decided_by="U9")
    assert "“Too expensive”. Nothing was bought." in status_text(rejected)
    assert "“Too expensive”. Nothing was bought" in (moved_text(rejected) or "")


def test_freed_holds_are_not_called_released() -> None:
    expired = _request(2, RequestState.EXPIRED)
    rejected = _request(2, RequestState.REJECTED, reason="no", decided_by="U9")
    for text in (status_text(expired), moved_text(expired) or "", moved_text(rejected) or ""):
        assert "released" not in text and "the numbers it held are free again" in text
    modal = json.dumps(unposted_modal(_request(2)).to_dict())
    assert "released" not in modal


def test_a_moved_history_entry_says_the_accounts_once() -> None:
    entry = AuditEntry(
        1, NOW, "UADMIN", "number.moved", "+14155552000", None,
        {"account_id": "a1", "assignment": "main"}, {"account_id": "a2", "assignment": None},
        detail="Main → Branch",
    )  # fmt: skip
    text = entry_text(entry, {"a1": "Main", "a2": "Branch"})
    assert text.count("Branch") == 1 and "Main → Branch" not in text, text


def test_help_explains_every_command(capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    for command in ("run", "serve", "console", "migrate"):
        assert f"\n  {command} " in out, out
    assert "bring the database schema up to date" in out and "offline console" in out
