"""Small models carried in button values and `private_metadata` (never free text)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.errors import InvalidInput
from bot.domain.phone import Kind
from bot.domain.records import AssignmentFilter

E164 = r"^\+1[0-9]{10}$"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


class _Drawn(_Payload):
    # Buttons drawn before carried `expected_state` (never read): still accepted, ignored.
    model_config = ConfigDict(frozen=True, extra="ignore")


class CardRef(_Drawn):
    """A card button: which request (the service reads its state when it moves it)."""

    request_id: str = Field(min_length=1, max_length=64)


class HomeRef(_Payload):
    """An App Home button: the account the Home shows, which the button acts on."""

    account_id: str | None = Field(default=None, max_length=64)


class BuyMeta(_Payload):
    """The `Buy Numbers` modal: where it was opened from, to post the billing card there."""

    channel_id: str | None = Field(default=None, max_length=32)
    # The command's response_url: the only way to answer in a channel the bot is not in.
    response_url: str | None = Field(default=None, max_length=500)
    # The account it was drawn for: it acts there, whatever the channel is bound to now.
    account_id: str | None = Field(default=None, max_length=64)


class RejectMeta(_Payload):
    request_id: str = Field(min_length=1, max_length=64)


class NumberRef(_Payload):
    """A button or modal about one number: `Release`, the `Move` modal."""

    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    channel_id: str | None = Field(default=None, max_length=32)
    # The account it was drawn for: it acts there, whatever the channel is bound to now.
    account_id: str | None = Field(default=None, max_length=64)


class MoveMeta(NumberRef):
    """The `Move number` modal: the number, where it was opened from, and that place's
    `response_url` (the only way to answer in a channel the bot is not in)."""

    response_url: str | None = Field(default=None, max_length=500)


class ReleaseRef(NumberRef):
    """`Release` on a prompt: the number as the prompt showed it (`Drawn`), so a click
    after it changed (released and restored meanwhile) does nothing and says so."""

    version: int = Field(ge=0)
    seen: int = Field(ge=0)


class HistoryRef(_Payload):
    """A page of `/numbers history NUMBER`."""

    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    page: int = Field(ge=0, le=10_000)


class RequestsRef(_Drawn):
    """A button in `/numbers requests` or the App Home: the request, and the view to redraw."""

    request_id: str = Field(min_length=1, max_length=64)
    which: str | None = Field(default=None, pattern=r"^(mine|pending|all)$")


MenuOp = Literal["assign", "unassign", "e911", "move", "release", "restore", "history"]


class MenuPick(_Payload):
    """An item of a listed number's overflow menu (Slack allows 150 characters)."""

    op: MenuOp
    number: str = Field(pattern=E164)
    account_id: str | None = Field(default=None, max_length=64)  # the list's account


class ListRef(_Payload):
    """A list's `Next`/`Previous` button: the filter and the keyset cursor of that page."""

    assignment: str | None = Field(default=None, max_length=40)
    e911: bool | None = None
    kind: Kind | None = None
    npa: str | None = Field(default=None, pattern=r"^[0-9]{3}$")
    title: str | None = Field(default=None, max_length=80)
    after: str | None = Field(default=None, pattern=E164)
    before: str | None = Field(default=None, pattern=E164)
    page: int = Field(default=1, ge=1, le=1_000_000)
    # The account it was drawn for: it acts there, whatever the channel is bound to now.
    account_id: str | None = Field(default=None, max_length=64)

    @field_validator("assignment")
    @classmethod
    def _known_filter(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                AssignmentFilter.parse(value)
            except InvalidInput as exc:
                raise ValueError(exc.message) from None  # pydantic's way: BadPayload, in words
        return value


class AddressFields(_Payload):
    """An e911 address as the form holds it (a geocoder candidate, kept in the modal)."""

    street_address: str = Field(max_length=100)
    extended_address: str | None = Field(default=None, max_length=100)
    locality: str = Field(max_length=60)
    region: str = Field(max_length=2)
    postal_code: str = Field(max_length=10)
    caller_name: str | None = Field(default=None, max_length=32)


class E911Meta(_Payload):
    """The `e911` modal: which number, where it was opened from, and any candidates."""

    number: str = Field(pattern=E164)
    channel_id: str | None = Field(default=None, max_length=32)
    response_url: str | None = Field(default=None, max_length=500)
    # The account it was drawn for: it acts there, whatever the channel is bound to now.
    account_id: str | None = Field(default=None, max_length=64)
    candidates: tuple[AddressFields, ...] = ()
    # The address waiting for the person to accept the carrier's charges for it.
    pending: AddressFields | None = None


class AssignMeta(_Payload):
    number: str = Field(pattern=E164)
    channel_id: str | None = Field(default=None, max_length=32)
    response_url: str | None = Field(default=None, max_length=500)
    # The account it was drawn for: it acts there, whatever the channel is bound to now.
    account_id: str | None = Field(default=None, max_length=64)
