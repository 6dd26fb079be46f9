"""Emergency addresses: validate the form, ask the geocoder, save, or offer candidates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.backends.base import E911Candidates, E911Invalid
from bot.domain.e911 import E911Address, validate_address
from bot.domain.errors import Conflict, InvalidInput
from bot.domain.phone import parse_number
from bot.domain.records import NumberRecord
from bot.service.context import Actor, Deps
from bot.service.numbers import NumberService


@dataclass(frozen=True, slots=True)
class E911Result:
    """Either the number as saved, or the candidates the person must choose from."""

    number: NumberRecord
    candidates: tuple[E911Address, ...] = ()

    @property
    def saved(self) -> bool:
        return not self.candidates


class E911Service:
    def __init__(self, deps: Deps, numbers: NumberService) -> None:
        self.deps = deps
        self.numbers = numbers

    async def set_address(
        self, actor: Actor, number: str, fields: dict[str, Any], *, channel_id: str | None = None
    ) -> E911Result:
        """Validate and save; a bad field raises `InvalidInput(field, ...)`."""
        actor.require_admin("set e911 addresses")
        e164 = parse_number(number)
        current = await self.numbers.get(actor, e164, channel_id=channel_id)
        account = await self.numbers.accounts.for_channel(actor, channel_id)
        address = validate_address(
            street_address=fields.get("street_address"),
            extended_address=fields.get("extended_address"),
            locality=fields.get("locality"),
            region=fields.get("region"),
            postal_code=fields.get("postal_code"),
            caller_name=fields.get("caller_name"),
            default_caller_name=account.name if len(account.name) >= 3 else None,
        )
        # The geocoder is a remote call: made before the write transaction opens.
        outcome = await self.deps.backend.geocode(address)
        if isinstance(outcome, E911Invalid):
            raise InvalidInput(outcome.field, outcome.message)
        if isinstance(outcome, E911Candidates):
            return E911Result(current, outcome.candidates)
        saved = outcome.address
        async with self.deps.uow() as uow:
            record = await self.numbers.owned(uow, account, e164)
            now = self.deps.clock()
            await self.deps.backend.set_e911(uow, record, saved, actor=actor.user_id, now=now)
            after = replace(record, e911=saved)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="e911.set",
                number=e164,
                before=record.snapshot(),
                after={**after.snapshot(), "address": saved.one_line()},
            )
            await uow.commit()
        return E911Result(after)

    async def remove_address(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """Refused for the account's last emergency-enabled main number."""
        actor.require_admin("remove e911 addresses")
        e164 = parse_number(number)
        account = await self.numbers.accounts.for_channel(actor, channel_id)
        async with self.deps.uow() as uow:
            record = await self.numbers.owned(uow, account, e164)
            if record.e911 is None:
                return record
            if record.emergency_enabled and record.assignment and record.assignment.kind == "main":
                enabled = await uow.numbers.emergency_main_numbers(account.id)
                if enabled == [e164]:
                    raise Conflict(
                        f"{record.display} is the account's last emergency-enabled main number; "
                        "set e911 on another main number before removing this one."
                    )
            now = self.deps.clock()
            await self.deps.backend.remove_e911(uow, record, now)
            after = replace(record, e911=None)
            await uow.audit.add(
                at=now,
                workspace_id=actor.workspace_id,
                actor=actor.user_id,
                action="e911.removed",
                number=e164,
                before=record.snapshot(),
                after=after.snapshot(),
            )
            await uow.commit()
            return after
