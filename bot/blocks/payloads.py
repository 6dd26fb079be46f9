"""Small models carried in button values and `private_metadata` (never free text)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.states import RequestState


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


class CardRef(_Payload):
    """A card button: which request, and the state the card showed when it was drawn."""

    request_id: str = Field(min_length=1, max_length=64)
    expected_state: RequestState


class BuyMeta(_Payload):
    """The `Buy Numbers` modal: where it was opened from, to post the billing card there."""

    channel_id: str | None = Field(default=None, max_length=32)
    # The command's response_url: the only way to answer in a channel the bot is not in.
    response_url: str | None = Field(default=None, max_length=500)


class RejectMeta(_Payload):
    request_id: str = Field(min_length=1, max_length=64)


class NumberRef(_Payload):
    """A button or modal about one number: `Release`, the `Move` modal."""

    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    channel_id: str | None = Field(default=None, max_length=32)


class HistoryRef(_Payload):
    """A page of `/numbers history NUMBER`."""

    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    page: int = Field(ge=0, le=10_000)


class RequestsRef(_Payload):
    """A button in `/numbers requests` or the App Home: the request, and the view to redraw."""

    request_id: str = Field(min_length=1, max_length=64)
    expected_state: RequestState
    which: str | None = Field(default=None, pattern=r"^(mine|pending|all)$")
