"""`KazooCarrier`: the carrier interface over Kazoo's Crossbar v2 API.

Kazoo is the system of record. This module only talks to Kazoo and maps its
answers to the typed values and errors of `bot.backends.carrier`; recording
them in the bot's database is the service's business. The mapping choices
are written down in docs/decisions/kazoo.md.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.backends.carrier import (
    Carrier,
    CarrierAccount,
    CarrierE911Outcome,
    CarrierFault,
    CarrierNumberState,
    CarrierQuote,
    CarrierUser,
    E911Charges,
    E911Fault,
    NotEnoughCredit,
    NotFoundAtCarrier,
    NumberConflict,
    NumberOrderResult,
    NumberStatus,
    Offer,
    OrderOutcome,
    OrderResult,
    OutcomeUnknown,
    OwnedPage,
    ReleaseResult,
    RouteTarget,
    SearchPage,
)
from bot.backends.kazoo_callflows import (
    TYPE_OF,
    FaxboxTaken,
    contains,
    faxbox_id,
    faxbox_number,
    is_real_number,
    numbers_of,
    pick_company,
    pick_user,
    target_of,
    with_number,
    without_number,
)
from bot.backends.kazoo_client import Backoff, KazooClient, KazooResponse, number_path
from bot.backends.kazoo_quote import QuoteShapeError, parse_quote
from bot.domain.assignment import AssignmentKind
from bot.domain.billing import Quote
from bot.domain.e911 import E911Address, E911Candidates, E911Invalid, E911Status, E911Valid
from bot.domain.phone import SearchQuery, format_national
from bot.keyed_locks import KeyedLocks

log = logging.getLogger(__name__)

REMEMBERED_ORDERS = 10_000
# What searches showed (number -> Kazoo's state), the newest last.
REMEMBERED_OFFERS = 10_000
# Kazoo's `maximum_search_quantity` (4.3:core/kazoo_number_manager/src/knm_search.erl:49).
MAX_SEARCH = 500
# An offset-0 search waits up to `number_search_timeout_ms` (5 s) per carrier module in
# turn (knm_search.erl:50-52, 258-282): two carriers can outlast the client's 10 s.
SEARCH_TIMEOUT = 30.0
_KAZOO_ID = re.compile(r"^[0-9a-f]{32}$")
# Per-number refusals Kazoo writes as a bare string (an atom reason: `kz_json:from_map`
# of `knm_numbers`' ko map, 4.3:core/kazoo_number_manager/src/knm_numbers.erl:571-578).
_BARE_REASONS = {
    "not_found": "Kazoo no longer has it from the search (not_found); search again.",
    "not_reconcilable": "Kazoo cannot use this number (not_reconcilable).",
}

_OWNED_STATES = (CarrierNumberState.IN_SERVICE, CarrierNumberState.PORT_IN)
# States in which a number belongs to an account (`identify` names it).
_TAKEN_STATES = (
    CarrierNumberState.IN_SERVICE,
    CarrierNumberState.PORT_IN,
    CarrierNumberState.PORT_OUT,
    CarrierNumberState.RESERVED,
)
# Nobody has the number: an activation that did not happen may be sent again.
_RETRY_STATES = (
    CarrierNumberState.UNKNOWN,
    CarrierNumberState.DISCOVERY,
    CarrierNumberState.AVAILABLE,
    CarrierNumberState.AGING,
)
_E911_FIELDS = (
    "street_address",
    "extended_address",
    "locality",
    "region",
    "postal_code",
    "caller_name",
)
# Kazoo's per-number error names that mean "the number moved on", not a fault.
_CONFLICT_ERRORS = frozenset(
    {
        "number_exists",
        "invalid_state_transition",
        "number_is_porting",
        "forbidden",
        "bad_identifier",
        "not_found",
    }
)


def _state(value: Any) -> CarrierNumberState:
    try:
        return CarrierNumberState(str(value))
    except ValueError:
        return CarrierNumberState.UNKNOWN


def _field(doc: Mapping[str, Any], name: str) -> Any:
    """A number document's field, from the top level or Kazoo's `_read_only` copy."""
    if name in doc:
        return doc[name]
    read_only = doc.get("_read_only")
    return read_only.get(name) if isinstance(read_only, dict) else None


def _reason(response: KazooResponse) -> str:
    data = response.data if isinstance(response.data, dict) else {}
    parts = [str(data.get("message") or ""), str(data.get("cause") or "")]
    if not any(parts):
        parts = [_nested_message(data)]
    detail = " ".join(p for p in parts if p and p != response.message)
    base = response.message or response.error or f"HTTP {response.status}"
    return f"{base}: {detail}" if detail else base


def _nested_message(data: Mapping[str, Any]) -> str:
    """The first message of Kazoo's validation shape `{"field": {"rule": {"message": ...}}}`."""
    for by_rule in data.values():
        if isinstance(by_rule, dict):
            for detail in by_rule.values():
                if isinstance(detail, dict) and detail.get("message"):
                    return str(detail["message"])
    return ""


def kazoo_id(account_id: str) -> str:
    """A Kazoo account id (32 hex), or a refusal: nothing else is ever sent to Kazoo."""
    if not _KAZOO_ID.match(account_id):
        raise CarrierFault(
            "This account is not linked to a Kazoo account; the next Kazoo sync links it, "
            "or bind the channel to one with /numbers account use."
        )
    return account_id


def _names_numbers(response: KazooResponse, numbers: Sequence[str]) -> bool:
    """The answer speaks of these numbers (a per-number result, not a whole failure)."""
    data = response.data if isinstance(response.data, dict) else {}
    buckets = [data, data.get("success"), data.get("error")]
    return any(isinstance(b, dict) and n in b for b in buckets for n in numbers)


def _not_enough_credit(response: KazooResponse) -> bool:
    text = " ".join(
        (
            response.message,
            str(response.data.get("message", "")) if isinstance(response.data, dict) else "",
            str(response.data.get("error", "")) if isinstance(response.data, dict) else "",
        )
    ).lower()
    return response.status == 402 and ("credit" in text or "not_enough" in text)


class KazooCarrier:
    """The `Carrier` protocol over Crossbar v2. One instance per process; share it."""

    name = "kazoo"

    def __init__(
        self,
        client: KazooClient,
        *,
        root_account_id: str,
        currency: str = "USD",
    ) -> None:
        self._client = client
        self.root_account_id = root_account_id
        self._currency = currency
        # Orders by idempotency key, the newest last. After a restart (or once
        # a key is dropped) Kazoo itself keeps the promise: activating a number
        # already in service on the account is free.
        self._orders: OrderedDict[str, OrderResult] = OrderedDict()
        self._order_locks = KeyedLocks()
        # Number -> the state a search showed (`reserved`: held for the account
        # by one above it, which it may activate).
        self._found: OrderedDict[str, str] = OrderedDict()
        # (account, number) a free dry run activated: given back with the hold.
        self._dry_activated: set[tuple[str, str]] = set()

    @classmethod
    def connect(
        cls,
        url: str,
        api_key: str,
        account_id: str,
        *,
        timeout: float = 10.0,
        backoff: Backoff | None = None,
        currency: str = "USD",
    ) -> KazooCarrier:
        client = KazooClient(url, api_key, timeout=timeout, backoff=backoff)
        return cls(client, root_account_id=account_id, currency=currency)

    def __repr__(self) -> str:
        return f"KazooCarrier({self._client!r}, account={self.root_account_id})"

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        """Authenticate and read the root account; raises if Kazoo does not answer."""
        response = await self._client.request("GET", f"/v2/accounts/{self.root_account_id}")
        if not response.ok:
            raise CarrierFault(f"Kazoo answered {response.status}: {_reason(response)}")

    # --- paths -------------------------------------------------------------------------

    @staticmethod
    def _numbers(account_id: str, suffix: str = "") -> str:
        return f"/v2/accounts/{kazoo_id(account_id)}/phone_numbers{suffix}"

    def _number(self, account_id: str, e164: str, suffix: str = "") -> str:
        return self._numbers(account_id, f"/{number_path(e164)}{suffix}")

    def _fail(self, response: KazooResponse, e164: str | None = None) -> Exception:
        """Kazoo's error answer as the carrier error it means."""
        reason = self._client.scrub(_reason(response))
        data = response.data if isinstance(response.data, dict) else {}
        name = str(data.get("error") or response.message)
        if _not_enough_credit(response):
            return NotEnoughCredit(
                "Kazoo says the account does not have enough credit.", number=e164
            )
        if response.status == 404 or name == "bad_identifier":
            # Kazoo's own words too: the person sees why (the number moved on).
            return NotFoundAtCarrier(
                f"Kazoo does not have this number on the account (Kazoo says: {reason}).",
                number=e164,
                carrier_message=reason,
            )
        if response.status in (400, 403, 409) and (
            name in _CONFLICT_ERRORS or response.status in (403, 409)
        ):
            return NumberConflict(f"Kazoo refused: {reason}", number=e164, carrier_message=reason)
        return CarrierFault(f"Kazoo answered {response.status}: {reason}", number=e164)

    # --- stock -------------------------------------------------------------------------

    async def search(
        self,
        query: SearchQuery,
        *,
        quantity: int,
        offset: int = 0,
        account_id: str | None = None,
    ) -> SearchPage:
        """Search under the buying account, as Monster UI does (M7): Kazoo's
        `knm_reserved` module offers the numbers reserved for the searched account."""
        where = account_id or self.root_account_id
        quantity = max(1, min(quantity, MAX_SEARCH))
        rows = await self._search_rows(where, query.prefix, quantity, offset)
        if offset > 0 and not rows:
            # Later pages come from a cache keyed by account and token (4.3:applications/
            # crossbar/src/modules_v2/cb_phone_numbers_v2.erl:617-639, knm_search.erl:
            # 205-230): after a new login it is empty. A search from the start refills it.
            rows = (await self._search_rows(where, query.prefix, offset + quantity, 0))[offset:]
        wanted = "+1" + query.prefix
        offers: list[Offer] = []
        for row in rows:
            number = row.get("number") or row.get("e164") if isinstance(row, dict) else None
            if isinstance(number, str) and number.startswith(wanted):
                offers.append(Offer(number, query.kind))
                self._remember(number, str(row.get("state") or "discovery"))
        # `offset` counts items: a full page may have more behind it.
        next_offset = offset + len(rows) if rows and len(rows) >= quantity else None
        return SearchPage(tuple(offers), next_offset)

    async def _search_rows(
        self, account_id: str, prefix: str, quantity: int, offset: int
    ) -> list[Any]:
        response = await self._client.request(
            "GET",
            self._numbers(account_id),
            params={"prefix": prefix, "quantity": quantity, "offset": offset},
            seconds=SEARCH_TIMEOUT,
        )
        if not response.ok:
            raise self._fail(response)
        return list(response.data) if isinstance(response.data, list) else []

    def _remember(self, e164: str, state: str) -> None:
        self._found[e164] = state
        self._found.move_to_end(e164)
        while len(self._found) > REMEMBERED_OFFERS:
            self._found.popitem(last=False)

    async def reserve(self, e164: str, *, account_id: str) -> None:
        """Hold at Kazoo only what Kazoo's numbers database has (the local pool).

        A number an upstream carrier offered lives only in the search cache of the
        Crossbar node: `reserve` reads the database and answers 404 (B1, 4.3:core/
        kazoo_number_manager/src/knm_numbers.erl:396-400, 185-191). Monster UI never
        reserves; it activates directly. Such a number is held in the bot's database
        only, and the activation discovers it (knm_numbers.erl:284-292).
        """
        status, module = await self._status(e164, account_id)
        if status.account_id == account_id and status.state is CarrierNumberState.RESERVED:
            return
        if status.account_id not in (None, account_id) or status.state in _TAKEN_STATES:
            # Kazoo would hand over a number in service (or held) elsewhere in the
            # reseller's tree (M1, 4.3:core/kazoo_number_manager/src/knm_number_states.erl:
            # 124-129): the bot never takes one.
            raise self._elsewhere(e164, status, account_id)
        if status.state is not CarrierNumberState.AVAILABLE or module == "local":
            # Not in the numbers database (or re-buyable aging): nothing to hold there.
            # A `knm_local` number is deleted when its reservation is released
            # (4.3:core/kazoo_number_manager/src/knm_numbers.erl:951-970): never held.
            return
        response = await self._client.request("PUT", self._number(account_id, e164, "/reserve"))
        if response.ok:
            return
        if response.status == 402:
            # The plan prices a reserved number (H4c): the bot's hold is enough; the
            # activation's own quote is the one the person accepts.
            return
        data = response.data if isinstance(response.data, dict) else {}
        if "no_change_required" in (data.get("error"), response.message):
            status = await self.number_status(e164, account_id=account_id)
            if status.state is CarrierNumberState.RESERVED and status.account_id == account_id:
                return
        raise self._fail(response, e164)

    def _elsewhere(self, e164: str, status: NumberStatus, account_id: str) -> NumberConflict:
        state = status.state.value.replace("_", " ")
        whose = "this" if status.account_id == account_id else "another"
        said = f"{state} on {whose} account" if status.account_id else state
        return NumberConflict(f"Kazoo shows the number {said}.", number=e164, carrier_message=said)

    async def release_reservation(self, e164: str, *, account_id: str) -> None:
        status = await self.number_status(e164, account_id=account_id)
        # Only the account's own hold is given back (ownership from `identify`, never
        # from the path: H2); a number bought meanwhile is never deleted here, except
        # one a free dry run activated for a request that did not go ahead.
        held = status.state is CarrierNumberState.RESERVED and status.account_id == account_id
        activated = (account_id, e164) in self._dry_activated
        if activated and not (status.owned_by(account_id) and not status.used_by):
            self._dry_activated.discard((account_id, e164))
            return
        if not held and not activated:
            return
        response = await self._client.request("DELETE", self._number(account_id, e164))
        self._dry_activated.discard((account_id, e164))
        if response.ok or response.status == 404:
            return
        raise self._fail(response, e164)

    # --- buying ------------------------------------------------------------------------

    async def quote(self, numbers: Sequence[str], *, account_id: str) -> CarrierQuote:
        """Kazoo's dry run: the activation without `accept_charges`.

        A priced change answers 402 with the invoices (the quote). A free one is
        carried out at once (4.3:applications/crossbar/src/modules_v2/
        cb_phone_numbers_v2.erl:884-901): those numbers are `activated`.
        """
        send, refused = await self._screen(numbers, account_id)
        if not send:
            zero = Decimal("0.00")
            return CarrierQuote(
                Quote(self._currency, (), zero, zero, zero),
                refused=tuple((n, r.reason) for n, r in refused.items()),
            )
        response = await self._client.request(
            "PUT",
            self._numbers(account_id, "/collection/activate"),
            data={"numbers": send},
        )
        if response.status == 402 and not _not_enough_credit(response):
            try:
                quote = parse_quote(response.data, currency=self._currency)
            except QuoteShapeError as exc:
                raise CarrierFault(f"Kazoo's charges could not be read: {exc}") from None
            return CarrierQuote(
                quote, refused=tuple((n, r.reason) for n, r in refused.items()), priced=True
            )
        if response.status == 402:
            raise self._fail(response)
        if not response.ok and not _names_numbers(response, send):
            raise self._fail(response)
        # No charges, so Kazoo did it: report what is now bought, and what it refused.
        result = self._order_result("dry-run", send, response)
        activated = tuple(result.numbers(OrderOutcome.BOUGHT))
        self._dry_activated.update((account_id, n) for n in activated)
        refused.update({r.e164: r for r in result.results if r.outcome is OrderOutcome.FAILED})
        zero = Decimal("0.00")
        return CarrierQuote(
            Quote(self._currency, (), zero, zero, zero),
            activated=activated,
            refused=tuple((n, r.reason) for n, r in refused.items()),
        )

    async def _screen(
        self, numbers: Sequence[str], account_id: str
    ) -> tuple[list[str], dict[str, NumberOrderResult]]:
        """Ownership right before an activation (M1): Kazoo moves a number in service
        on another account of the tree to this one (4.3:core/kazoo_number_manager/src/
        knm_number_states.erl:136-143), so only numbers nobody else has are sent."""
        send: list[str] = []
        refused: dict[str, NumberOrderResult] = {}
        for number in numbers:
            owner = await self._owner(number, account_id)
            if owner in (None, account_id) or (
                # Numbers reserved for this account by one above it, shown by its search
                # (carriers/knm_reserved.erl:55-88; knm_number_states.erl:171-176).
                self._found.get(number) == "reserved"
            ):
                send.append(number)
                continue
            refused[number] = NumberOrderResult(
                number,
                OrderOutcome.FAILED,
                "Kazoo shows it in service on another account, so it was not taken.",
                False,
            )
        return send, refused

    async def _owner(self, e164: str, account_id: str) -> str | None:
        """The account that has the number (port_in, in_service, port_out, reserved), from
        `GET /{n}/identify` (4.3:core/kazoo_number_manager/src/knm_number.erl:390-462),
        which looks the number up wherever it is; None when nobody has it."""
        response = await self._client.request("GET", self._number(account_id, e164, "/identify"))
        data = response.data if isinstance(response.data, dict) else {}
        if response.ok:
            owner = data.get("account_id")
            return str(owner) if isinstance(owner, str) and owner else None
        if response.status in (400, 404):
            # 400 `not_in_service` / `unassigned`, 404 not in the numbers database
            # (cb_phone_numbers_v2.erl:903-919): nobody has it in service.
            return None
        raise self._fail(response, e164)

    async def order(
        self, numbers: Sequence[str], *, account_id: str, idempotency_key: str
    ) -> OrderResult:
        # One order per key at a time: a concurrent repeat waits and gets the result.
        async with self._order_locks.hold(idempotency_key):
            return await self._order(numbers, account_id, idempotency_key)

    async def _order(
        self, numbers: Sequence[str], account_id: str, idempotency_key: str
    ) -> OrderResult:
        previous = self._orders.get(idempotency_key)
        if previous is not None:
            unknown = previous.numbers(OrderOutcome.UNKNOWN)
            if not unknown:
                return previous
            settled = await self.reconcile(unknown, account_id=account_id)
            merged = {**previous.by_number(), **settled.by_number()}
            # Numbers Kazoo did not take are sent again: its answer then decides.
            retry = [
                r.e164 for r in settled.results if r.outcome is OrderOutcome.FAILED and r.retryable
            ]
            if retry:
                again = await self._activate(retry, account_id, idempotency_key)
                merged.update(again.by_number())
            result = OrderResult(idempotency_key, tuple(merged[n] for n in previous.by_number()))
        else:
            result = await self._activate(list(numbers), account_id, idempotency_key)
        self._orders[idempotency_key] = result
        self._orders.move_to_end(idempotency_key)
        while len(self._orders) > REMEMBERED_ORDERS:
            self._orders.popitem(last=False)
        return result

    async def _activate(self, numbers: Sequence[str], account_id: str, key: str) -> OrderResult:
        send, refused = await self._screen(numbers, account_id)
        outcomes: dict[str, NumberOrderResult] = dict(refused)
        if send:
            try:
                response = await self._client.request(
                    "PUT",
                    self._numbers(account_id, "/collection/activate"),
                    data={"numbers": send},
                    accept_charges=True,
                )
            except OutcomeUnknown:
                outcomes.update({n: NumberOrderResult(n, OrderOutcome.UNKNOWN) for n in send})
            else:
                if response.status == 402:
                    if _not_enough_credit(response):
                        raise self._fail(response)
                    raise CarrierFault(
                        "Kazoo asked to accept charges again after they were accepted."
                    )
                outcomes.update(self._order_result(key, send, response).by_number())
        for number in numbers:
            if outcomes[number].outcome is OrderOutcome.BOUGHT:
                self._dry_activated.discard((account_id, number))
        return OrderResult(key, tuple(outcomes[n] for n in numbers))

    def _order_result(
        self, key: str, numbers: Sequence[str], response: KazooResponse
    ) -> OrderResult:
        """Per-number outcomes of `collection/activate`, in the order asked.

        4.1-5.x answer 200 with `data.success` and `data.error` keyed by number, even
        when every number failed (H1: 4.3:applications/crossbar/src/modules_v2/
        cb_phone_numbers_v2.erl:884-895, knm_numbers.erl:571-578; 5.x `error` is `[]`
        when none failed). 4.0 answered 400 with the errors at the root of `data`.
        """
        data = response.data if isinstance(response.data, dict) else {}
        success = data.get("success") if isinstance(data.get("success"), dict) else {}
        errors = data.get("error") if isinstance(data.get("error"), dict) else {}
        assert isinstance(success, dict) and isinstance(errors, dict)
        whole = None if response.ok else self._fail(response)
        results: list[NumberOrderResult] = []
        for number in numbers:
            err = errors.get(number, data.get(number))
            if number in success:
                results.append(NumberOrderResult(number, OrderOutcome.BOUGHT))
            elif isinstance(err, dict | str) and err:
                reason, retryable = self._refusal(err)
                results.append(NumberOrderResult(number, OrderOutcome.FAILED, reason, retryable))
            elif whole is not None:
                reason = whole.reason if isinstance(whole, CarrierFault | NumberConflict) else ""
                results.append(
                    NumberOrderResult(
                        number,
                        OrderOutcome.FAILED,
                        reason or str(whole),
                        isinstance(whole, CarrierFault),
                    )
                )
            else:
                # Kazoo said success without naming the number: do not guess.
                results.append(NumberOrderResult(number, OrderOutcome.UNKNOWN))
        return OrderResult(key, tuple(results))

    def _refusal(self, err: Mapping[str, Any] | str) -> tuple[str, bool]:
        """Kazoo's reason for one refused number, and whether a retry may help.

        Objects are `knm_errors` `{code, error, cause, message}` (4.3:core/
        kazoo_number_manager/src/knm_errors.erl:120-190): a retry may help only a
        5xx fault (`unspecified_fault`, "fault by carrier"), never a refusal.
        """
        if isinstance(err, str):
            return _BARE_REASONS.get(err, f"Kazoo refused it ({self._client.scrub(err)})."), False
        name = str(err.get("error") or "")
        message = str(err.get("message") or name or "refused")
        cause = err.get("cause")
        words = message
        if isinstance(cause, str) and cause and cause != message and not cause.startswith("+"):
            words = f"{message} ({cause})"
        try:
            code = int(err.get("code") or 500)
        except (TypeError, ValueError):
            code = 500
        retryable = code >= 500 and name not in _CONFLICT_ERRORS
        return self._client.scrub(words), retryable

    async def reconcile(self, numbers: Sequence[str], *, account_id: str) -> OrderResult:
        """Settle unknown outcomes by asking Kazoo who has each number.

        Owned by the account: bought. On another account: failed for good. Nobody's:
        the activation did not happen, so it may be sent again and Kazoo's answer
        decides (`/check` cannot: every carrier but the phonebook one answers "error",
        M3, 4.3:core/kazoo_number_manager/src/carriers/knm_carriers.erl:85-110).
        """
        results: dict[str, NumberOrderResult] = {}
        for number in numbers:
            status = await self.number_status(number, account_id=account_id)
            if status.owned_by(account_id):
                results[number] = NumberOrderResult(number, OrderOutcome.BOUGHT)
            elif status.account_id not in (None, account_id):
                results[number] = NumberOrderResult(
                    number,
                    OrderOutcome.FAILED,
                    "Kazoo shows it in service on another account, so it was not taken.",
                    False,
                )
            elif status.state in _RETRY_STATES:
                results[number] = NumberOrderResult(
                    number, OrderOutcome.FAILED, "Kazoo did not complete the order.", True
                )
            else:
                state = status.state.value.replace("_", " ")
                results[number] = NumberOrderResult(
                    number, OrderOutcome.FAILED, f"Kazoo shows the number as {state}.", False
                )
        return OrderResult("reconcile", tuple(results[n] for n in numbers))

    async def number_status(self, e164: str, *, account_id: str) -> NumberStatus:
        return (await self._status(e164, account_id))[0]

    async def _status(self, e164: str, account_id: str) -> tuple[NumberStatus, str]:
        """The number's state from its document, and its owner from `identify`; and
        its carrier module (`_read_only.carrier_module`, "" when unknown).

        Per-number endpoints are not scoped to the account in the path: Kazoo
        answers for any number below the API key's account, and the document
        names no owner (H2, 4.3:applications/crossbar/src/modules_v2/
        cb_phone_numbers_v2.erl:453-460; knm_phone_number.erl:499-507, 609-640).
        """
        response = await self._client.request("GET", self._number(account_id, e164))
        if response.status == 404:
            return NumberStatus(e164, CarrierNumberState.UNKNOWN), ""
        if response.status == 403:
            # Outside the key's tree: someone else's, whatever its state.
            owner = await self._owner(e164, account_id)
            return NumberStatus(e164, CarrierNumberState.UNKNOWN, account_id=owner), ""
        if not response.ok:
            raise self._fail(response, e164)
        doc = response.data if isinstance(response.data, dict) else {}
        features = _field(doc, "features")
        state = _state(_field(doc, "state"))
        owner = await self._owner(e164, account_id) if state in _TAKEN_STATES else None
        read_only = doc.get("_read_only") if isinstance(doc.get("_read_only"), dict) else {}
        assert isinstance(read_only, dict)
        status = NumberStatus(
            e164,
            state,
            account_id=owner,
            used_by=str(_field(doc, "used_by") or ""),
            features=frozenset(features) if isinstance(features, list) else frozenset(),
        )
        return status, str(read_only.get("carrier_module") or "")

    # --- e911 --------------------------------------------------------------------------

    async def provision_e911(
        self,
        e164: str,
        address: E911Address,
        *,
        account_id: str,
        accept_charges: bool = False,
    ) -> CarrierE911Outcome:
        e911: dict[str, Any] = {
            "street_address": address.street_address,
            "locality": address.locality,
            "region": address.region,
            "postal_code": address.postal_code,
            "caller_name": address.caller_name,
        }
        if address.extended_address:
            e911["extended_address"] = address.extended_address
        # Kazoo saves the number wherever it is below the key's account (H2).
        await self._check_owner(e164, account_id)
        # POST the whole document with a fresh `e911`, as Monster UI does
        # (monster-ui e911.js:92-94, 266-279): PATCH merges recursively
        # (knm_phone_number.erl:1497-1504, kz_json.erl:447-470), so a suite left out
        # would survive with the provider's old `legacy_data`, `location_id` and ZIP+4,
        # and a `null` to delete it fails the schema (`extended_address` is a string).
        doc = await self._read_number(e164, account_id)
        try:
            response = await self._client.request(
                "POST",
                self._number(account_id, e164),
                data={**_public_body(doc), "e911": e911},
                accept_charges=accept_charges,
            )
        except OutcomeUnknown as exc:
            return E911Fault(exc.reason)
        if response.status == 402 and not accept_charges and not _not_enough_credit(response):
            # Every number write is a dry run first; the plan prices e911 (H4c,
            # 4.3:applications/crossbar/src/modules_v2/cb_phone_numbers_v2.erl:408-420,
            # kz_services_quantities.erl:479-518): a quote the person accepts.
            try:
                return E911Charges(parse_quote(response.data, currency=self._currency))
            except QuoteShapeError as exc:
                return E911Fault(f"Kazoo's charges could not be read: {exc}")
        if response.ok:
            saved = response.data if isinstance(response.data, dict) else {}
            stored = saved.get("e911") if isinstance(saved.get("e911"), dict) else {}
            assert isinstance(stored, dict)
            return E911Valid(_address_from(stored, address))
        return self._e911_failure(response, address, e164)

    def _e911_failure(
        self, response: KazooResponse, asked: E911Address, e164: str
    ) -> CarrierE911Outcome:
        """Kazoo's refusal of an address, as 4.3/5.x send it (docs/decisions/kazoo.md)."""
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or response.message)
        candidates = _multiple_choice(data)
        if candidates is not None:
            found = tuple(
                replace(_address_from(d, asked), status=None)
                for d in candidates
                if isinstance(d, dict)
            )
            if found:
                return E911Candidates(found)
        # Schema validation: {"e911.region": {"maxLength": {...}}} (kz_json_schema.erl).
        for key, value in data.items():
            if key.startswith("e911.") and key[5:] in _E911_FIELDS:
                return E911Invalid(key[5:], _validation_message(value, response.message))
        if response.status == 403:
            # knm_providers.erl:537-546: a save carrying a feature the number may not have
            # is `unauthorized` -> 403 `forbidden` (knm_errors.erl:141-143). The number
            # was just read, so the key may act on it: it is the feature that is refused.
            return E911Invalid("street_address", E911_NOT_ENABLED)
        if response.status == 400 and error == "invalid":
            # Dash: `invalid(N, "<reason> (<address JSON>)")` (knm_dash_e911.erl:120-123)
            # -> 400 `invalid` with the text in `cause` (knm_errors.erl:155-157).
            cause = str(data.get("cause") or "").split(" ({", 1)[0].strip()
            message = cause or "The e911 provider could not place this address."
            return E911Invalid("street_address", self._client.scrub(message))
        if response.status == 404:
            raise self._fail(response, e164)
        return E911Fault(self._client.scrub(f"Kazoo's e911 provider failed: {_reason(response)}"))

    async def remove_e911(self, e164: str, *, account_id: str) -> None:
        await self._check_owner(e164, account_id)
        doc = await self._read_number(e164, account_id)
        if "e911" not in doc:
            return
        # POST replaces the public document (knm_phone_number.erl:1506-1514): the one
        # way to drop a field, since PATCH merges. Removing e911 only lowers what the
        # plan counts, so its dry run is accepted.
        response = await self._client.request(
            "POST", self._number(account_id, e164), data=_public_body(doc), accept_charges=True
        )
        if not response.ok:
            raise self._fail(response, e164)

    async def e911_of(self, e164: str, *, account_id: str) -> E911Address | None:
        """The emergency address stored on the number, for the mirror; None without one.

        Not part of `Carrier`: Kazoo's listing says only that a number has e911
        (`features`), so the mirror reads the address of those it lacks.
        """
        doc = await self._read_number(e164, account_id)
        stored = doc.get("e911")
        if not isinstance(stored, dict):
            return None
        if not all(stored.get(k) for k in ("street_address", "locality", "region", "postal_code")):
            return None
        asked = E911Address(
            street_address=str(stored["street_address"]),
            locality=str(stored["locality"]),
            region=str(stored["region"]),
            postal_code=str(stored["postal_code"]),
            caller_name=str(stored.get("caller_name") or "")[:32],
        )
        # A number Kazoo lists with the e911 feature has the address provisioned.
        return _address_from(stored, asked, status=E911Status.PROVISIONED)

    async def _read_number(self, e164: str, account_id: str) -> dict[str, Any]:
        response = await self._client.request("GET", self._number(account_id, e164))
        if not response.ok:
            raise self._fail(response, e164)
        return dict(response.data) if isinstance(response.data, dict) else {}

    # --- routing -----------------------------------------------------------------------

    def _callflows(self, account_id: str, suffix: str = "") -> str:
        return f"/v2/accounts/{kazoo_id(account_id)}/callflows{suffix}"

    async def _list(
        self, path: str, params: Mapping[str, str | int] | None = None
    ) -> list[dict[str, Any]]:
        """Every row of a Crossbar listing, following `next_start_key`."""
        rows: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            query: dict[str, str | int] = dict(params or {})
            if start is not None:
                query["start_key"] = start
            response = await self._client.request("GET", path, params=query)
            if not response.ok:
                raise self._fail(response)
            page = response.data if isinstance(response.data, list) else []
            rows.extend(r for r in page if isinstance(r, dict))
            nxt = response.envelope.get("next_start_key")
            if not isinstance(nxt, str) or not nxt or nxt == start:
                return rows
            start = nxt

    async def _callflow(self, account_id: str, callflow_id: str) -> dict[str, Any]:
        response = await self._client.request("GET", self._callflows(account_id, f"/{callflow_id}"))
        if not response.ok:
            raise self._fail(response)
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _save_callflow(
        self, account_id: str, doc: Mapping[str, Any], faxbox: Mapping[str, Any] | None = None
    ) -> None:
        """Write the callflow's `numbers` (and MainFaxing's faxbox, when given) by PATCH.

        Kazoo merges a PATCH into the stored document (crossbar_doc.erl:309-312;
        cb_callflows.erl:68, 107-108, 221-223) and keeps no revision a POST could
        be checked against, so sending only what changes leaves a SmartPBX edit of
        any other field alone, and `metadata` (computed on GET) is never written.
        `faxbox` sets MainFaxing's `flow.data` (`{"id": None}` drops the id: a `null`
        deletes in the merge).
        """
        body: dict[str, Any] = {"numbers": numbers_of(doc)}
        if faxbox is not None:
            body["flow"] = {"data": dict(faxbox)}
        response = await self._client.request(
            "PATCH", self._callflows(account_id, f"/{doc['id']}"), data=body
        )
        if response.status in (400, 403, 409):
            # A number another callflow holds (400 `numbers.unique`), one the account
            # does not own (403 `forbidden`, kzd_callflows.erl:164-277, 430-449).
            reason = self._client.scrub(_reason(response))
            raise NumberConflict(
                f"Kazoo refused the callflow change: {reason}", carrier_message=reason
            )
        if not response.ok:
            raise self._fail(response)

    async def _callflows_with(self, account_id: str, e164: str) -> list[dict[str, Any]]:
        summaries = await self._list(self._callflows(account_id))
        return [
            await self._callflow(account_id, str(s["id"]))
            for s in summaries
            if "id" in s and contains(s, e164)
        ]

    async def _target_callflow(self, account_id: str, target: RouteTarget) -> dict[str, Any]:
        """The target's callflow document. Listings are summaries, so candidates are read."""
        if target.kind is AssignmentKind.USER:
            query = {"filter_owner_id": str(target.owner_id)}
            missing = "The Kazoo user has no SmartPBX callflow of their own to ring."
        else:
            query = {"filter_type": TYPE_OF[target.kind]}
            missing = f"SmartPBX's {target.kind.value} callflow does not exist on the account."
        rows = await self._list(self._callflows(account_id), query)
        docs = [await self._callflow(account_id, str(r["id"])) for r in rows if "id" in r]
        found: Mapping[str, Any] | None
        if target.kind is AssignmentKind.USER:
            found = pick_user(docs, str(target.owner_id))
        else:
            found = pick_company(docs, target.kind)
        if found is None:
            raise NumberConflict(missing, carrier_message=missing)
        return dict(found)

    async def route(self, e164: str, target: RouteTarget, *, account_id: str) -> None:
        destination = await self._target_callflow(account_id, target)
        # At most one callflow: leave the others first, so Kazoo never sees it twice.
        for doc in await self._callflows_with(account_id, e164):
            if doc.get("id") != destination.get("id"):
                await self._leave(account_id, doc, e164)
        if contains(destination, e164):
            return
        try:
            changed = with_number(destination, target, e164)
        except FaxboxTaken as taken:
            raise NumberConflict(
                f"The faxbox already answers on {taken.current}.",
                number=e164,
                carrier_message=f"MainFaxing holds {taken.current}",
            ) from None
        if target.kind is not AssignmentKind.FAXBOX:
            await self._save_callflow(account_id, changed)
            return
        current = faxbox_id(destination)
        if current is not None:
            # The faxbox sends as the number that now answers, not a number released before.
            await self._faxbox_answers_on(account_id, current, e164)
            await self._save_callflow(account_id, changed)
            return
        created = await self._create_faxbox(account_id, e164)
        try:
            await self._save_callflow(account_id, changed, faxbox={"id": created})
        except BaseException:
            await self._delete_faxbox(account_id, created)
            raise

    async def unroute(self, e164: str, *, account_id: str) -> None:
        await self._unroute(e164, account_id)

    async def _unroute(self, e164: str, account_id: str) -> tuple[RouteTarget, ...]:
        left: list[RouteTarget] = []
        for doc in await self._callflows_with(account_id, e164):
            await self._leave(account_id, doc, e164)
            target = target_of(doc)
            if target is not None:
                left.append(target)
        return tuple(left)

    async def _leave(self, account_id: str, doc: Mapping[str, Any], e164: str) -> None:
        """Take `e164` out of a callflow; MainFaxing's faxbox goes with its last number."""
        changed = without_number(doc, e164)
        target = target_of(doc)
        faxbox = faxbox_id(doc)
        if (
            target is None
            or target.kind is not AssignmentKind.FAXBOX
            or faxbox is None
            or faxbox_number(changed) is not None
        ):
            await self._save_callflow(account_id, changed)
            return
        # As SmartPBX does on removal (strategy.js:1790-1806): no faxbox is left to a
        # number that may be released and sold; the next fax number gets a new one.
        await self._save_callflow(account_id, changed, faxbox={"id": None})
        await self._delete_faxbox(account_id, faxbox)

    # --- SmartPBX's faxbox -------------------------------------------------------------

    async def _create_faxbox(self, account_id: str, e164: str) -> str:
        """A faxbox as SmartPBX makes one for MainFaxing (strategy.js:2622-2647).

        SmartPBX also asks for an email to send received faxes to; the bot has none
        to give, so faxes wait in the faxbox until someone adds one in SmartPBX.
        """
        response = await self._client.request("GET", f"/v2/accounts/{account_id}")
        if not response.ok:
            raise self._fail(response)
        account = response.data if isinstance(response.data, dict) else {}
        name = str(account.get("name") or "Main")
        faxbox: dict[str, Any] = {
            "name": f"{name}'s Main Faxbox",
            "caller_name": name,
            "caller_id": e164,
            "fax_header": f"{name} Fax Printer",
            "fax_identity": format_national(e164),
            "owner_id": account_id,
        }
        if account.get("timezone"):
            faxbox["fax_timezone"] = account["timezone"]
        created = await self._client.request(
            "PUT", f"/v2/accounts/{account_id}/faxboxes", data=faxbox
        )
        data = created.data if isinstance(created.data, dict) else {}
        if not created.ok or not isinstance(data.get("id"), str):
            raise self._fail(created, e164)
        return str(data["id"])

    async def _faxbox_answers_on(self, account_id: str, faxbox: str, e164: str) -> None:
        response = await self._client.request(
            "PATCH",
            f"/v2/accounts/{account_id}/faxboxes/{faxbox}",
            data={"caller_id": e164, "fax_identity": format_national(e164)},
        )
        if not response.ok and response.status != 404:
            raise self._fail(response, e164)

    async def _delete_faxbox(self, account_id: str, faxbox: str) -> None:
        response = await self._client.request(
            "DELETE", f"/v2/accounts/{account_id}/faxboxes/{faxbox}"
        )
        if not response.ok and response.status != 404:
            raise self._fail(response)

    async def routes(self, *, account_id: str) -> Mapping[str, RouteTarget]:
        found: dict[str, RouteTarget] = {}
        for summary in await self._list(self._callflows(account_id)):
            numbers = summary.get("numbers")
            if not isinstance(numbers, list) or not any(is_real_number(str(n)) for n in numbers):
                continue
            doc = await self._callflow(account_id, str(summary["id"]))
            target = target_of(doc)
            if target is None:
                continue
            if target.kind is AssignmentKind.FAXBOX:
                # SmartPBX may hold several: the first is the faxbox's, the others are
                # left to SmartPBX (the bot records one faxbox number per account).
                first = faxbox_number(doc)
                if first is not None:
                    found[first] = target
                continue
            for number in doc.get("numbers") or []:
                if is_real_number(str(number)):
                    found[str(number)] = target
        return found

    async def users(self, *, account_id: str) -> Sequence[CarrierUser]:
        rows = await self._list(f"/v2/accounts/{kazoo_id(account_id)}/users")
        return [
            CarrierUser(
                id=str(r["id"]),
                email=(str(r["email"]).strip().lower() or None) if r.get("email") else None,
                first_name=str(r.get("first_name") or ""),
                last_name=str(r.get("last_name") or ""),
            )
            for r in rows
            if "id" in r
        ]

    async def user_by_email(self, email: str, *, account_id: str) -> CarrierUser | None:
        wanted = email.strip().lower()
        return next((u for u in await self.users(account_id=account_id) if u.email == wanted), None)

    # --- moving and releasing ----------------------------------------------------------

    async def _check_owner(self, e164: str, account_id: str) -> None:
        """The account has the number at Kazoo now, from `identify` (H2): the
        per-number calls would act on it wherever it is in the key's tree."""
        owner = await self._owner(e164, account_id)
        if owner == account_id:
            return
        if owner is None:
            raise NotFoundAtCarrier(
                "Kazoo no longer has this number on the account.",
                number=e164,
                carrier_message="not in service on the account",
            )
        raise NotFoundAtCarrier(
            "Kazoo shows the number on another account now; the bot left it alone.",
            number=e164,
            carrier_message="in service on another account",
        )

    async def move(self, e164: str, *, from_account_id: str, to_account_id: str) -> None:
        kazoo_id(to_account_id)
        await self._check_owner(e164, from_account_id)
        await self._unroute(e164, from_account_id)
        response = await self._client.request(
            "PUT", self._number(to_account_id, e164, "/activate"), accept_charges=True
        )
        if not response.ok:
            raise self._fail(response, e164)

    async def release(self, e164: str, *, account_id: str) -> ReleaseResult:
        # DELETE releases the number wherever it is below the key's account
        # (4.3:applications/crossbar/src/modules_v2/cb_phone_numbers_v2.erl:427-443):
        # never one another account has now (moved behind the bot's back).
        await self._check_owner(e164, account_id)
        left = await self._unroute(e164, account_id)
        response = await self._client.request("DELETE", self._number(account_id, e164))
        if not response.ok:
            raise self._fail(response, e164)
        doc = response.data if isinstance(response.data, dict) else {}
        state = _state(_field(doc, "state"))
        return ReleaseResult(e164, state, left)

    # --- the mirror --------------------------------------------------------------------

    async def list_numbers(
        self, *, account_id: str, start_key: str | None = None, page_size: int = 500
    ) -> OwnedPage:
        # Kazoo merges every open port request into each page unless told not to
        # (cb_phone_numbers_v2.erl:531-556): they are not number documents, not the
        # account's yet, and out of key order, which would stop gone-detection.
        params: dict[str, str | int] = {"page_size": page_size, "include_ports": "false"}
        if start_key is not None:
            params["start_key"] = start_key
        response = await self._client.request("GET", self._numbers(account_id), params=params)
        if not response.ok:
            raise self._fail(response)
        data = response.data if isinstance(response.data, dict) else {}
        raw = data.get("numbers") if isinstance(data.get("numbers"), dict) else {}
        assert isinstance(raw, dict)
        numbers = tuple(
            NumberStatus(
                e164,
                _state(doc.get("state")),
                account_id=str(doc.get("assigned_to") or account_id),
                used_by=str(doc.get("used_by") or ""),
                features=frozenset(doc.get("features") or ()),
            )
            for e164, doc in sorted(raw.items())
            # A Kazoo that ignores `include_ports` still marks port rows with `port_id`.
            if isinstance(doc, dict) and "port_id" not in doc
        )
        # `next_start_key` is opaque (base64 of an Erlang term): passed back as given.
        nxt = response.envelope.get("next_start_key")
        return OwnedPage(numbers, nxt if isinstance(nxt, str) and nxt != start_key else None)

    async def accounts(self) -> Sequence[CarrierAccount]:
        """`KAZOO_ACCOUNT_ID`'s own account first (the workspace's default), then its
        direct sub-accounts (`/children`, 4.3:applications/crossbar/src/modules/
        cb_accounts.erl:764-794), each named as Kazoo names it."""
        response = await self._client.request(
            "GET", f"/v2/accounts/{kazoo_id(self.root_account_id)}"
        )
        if not response.ok:
            raise self._fail(response)
        doc = response.data if isinstance(response.data, dict) else {}
        root = CarrierAccount(self.root_account_id, str(doc.get("name") or self.root_account_id))
        rows = await self._list(f"/v2/accounts/{self.root_account_id}/children")
        return [root] + [
            CarrierAccount(str(r["id"]), str(r.get("name") or r["id"]))
            for r in rows
            if "id" in r and r["id"] != self.root_account_id
        ]


# What a person is told when Kazoo refuses e911 on a number (a 403 on the save).
E911_NOT_ENABLED = (
    "e911 is not enabled for this number at Kazoo; ask the Kazoo reseller to allow it."
)
# Computed fields of a number document that are not written back: `_read_only` and
# `id` are Kazoo's; `state`, `used_by` and `features` are added to the public JSON
# (knm_phone_number.erl:608-640); Monster UI drops `features` and `metadata` too.
_COMPUTED_FIELDS = frozenset({"_read_only", "id", "state", "used_by", "features", "metadata"})


def _public_body(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A number document as POST takes it back: its public fields without `e911`."""
    return {k: v for k, v in doc.items() if k not in _COMPUTED_FIELDS and k != "e911"}


def _multiple_choice(data: Mapping[str, Any]) -> list[Any] | None:
    """The candidates of Dash's `multiple_choice`, or None when the answer is not one.

    4.3/5.x: knm_errors has no clause for it, so it is the generic 500
    `unspecified_fault` with `message: "multiple_choice"` and the
    `{cause, details, message}` object JSON-encoded in `cause`
    (knm_dash_e911.erl:130-138, knm_errors.erl:166-168, kz_term.erl:335-338).
    3.x sent it as 400 `{"multiple_choice": {"e911": {...}}}`.
    """
    legacy = data.get("multiple_choice")
    if isinstance(legacy, dict) and isinstance(legacy.get("e911"), dict):
        details = legacy["e911"].get("details")
        return details if isinstance(details, list) else None
    if data.get("message") != "multiple_choice":
        return None
    cause = data.get("cause")
    try:
        decoded = json.loads(cause) if isinstance(cause, str) else cause
    except ValueError:
        return None
    details = decoded.get("details") if isinstance(decoded, dict) else None
    return details if isinstance(details, list) else None


def _validation_message(value: Any, fallback: str) -> str:
    """Kazoo's validation detail: `{"minLength": {"message": "...", "target": 3}}`."""
    if isinstance(value, dict):
        for detail in value.values():
            if isinstance(detail, dict) and detail.get("message"):
                return str(detail["message"])
    return fallback or "Kazoo did not accept this field."


def _address_from(
    stored: Mapping[str, Any], asked: E911Address, *, status: E911Status | None = None
) -> E911Address:
    """Kazoo's stored (or candidate) address, keeping what we asked where it says nothing."""

    def text(name: str, default: str | None) -> str | None:
        value = stored.get(name)
        return str(value) if value not in (None, "") else default

    raw_status = stored.get("status")
    try:
        found_status = E911Status(str(raw_status)) if raw_status else status
    except ValueError:
        found_status = E911Status.ERROR
    return E911Address(
        street_address=text("street_address", asked.street_address) or asked.street_address,
        extended_address=text("extended_address", asked.extended_address),
        locality=text("locality", asked.locality) or asked.locality,
        region=text("region", asked.region) or asked.region,
        postal_code=text("postal_code", asked.postal_code) or asked.postal_code,
        caller_name=text("caller_name", asked.caller_name) or asked.caller_name,
        status=found_status,
        latitude=_decimal_or_none(stored.get("latitude")),
        longitude=_decimal_or_none(stored.get("longitude")),
        plus_four=text("plus_four", None),
    )


def _decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


if TYPE_CHECKING:
    # mypy checks here that KazooCarrier keeps the Carrier protocol.
    _conforms: type[Carrier] = KazooCarrier
