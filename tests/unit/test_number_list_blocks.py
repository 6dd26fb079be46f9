"""The list's blocks: rows, menus, the warning, the page line and buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.blocks.number_list import MENU, number_list_message, page_text, row_text, typed
from bot.blocks.payloads import ListRef, MenuPick
from bot.domain.assignment import Assignment
from bot.domain.e911 import E911Address, E911Status
from bot.domain.phone import Kind
from bot.domain.records import AccountInfo, NumberFilter, NumberRecord
from bot.domain.states import NumberState
from bot.service.listing import NumberList

ACCOUNT = AccountInfo("a1", "T1", "Acme <Corp>")
ADDRESS = E911Address(
    "140 Main St", "San Francisco", "CA", "94103", "Acme", status=E911Status.PROVISIONED
)


def _number(e164: str, **fields: object) -> NumberRecord:
    return NumberRecord(e164, NumberState.IN_SERVICE, Kind.LOCAL, "a1", **fields)  # type: ignore[arg-type]


def _list(rows: list[NumberRecord], **fields: object) -> NumberList:
    values: dict[str, object] = {
        "account": ACCOUNT,
        "flt": NumberFilter(),
        "rows": tuple(rows),
        "page": 1,
        "has_previous": False,
        "has_next": False,
        "matching": len(rows),
        "more_than": False,
        "main_emergency_enabled": True,
    }
    values.update(fields)
    return NumberList(**values)  # type: ignore[arg-type]


def test_row_text() -> None:
    main = _number("+14155552671", assignment=Assignment.main(), e911=ADDRESS)
    assert row_text(main) == "*(415) 555-2671 · San Francisco, CA* · Main Company Numbers · 🚑"
    person = _number("+12125552671", assignment=Assignment.user("U99"))
    # A person's number without e911 places calls 911 cannot locate: the row says so.
    assert row_text(person).endswith("· <@U99> · ⚠️ no e911")
    assert row_text(_number("+13125552671")).endswith("· spare")
    aging = NumberRecord(
        "+13125552672",
        NumberState.AGING,
        Kind.LOCAL,
        "a1",
        aging_until=datetime(2026, 12, 26, tzinfo=UTC),
    )
    assert row_text(aging).endswith("· aging · restorable until 2026-12-26")


def test_admin_rows_have_exactly_the_five_items() -> None:
    number = _number("+14155552671", assignment=Assignment.main())
    _, blocks = number_list_message(_list([number]), admin=True)
    rows = [b.to_dict() for b in blocks if b.to_dict().get("accessory")]
    [row] = rows
    options = row["accessory"]["options"]
    assert [o["text"]["text"] for o in options] == ["Assign", "Unassign", "e911", "Move", "Release"]
    picks = [MenuPick.model_validate_json(o["value"]) for o in options]
    assert [p.op for p in picks] == [op for _, op in MENU]
    assert all(p.number == number.e164 for p in picks)
    assert all(len(o["value"]) <= 150 for o in options)


def test_read_only_list_has_no_menus_and_no_buy_button() -> None:
    number = _number("+14155552671")
    _, blocks = number_list_message(_list([number], has_next=True), admin=False)
    shown = [b.to_dict() for b in blocks]
    assert not any(b.get("accessory") for b in shown)
    buttons = [e["text"]["text"] for b in shown if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Next"]


def test_warning_first_and_account_name_escaped() -> None:
    _, blocks = number_list_message(_list([], main_emergency_enabled=False), admin=True)
    first = blocks[0].to_dict()["text"]["text"]
    assert first.startswith(":warning:") and "Acme &lt;Corp&gt;" in first
    assert "/numbers e911 NUMBER" in first


def test_page_buttons_carry_cursors() -> None:
    rows = [_number(f"+1415555{n:04d}") for n in range(2671, 2681)]
    lst = _list(rows, page=3, has_previous=True, has_next=True, matching=120)
    _, blocks = number_list_message(lst, admin=True)
    actions = next(b.to_dict() for b in blocks if b.to_dict()["type"] == "actions")
    refs = {e["text"]["text"]: e.get("value") for e in actions["elements"]}
    account = lst.account.id  # the page buttons act on the account listed
    previous = ListRef(before=rows[0].e164, page=2, account_id=account)
    assert ListRef.model_validate_json(refs["Previous"]) == previous
    assert ListRef.model_validate_json(refs["Next"]) == ListRef(
        after=rows[-1].e164, page=4, account_id=account
    )
    assert "Buy Numbers" in refs
    assert page_text(lst) == "Page 3 · 21-30 of 120 numbers match"


def test_capped_count_says_more_than() -> None:
    lst = _list([_number("+14155552671")], matching=1000, more_than=True)
    assert page_text(lst) == "Page 1 · 1-1 of more than 1,000 numbers match"


def test_typed_is_clipped_then_escaped() -> None:
    assert typed("<@U1>") == "&lt;@U1&gt;"
    assert len(typed("x" * 500)) == 60


def test_a_kazoo_only_person_is_named_by_their_kazoo_id_not_a_mention() -> None:
    kazoo_id = "6b71cb72c876b5b1396a335f8f8a2594"
    person = _number("+12125552671", assignment=Assignment.user(kazoo_id))
    assert row_text(person).endswith(f"· Kazoo user `{kazoo_id}` · ⚠️ no e911")
    assert "<@" not in row_text(person)
