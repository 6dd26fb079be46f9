"""Slack users matched to Kazoo users by email, with a clear answer when there is none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.backends.carrier import CarrierUser
from bot.domain.errors import InvalidInput
from bot.handlers.slack_people import kazoo_user_for, slack_users_by_email

ALICE = CarrierUser("kz-alice", "alice@example.com", "Alice", "Able")
BOB = CarrierUser("kz-bob", "bob@example.com", "Bob", "Baker")


class FakeSlackClient:
    def __init__(self, emails: dict[str, str | None], *, error: str | None = None) -> None:
        self.emails = emails
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def _fail(self, error: str) -> None:
        raise SlackApiError(error, {"ok": False, "error": error})

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls.append(("users.info", user))
        if self.error:
            self._fail(self.error)
        if user not in self.emails:
            self._fail("user_not_found")
        email = self.emails[user]
        return {"ok": True, "user": {"id": user, "profile": {"email": email} if email else {}}}

    async def users_lookupByEmail(self, *, email: str) -> dict[str, Any]:
        self.calls.append(("users.lookupByEmail", email))
        for user, known in self.emails.items():
            if known and known.lower() == email:
                return {"ok": True, "user": {"id": user}}
        self._fail("users_not_found")
        raise AssertionError


class FakeCarrier:
    def __init__(self, users: Sequence[CarrierUser]) -> None:
        self._users = list(users)
        self.asked: list[str] = []

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]:
        self.asked.append(account_id)
        return self._users


async def find(slack: FakeSlackClient, carrier: FakeCarrier, user: str) -> CarrierUser:
    return await kazoo_user_for(
        slack,  # type: ignore[arg-type]
        carrier,  # type: ignore[arg-type]
        slack_user_id=user,
        account_id="acct",
    )


async def test_the_kazoo_user_with_the_same_email_is_found_ignoring_case() -> None:
    slack = FakeSlackClient({"UALICE": "Alice@Example.COM "})
    carrier = FakeCarrier([BOB, ALICE])
    assert await find(slack, carrier, "UALICE") == ALICE
    assert carrier.asked == ["acct"]


async def test_a_slack_user_without_a_kazoo_user_gets_a_clear_answer() -> None:
    slack = FakeSlackClient({"UCAROL": "carol@example.com"})
    with pytest.raises(InvalidInput) as caught:
        await find(slack, FakeCarrier([ALICE, BOB]), "UCAROL")
    assert caught.value.field == "target"
    assert caught.value.message.startswith("<@UCAROL> has no Kazoo user on this account")
    assert "SmartPBX" in caught.value.message


async def test_a_slack_user_without_an_email_is_told_so_without_asking_kazoo() -> None:
    carrier = FakeCarrier([ALICE])
    with pytest.raises(InvalidInput, match="Slack shows no email address for <@UBOT>"):
        await find(FakeSlackClient({"UBOT": None}), carrier, "UBOT")
    assert carrier.asked == []


async def test_a_missing_email_scope_is_named() -> None:
    slack = FakeSlackClient({"UALICE": "alice@example.com"}, error="missing_scope")
    with pytest.raises(InvalidInput, match=r"users:read\.email"):
        await find(slack, FakeCarrier([ALICE]), "UALICE")


async def test_an_unknown_slack_user_is_named() -> None:
    with pytest.raises(InvalidInput, match="Slack does not know the user <@UGHOST>"):
        await find(FakeSlackClient({}), FakeCarrier([ALICE]), "UGHOST")


async def test_two_kazoo_users_with_one_email_are_not_guessed_between() -> None:
    twin = CarrierUser("kz-alice-2", "ALICE@example.com")
    with pytest.raises(InvalidInput, match="Several Kazoo users"):
        await find(
            FakeSlackClient({"UALICE": "alice@example.com"}), FakeCarrier([ALICE, twin]), "UALICE"
        )


async def test_the_mirror_finds_slack_users_by_email_once_each() -> None:
    slack = FakeSlackClient({"UALICE": "alice@example.com"})
    lookup = slack_users_by_email(slack)  # type: ignore[arg-type]
    assert await lookup(ALICE) == "UALICE"
    assert await lookup(ALICE) == "UALICE"
    assert await lookup(BOB) is None
    assert await lookup(CarrierUser("kz-x", None)) is None
    assert slack.calls == [
        ("users.lookupByEmail", "alice@example.com"),
        ("users.lookupByEmail", "bob@example.com"),
    ]
