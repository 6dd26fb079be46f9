"""Emergency addresses: validate the form, provision at the carrier, save, or offer candidates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.backends.carrier import Carrier, E911Charges, E911Fault
from bot.domain.billing import E911Price, Quote, Rate
from bot.domain.e911 import E911Address, E911Candidates, E911Invalid, validate_address
from bot.domain.errors import BackendUnavailable, InvalidInput
from bot.domain.phone import parse_number
from bot.domain.records import AccountInfo, NumberRecord
from bot.service.changes import (
    NumberChange,
    apply_changes,
    carrier_account,
    check_changes,
    keep_emergency_main,
)
from bot.service.context import Actor, Deps
from bot.service.numbers import NumberService
from bot.service.ports import UnitOfWork


@runtime_checkable
class E911Quoting(Protocol):
    """A carrier that can say what e911 on a number will cost, before it is set."""

    async def quote_e911(self, e164: str, *, account_id: str) -> Rate | None: ...


def _quoting(carrier: object) -> E911Quoting | None:
    # The wrappers (write guard, people) forward the Carrier protocol only: this optional
    # capability is looked up on the carrier they wrap. Prices are asked outside writes.
    seen = 0
    while carrier is not None and seen < 5:
        if isinstance(carrier, E911Quoting):
            return carrier
        carrier, seen = getattr(carrier, "inner", None), seen + 1
    return None


@dataclass(frozen=True, slots=True)
class E911Result:
    """Either the number as saved, or the candidates the person must choose from."""

    number: NumberRecord
    candidates: tuple[E911Address, ...] = ()
    # The carrier's charges for the change, to accept before it is made (Kazoo's 402).
    charges: Quote | None = None

    @property
    def saved(self) -> bool:
        return not self.candidates and self.charges is None


class _Candidates(Exception):
    """The provider offered candidates: nothing is provisioned, nothing written."""

    def __init__(self, candidates: tuple[E911Address, ...]) -> None:
        self.candidates = candidates


class _Charges(Exception):
    """The change costs money at the carrier: nothing is provisioned, nothing written."""

    def __init__(self, quote: Quote) -> None:
        self.quote = quote


class SetAddress(NumberChange):
    doing = "set e911 addresses"
    action = "e911.set"

    def __init__(self, address: E911Address, actor_id: str, accept_charges: bool = False) -> None:
        self.address = address
        self.actor_id = actor_id
        self.accept_charges = accept_charges
        self.saved: E911Address | None = None

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        # Validation and provisioning are one remote call, made before the write opens.
        outcome = await carrier.provision_e911(
            record.e164,
            self.address,
            account_id=carrier_account(account),
            accept_charges=self.accept_charges,
        )
        if isinstance(outcome, E911Charges):
            raise _Charges(outcome.quote)
        if isinstance(outcome, E911Invalid):
            raise InvalidInput(outcome.field, outcome.message)
        if isinstance(outcome, E911Candidates):
            raise _Candidates(outcome.candidates)
        if isinstance(outcome, E911Fault):
            raise BackendUnavailable(outcome.message)
        self.saved = outcome.address

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        if record.e911 is None:
            await carrier.remove_e911(record.e164, account_id=carrier_account(account))
        else:
            # The address it had: charges for it were accepted when it was set.
            await carrier.provision_e911(
                record.e164, record.e911, account_id=carrier_account(account), accept_charges=True
            )

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        assert self.saved is not None
        await uow.numbers.set_e911(record.e164, self.saved, self.actor_id, now)
        return replace(record, e911=self.saved)

    def audit_after(self, after: NumberRecord) -> dict[str, object]:
        assert self.saved is not None
        return {**after.snapshot(), "address": self.saved.one_line()}


class RemoveAddress(NumberChange):
    """Refused for the account's last emergency-enabled main number."""

    doing = "remove e911 addresses"
    action = "e911.removed"

    def settled(self, record: NumberRecord) -> bool:
        return record.e911 is None

    async def check(self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord) -> None:
        await keep_emergency_main(uow, account, record, "remove the e911 address of")

    async def at_carrier(
        self, carrier: Carrier, account: AccountInfo, record: NumberRecord
    ) -> None:
        await carrier.remove_e911(record.e164, account_id=carrier_account(account))

    async def undo(self, carrier: Carrier, account: AccountInfo, record: NumberRecord) -> None:
        assert record.e911 is not None
        await carrier.provision_e911(
            record.e164, record.e911, account_id=carrier_account(account), accept_charges=True
        )

    async def write(
        self, uow: UnitOfWork, account: AccountInfo, record: NumberRecord, now: datetime
    ) -> NumberRecord | None:
        await uow.numbers.remove_e911(record.e164)
        return replace(record, e911=None)


class E911Service:
    def __init__(self, deps: Deps, numbers: NumberService) -> None:
        self.deps = deps
        self.numbers = numbers

    async def set_address(
        self,
        actor: Actor,
        number: str,
        fields: dict[str, Any],
        *,
        channel_id: str | None = None,
        accept_charges: bool = False,
    ) -> E911Result:
        """Validate and save; a bad field raises `InvalidInput(field, ...)`.

        A change the carrier charges for is made only with `accept_charges`; without
        it the result carries the charges for the person to accept.
        """
        e164, address = await self._address(actor, number, fields, channel_id)
        current = await self.numbers.get(actor, e164, channel_id=channel_id)
        command = SetAddress(address, actor.user_id, accept_charges)
        try:
            [after] = await apply_changes(
                self.deps, self.numbers.accounts, actor, [e164], command, channel_id=channel_id
            )
        except _Candidates as offered:
            return E911Result(current, offered.candidates)
        except _Charges as priced:
            return E911Result(current, charges=priced.quote)
        return E911Result(after)

    async def check_address(
        self, actor: Actor, number: str, fields: dict[str, Any], *, channel_id: str | None = None
    ) -> None:
        """The form's rules and the number's, with nothing sent or changed; the geocoder's
        verdict comes from the carrier, so only `set_address` can give it."""
        e164, address = await self._address(actor, number, fields, channel_id)
        command = SetAddress(address, actor.user_id)
        await check_changes(
            self.deps, self.numbers.accounts, actor, [e164], command, channel_id=channel_id
        )

    async def _address(
        self, actor: Actor, number: str, fields: dict[str, Any], channel_id: str | None
    ) -> tuple[str, E911Address]:
        actor.require_admin("set e911 addresses")
        e164 = parse_number(number)
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
        return e164, address

    async def price(
        self, actor: Actor, record: NumberRecord, *, channel_id: str | None = None
    ) -> E911Price:
        """What setting `record`'s address adds per month: the carrier's quote when it gives
        one, else the service plan's e911 rate; nothing more when it is already enabled."""
        plan = self.deps.settings.plan
        rate, quoted = plan.e911, False
        carrier = _quoting(self.deps.carrier)
        if not record.emergency_enabled and carrier is not None:
            account = await self.numbers.accounts.for_channel(actor, channel_id)
            try:
                offered = await carrier.quote_e911(record.e164, account_id=carrier_account(account))
            except Exception:  # a price is a courtesy; the plan's stands in for it
                offered = None
            if offered is not None:
                rate, quoted = offered, True
        # Kazoo prices e911 by its own service plan and asks for the charges when the
        # address is saved (a 402 to accept): the bot's plan says nothing of them.
        confirms = self.deps.settings.backend == "kazoo" and not quoted
        return E911Price(
            rate,
            plan.currency,
            already_billed=record.emergency_enabled,
            quoted=quoted,
            carrier_confirms=confirms,
        )

    async def remove_address(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> NumberRecord:
        """Refused for the account's last emergency-enabled main number."""
        [after] = await apply_changes(
            self.deps,
            self.numbers.accounts,
            actor,
            [number],
            RemoveAddress(),
            channel_id=channel_id,
        )
        return after
