"""What the stand-in Kazoo keeps: accounts, numbers with their states, callflows, users.

The rules follow ../shared/spec/kazoo-crossbar.md: a number must appear in a
search before it can be bought; buying takes it from discovery/available (or
reserved by the same account) to in_service; any other pair is an
`invalid_state_transition`; deleting returns it to available (or aging);
a number sits in at most one callflow, and callflow membership sets its
`used_by`.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Kazoo's account ids are 32 hex characters (the bot's settings check it).
ROOT = "100000000000000000000000000000ff"
CHILD_A = "100000000000000000000000000000aa"
CHILD_B = "100000000000000000000000000000bb"
# Kazoo's API keys are 64 characters (schemas/api_auth.json); the bot checks it.
API_KEY = "7f3c9e1b2d4a6f8e0c1b3d5f7a9e2c4b" * 2
GREGORIAN_BASE = 63_850_000_000

TOLLFREE = ("800", "833", "844", "855", "866", "877", "888")
OWNED = ("in_service", "port_in")
CLOSED_PORT_STATES = ("unconfirmed", "canceled", "completed")


class KazooError(Exception):
    """An error answer: HTTP status, Kazoo's `message`, and `data`."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data if data is not None else {}


def transition_error(current: str, wanted: str) -> KazooError:
    return KazooError(
        400,
        "invalid_state_transition",
        {
            "code": 400,
            "error": "invalid_state_transition",
            "message": f"from {current} to {wanted}",
            "cause": f"from {current} to {wanted}",
        },
    )


def not_found() -> KazooError:
    return KazooError(
        404,
        "bad_identifier",
        {"message": "bad identifier", "not_found": "The number could not be found"},
    )


@dataclass
class Account:
    id: str
    name: str
    parent_id: str | None


@dataclass
class Number:
    e164: str
    state: str = "discovery"
    assigned_to: str | None = None
    used_by: str = ""
    features: list[str] = field(default_factory=list)
    public: dict[str, Any] = field(default_factory=dict)
    created: int = GREGORIAN_BASE
    updated: int = GREGORIAN_BASE

    def item(self) -> str:
        return "tollfree_us" if self.e164[2:5] in TOLLFREE else "did_us"

    def document(self) -> dict[str, Any]:
        """The number document as `GET /phone_numbers/{NUMBER}` shows it: public fields,
        `state`, `used_by` and a `features` list at the root, empty ones dropped, and
        `_read_only.features` an object (knm_phone_number.erl:608-640)."""
        read_only = {
            "created": self.created,
            "modified": self.updated,
            "state": self.state,
            "features": {"available": ["cnam", "e911", "prepend"], "settings": {}},
            "used_by": self.used_by,
        }
        root = {"features": list(self.features), "state": self.state, "used_by": self.used_by}
        return {
            **copy.deepcopy(self.public),
            "_read_only": {k: v for k, v in read_only.items() if v not in ("", None)},
            **{k: v for k, v in root.items() if v},
            "id": self.e164,
        }

    def listing(self) -> dict[str, Any]:
        return {
            "assigned_to": self.assigned_to,
            "created": self.created,
            "features": list(self.features),
            "state": self.state,
            "updated": self.updated,
            "used_by": self.used_by,
        }


def smartpbx_callflows(account_id: str) -> dict[str, dict[str, Any]]:
    """The callflows SmartPBX sets up, as it creates them (monster-ui-voip strategy.js,
    users.js, app.js), with the fields the bot must leave alone."""
    return {
        f"{account_id}-main": {
            "id": f"{account_id}-main",
            "name": "MainCallflow",
            "type": "main",
            # No main number yet: the placeholder, not "0" (strategy.js:2830-2836).
            "numbers": ["undefinedMainNumber"],
            "patterns": [],
            "contact_list": {"exclude": False},
            "flow": {
                "module": "temporal_route",
                "data": {},
                "children": {"_": {"module": "callflow", "data": {"id": f"{account_id}-open"}}},
            },
            "ui_metadata": {"origin": "voip", "version": "4.3"},
            "ui_is_main_number_cf": True,
        },
        # An unnamed `type: main` sub-callflow of the strategy (strategy.js:3805-3819).
        f"{account_id}-open": {
            "id": f"{account_id}-open",
            "type": "main",
            "numbers": ["MainOpenHoursMenu"],
            "contact_list": {"exclude": False},
            "flow": {"module": "callflow", "data": {"id": f"{account_id}-menu"}, "children": {}},
        },
        f"{account_id}-conf": {
            "id": f"{account_id}-conf",
            "name": "MainConference",
            "type": "conference",
            "numbers": ["undefinedconf"],
            "flow": {"module": "conference", "data": {}, "children": {}},
        },
        # No faxbox until the first fax number (strategy.js:2719-2740).
        f"{account_id}-fax": {
            "id": f"{account_id}-fax",
            "name": "MainFaxing",
            "type": "faxing",
            "numbers": ["undefinedfaxing"],
            "flow": {"module": "faxbox", "data": {}, "children": {}},
        },
        f"{account_id}-alice": {
            "id": f"{account_id}-alice",
            "name": "Alice Able SmartPBX's Callflow",
            "type": "mainUserCallflow",
            "owner_id": f"{account_id}-user-alice",
            "numbers": ["1001"],
            "flow": {"module": "user", "data": {"id": f"{account_id}-user-alice"}, "children": {}},
        },
        # Her mobile's callflow carries her `owner_id` too (app.js:306-325; users.js:4483).
        f"{account_id}-alice-mobile": {
            "id": f"{account_id}-alice-mobile",
            "type": "mobile",
            "owner_id": f"{account_id}-user-alice",
            "numbers": ["5550001"],
            "flow": {
                "module": "callflow",
                "data": {"id": f"{account_id}-alice"},
                "children": {},
            },
        },
    }


def default_users(account_id: str) -> dict[str, dict[str, Any]]:
    return {
        f"{account_id}-user-alice": {
            "id": f"{account_id}-user-alice",
            "first_name": "Alice",
            "last_name": "Able",
            "email": "Alice@Example.com",
        },
        f"{account_id}-user-bob": {
            "id": f"{account_id}-user-bob",
            "first_name": "Bob",
            "last_name": "Baker",
            "email": "bob@example.com",
        },
    }


class KazooModel:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {
            ROOT: Account(ROOT, "Reseller", None),
            CHILD_A: Account(CHILD_A, "Acme West", ROOT),
            CHILD_B: Account(CHILD_B, "Acme East", ROOT),
        }
        self.api_keys: dict[str, str] = {API_KEY: ROOT}
        self.numbers: dict[str, Number] = {}
        self.callflows: dict[str, dict[str, dict[str, Any]]] = {
            a: smartpbx_callflows(a) for a in self.accounts
        }
        self.users: dict[str, dict[str, dict[str, Any]]] = {
            a: default_users(a) for a in self.accounts
        }
        self.faxboxes: dict[str, dict[str, dict[str, Any]]] = {a: {} for a in self.accounts}
        self.rates: dict[str, Decimal] = {"did_us": Decimal("1.0"), "tollfree_us": Decimal("2.0")}
        self.activation_charge = Decimal("0.5")
        self.quote_shape = "invoices"  # or "legacy"
        self.aging = True
        # Whether the reseller allows the `e911` feature (else a save carrying it is 403).
        self.e911_allowed = True
        # The per-account bucket on `PUT /{n}/activate` (cb_phone_numbers_v2.erl:284-288,
        # 1015-1027): None is never empty; each request refills `activation_refill`.
        self.activation_tokens: float | None = None
        self.activation_refill = 1.0
        # Upstream `validateLocation` calls: an enveloped 500 has side effects.
        self.e911_provider_calls = 0
        self.credit: Decimal | None = None  # None: the account never runs out
        self.stock_per_prefix = 40
        # Port requests by id: {"account", "state", "numbers"} (Kazoo's port_requests db).
        self.port_requests: dict[str, dict[str, Any]] = {}
        # (account, item) per accepted charge: a number billed twice shows twice.
        self.charges: list[tuple[str, str, str]] = []
        self._clock = itertools.count(GREGORIAN_BASE)

    def tick(self) -> int:
        return next(self._clock)

    # --- hierarchy -----------------------------------------------------------------

    def descends(self, account_id: str, ancestor: str) -> bool:
        current: str | None = account_id
        while current is not None:
            if current == ancestor:
                return True
            account = self.accounts.get(current)
            current = account.parent_id if account else None
        return False

    def children(self, account_id: str) -> list[Account]:
        return [a for a in self.accounts.values() if a.parent_id == account_id]

    # --- stock -----------------------------------------------------------------------

    def stock(self, prefix: str) -> list[str]:
        """The carrier's numbers for a prefix (3-10 digits), the same every time."""
        width = 10 - len(prefix)
        if width <= 0:
            return ["+1" + prefix[:10]]
        base = 2 * 10 ** (width - 1)
        return [
            f"+1{prefix}{base + i * 7:0{width}d}"
            for i in range(self.stock_per_prefix)
            if base + i * 7 < 10**width
        ]

    def search(self, prefix: str, quantity: int, offset: int) -> list[Number]:
        free = [
            n
            for n in self.stock(prefix)
            if n not in self.numbers or self.numbers[n].state in ("discovery", "available")
        ]
        found: list[Number] = []
        for e164 in free[offset : offset + quantity]:
            number = self.numbers.setdefault(e164, Number(e164))
            found.append(number)
        return found

    # --- numbers ---------------------------------------------------------------------

    def owned(self, account_id: str, e164: str) -> Number:
        number = self.numbers.get(e164)
        if number is None or number.assigned_to != account_id:
            raise not_found()
        return number

    def activation_cost(self, account_id: str, numbers: list[str]) -> list[Number]:
        """The numbers an activation would newly bill to the account."""
        return [
            self.numbers[n]
            for n in numbers
            if n in self.numbers
            and not (self.numbers[n].assigned_to == account_id and self.numbers[n].state in OWNED)
        ]

    def check_activation(self, account_id: str, e164: str, token_account: str) -> Number:
        number = self.numbers.get(e164)
        if number is None:
            raise KazooError(
                500,
                "unspecified_fault",
                {"code": 500, "error": "unspecified_fault", "message": "missing_provider_url"},
            )
        if number.state in ("discovery", "available"):
            return number
        if number.state == "reserved" and number.assigned_to == account_id:
            return number
        if number.state in OWNED and number.assigned_to == account_id:
            return number
        if (
            number.state in OWNED
            and number.assigned_to is not None
            and self.descends(number.assigned_to, token_account)
        ):
            return number  # a move inside the reseller's hierarchy
        raise transition_error(number.state, "in_service")

    def activate(self, account_id: str, number: Number) -> None:
        if number.assigned_to != account_id or number.state not in OWNED:
            if number.assigned_to is not None and number.assigned_to != account_id:
                self.leave_callflows(number.assigned_to, number.e164)
            number.assigned_to = account_id
            number.state = "in_service"
            number.used_by = ""
            if "local" not in number.features and number.item() == "did_us":
                number.features.append("local")
            number.updated = self.tick()

    def reserve(self, account_id: str, e164: str) -> Number:
        number = self.numbers.get(e164)
        if number is None:
            raise not_found()
        if number.state == "reserved" and number.assigned_to == account_id:
            raise KazooError(
                400,
                "no_change_required",
                {"code": 400, "error": "no_change_required", "message": "no change required"},
            )
        if number.state not in ("discovery", "available"):
            raise transition_error(number.state, "reserved")
        number.state = "reserved"
        number.assigned_to = account_id
        number.updated = self.tick()
        return number

    def release(self, account_id: str, e164: str) -> Number:
        number = self.owned(account_id, e164)
        number.state = "aging" if self.aging and number.state in OWNED else "available"
        number.assigned_to = None
        number.used_by = ""
        number.public = {}
        number.features = []
        number.updated = self.tick()
        # Kazoo leaves callflows as they are: the bot must take the number out first.
        return number

    def port_listing(self, account_id: str) -> dict[str, dict[str, Any]]:
        """What the `phone_numbers_listing` view of open port requests emits for the account
        (kazoo_number_manager/priv/couchdb/views/port_requests.json:103-122)."""
        listed: dict[str, dict[str, Any]] = {}
        for port_id, port in sorted(self.port_requests.items()):
            if port["account"] != account_id or port["state"] in CLOSED_PORT_STATES:
                continue
            for e164 in port["numbers"]:
                listed[e164] = {
                    "state": "port_in",
                    "features": [],
                    "assigned_to": account_id,
                    "created": GREGORIAN_BASE,
                    "updated": GREGORIAN_BASE,
                    "port_id": port_id,
                    "port_state": port["state"],
                }
        return listed

    # --- callflows -------------------------------------------------------------------

    def leave_callflows(self, account_id: str, e164: str) -> None:
        for doc in self.callflows.get(account_id, {}).values():
            doc["numbers"] = [n for n in doc.get("numbers", []) if n != e164]

    def callflow_holding(self, account_id: str, e164: str, other_than: str) -> str | None:
        for cf_id, doc in self.callflows.get(account_id, {}).items():
            if cf_id != other_than and e164 in doc.get("numbers", []):
                return cf_id
        return None

    def refresh_used_by(self, account_id: str) -> None:
        routed = {
            n for doc in self.callflows.get(account_id, {}).values() for n in doc.get("numbers", [])
        }
        for number in self.numbers.values():
            if number.assigned_to != account_id:
                continue
            if number.e164 in routed:
                number.used_by = "callflow"
            elif number.used_by == "callflow":
                number.used_by = ""

    def smartpbx_problems(self, account_id: str) -> list[str]:
        """What SmartPBX would find wrong: "0" routed with no main number (or missing with
        one), or a routed fax number with no faxbox to answer it."""
        problems: list[str] = []
        for doc in self.callflows.get(account_id, {}).values():
            numbers = list(doc.get("numbers", []))
            real = [n for n in numbers if n.startswith("+")]
            if doc.get("name") == "MainCallflow":
                if real and "0" not in numbers:
                    problems.append("main number without 0")
                if not real and "0" in numbers:
                    problems.append("0 routed with no main number")
            if doc.get("type") == "faxing" and real:
                box = doc.get("flow", {}).get("data", {}).get("id")
                if box not in self.faxboxes.get(account_id, {}):
                    problems.append(f"fax number {real[0]} with no faxbox")
                elif self.faxboxes[account_id][box].get("caller_id") not in real:
                    problems.append(
                        f"faxbox sends as {self.faxboxes[account_id][box].get('caller_id')}"
                    )
        return problems

    def routed_numbers(self, account_id: str) -> dict[str, list[str]]:
        """Callflow id -> its real numbers (tests assert on these)."""
        return {
            cf_id: [n for n in doc.get("numbers", []) if n.startswith("+")]
            for cf_id, doc in self.callflows.get(account_id, {}).items()
        }
