"""What the stand-in Kazoo keeps: accounts, numbers with their states, callflows, users.

The rules follow Kazoo 4.3's source (../shared/reference/kazoo/real-behaviour.md;
paths below are in 2600hz/kazoo, branch 4.3): a number found by a search lives
only in the search cache until an activation discovers it; reserve and the
per-number calls see only the numbers database; who may touch a number is
decided by the API key's account being above the owner, never by the path;
release unwinds the reserve history, else ends in the configured state; a
number sits in at most one callflow, and callflow membership sets its
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
    """`knm_errors:to_json(invalid_state_transition, ...)` (knm_errors.erl:149-151)."""
    return KazooError(
        400,
        "invalid_state_transition",
        {
            "code": 400,
            "error": "invalid_state_transition",
            "message": "invalid state transition",
            "cause": f"from {current} to {wanted}",
        },
    )


def unauthorized() -> KazooError:
    """`knm_errors:to_json(unauthorized)` (core/kazoo_number_manager/src/knm_errors.erl:140-142)."""
    return KazooError(
        403,
        "forbidden",
        {
            "code": 403,
            "error": "forbidden",
            "message": "requestor is unauthorized to perform operation",
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
    # The carrier module; `knm_local` numbers are deleted on release
    # (core/kazoo_number_manager/src/knm_numbers.erl:951-970).
    module: str = "knm_bandwidth2"
    # Accounts that reserved it, newest first (knm_phone_number.erl:1236-1249 unwinds it).
    reserve_history: list[str] = field(default_factory=list)

    def item(self) -> str:
        return "tollfree_us" if self.e164[2:5] in TOLLFREE else "did_us"

    def document(self) -> dict[str, Any]:
        """The number document as `GET /phone_numbers/{NUMBER}` shows it.

        `to_public_json` (core/kazoo_number_manager/src/knm_phone_number.erl:608-640):
        public fields, `state`, `used_by` and a `features` list at the root, empty ones
        dropped, and `_read_only.features` an object; the owner (`pvt_assigned_to`) is
        private, so the document never says whose number it is.
        """
        read_only = {
            "created": self.created,
            "modified": self.updated,
            "state": self.state,
            "features": {"available": ["cnam", "e911", "prepend"], "settings": {}},
            "used_by": self.used_by,
            "carrier_module": self.module.removeprefix("knm_"),
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
        # The rest of the service plan: on every invoice, changed by a number purchase or not.
        self.user_rate = Decimal("5.0")
        # Whether the plan prices a reserved number (then reserve answers 402, H4c).
        self.reserve_priced = False
        # The plan's monthly rate for e911 on a number (0: not priced, no 402).
        self.e911_rate = Decimal("0")
        self.activation_charge = Decimal("0.5")
        self.quote_shape = "invoices"  # or "legacy"
        # Whether the reseller allows the `e911` feature (else a save carrying it is 403).
        self.e911_allowed = True
        # The per-account bucket on `PUT /{n}/activate` (cb_phone_numbers_v2.erl:284-288,
        # 1015-1027): None is never empty; each request refills `activation_refill`.
        self.activation_tokens: float | None = None
        self.activation_refill = 1.0
        # Upstream `validateLocation` calls: an enveloped 500 has side effects.
        self.e911_provider_calls = 0
        # knm_config (knm_config.erl:27-37), as the cluster is configured: `released_state`
        # (default available), `should_age` (default false) and `should_permanently_delete`
        # (default false).
        self.released_state = "available"
        self.should_age = False
        self.should_permanently_delete = False
        self.max_search = 500  # `maximum_search_quantity` (knm_search.erl:49)
        # The search cache: query id -> [(number, state)] (knm_search's ETS table).
        self.discovery: dict[str, list[tuple[str, str]]] = {}
        self.credit: Decimal | None = None  # None: the account never runs out
        # How a refusal for credit looks: "legacy" 402 `not_enough_credit` (before 4.3),
        # "4.3" a success naming no number (M8, unverified).
        self.credit_refusal = "legacy"
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
        """The upstream carrier's numbers for a prefix (3-10 digits), the same every time."""
        width = 10 - len(prefix)
        if width <= 0:
            return ["+1" + prefix[:10]]
        base = 2 * 10 ** (width - 1)
        return [
            f"+1{prefix}{base + i * 7:0{width}d}"
            for i in range(self.stock_per_prefix)
            if base + i * 7 < 10**width
        ]

    def search(
        self, prefix: str, quantity: int, offset: int, query_id: str = "tests"
    ) -> list[tuple[str, str]]:
        """`knm_search:find/1` (core/kazoo_number_manager/src/knm_search.erl:205-245, 285-302).

        An offset-0 search resets the query's cache (`reset_search`, :134-137, 232-245)
        and fills it from the carriers: upstream numbers as `discovery` (only in the
        cache, never in the numbers database), the local pool's `available` ones
        (carriers/knm_local.erl:52-92, knm_inventory.erl:74-112). Later offsets page
        through that cache; an unknown query id (a new token:
        cb_phone_numbers_v2.erl:617-626) has none.
        Answers `(number, state)`, sorted by number (`qlc:keysort`).
        """
        if offset == 0:
            found: dict[str, str] = {}
            for e164 in self.stock(prefix):
                known = self.numbers.get(e164)
                if known is None:
                    found[e164] = "discovery"
                elif known.state == "available":
                    found[e164] = "available"
            for number in self.numbers.values():
                if (
                    number.module in ("knm_local", "knm_inventory")
                    and number.state == "available"
                    and number.e164.startswith("+1" + prefix)
                ):
                    found[number.e164] = "available"
            self.discovery[query_id] = sorted(found.items())[: self.max_search]
        return list(self.discovery.get(query_id, [])[offset : offset + quantity])

    def discovered(self, e164: str) -> bool:
        """`knm_search:local_discovery/2` (knm_search.erl:411-418): in any query's cache."""
        return any(
            e164 == n and state == "discovery"
            for rows in self.discovery.values()
            for n, state in rows
        )

    # --- numbers ---------------------------------------------------------------------

    def authorized(self, token_account: str, number: Number) -> bool:
        """`knm_phone_number:is_authorized/1` (knm_phone_number.erl:1670-1689): the API
        key's account is the owner or above it. The account in the path plays no part."""
        owner = number.assigned_to
        return owner is not None and self.descends(owner, token_account)

    def fetch(self, e164: str, token_account: str) -> Number:
        """GET/PATCH/POST of `/accounts/{ANY}/phone_numbers/{n}`: `knm_number:get` with
        `auth_by` only (cb_phone_numbers_v2.erl:453-460); `handle_fetch`
        (knm_phone_number.erl:499-507) lets anyone read an `available` number."""
        number = self.numbers.get(e164)
        if number is None or number.state == "discovery":
            raise not_found()
        if number.state == "available" or self.authorized(token_account, number):
            return number
        if number.state == "reserved" and self.descends(token_account, number.assigned_to or ""):
            return number  # is_reserved_from_parent (knm_phone_number.erl:1692-1701)
        raise unauthorized()

    def identify(self, e164: str) -> str:
        """`knm_number:lookup_account/1` (core/kazoo_number_manager/src/knm_number.erl:
        390-462): the owner of a port_in/in_service/port_out/reserved number."""
        number = self.numbers.get(e164)
        if number is None or number.state == "discovery":
            raise not_found()
        if not number.assigned_to:
            # {error, unassigned}: an atom, answered as 400 "client error"
            # (cb_phone_numbers_v2.erl:916-919).
            raise KazooError(400, "client error", "unassigned")
        if number.state not in ("port_in", "in_service", "port_out", "reserved"):
            raise KazooError(
                400,
                "client error",
                {"cause": "not_in_service", "account_id": number.assigned_to, "number": e164},
            )
        return number.assigned_to

    def activation_cost(self, account_id: str, numbers: list[str]) -> list[Number]:
        """The numbers an activation would newly bill to the account."""
        return [
            self.numbers[n] if n in self.numbers else Number(n)
            for n in numbers
            if not (
                n in self.numbers
                and self.numbers[n].assigned_to == account_id
                and self.numbers[n].state in OWNED
            )
        ]

    def check_activation(self, account_id: str, e164: str, token_account: str) -> Number:
        """`knm_numbers:move/3` (core/kazoo_number_manager/src/knm_numbers.erl:278-292)
        and `to_in_service` (knm_number_states.erl:136-177). Raises the per-number error."""
        number = self.numbers.get(e164)
        if number is None:
            if not self.discovered(e164):
                # discover/1 fails with the atom `not_found` (knm_numbers.erl:861-868),
                # which `kz_json:from_map` writes as a bare string.
                raise KazooError(404, "not_found", "not_found")
            return Number(e164)  # discovered: the document is made on activation
        if number.state in ("discovery", "available", "aging", "port_in"):
            # Anyone may buy available or re-buy aging numbers (:157-170).
            return number
        if number.state == "reserved":
            # authorize_subaccount: reserved by the account or one above it (:171-176).
            if number.assigned_to and self.descends(account_id, number.assigned_to):
                return number
            raise unauthorized()
        if number.state == "in_service":
            if number.assigned_to == account_id or self.authorized(token_account, number):
                return number  # a move inside the reseller's tree (:136-143)
            raise unauthorized()
        raise transition_error(number.state, "in_service")

    def activate(self, account_id: str, number: Number) -> None:
        self.numbers.setdefault(number.e164, number)
        if number.assigned_to != account_id or number.state not in OWNED:
            if number.assigned_to is not None and number.assigned_to != account_id:
                self.leave_callflows(number.assigned_to, number.e164)
            number.assigned_to = account_id
            number.state = "in_service"
            number.used_by = ""
            if "local" not in number.features and number.item() == "did_us":
                number.features.append("local")
            number.updated = self.tick()

    def reserve(self, account_id: str, e164: str, token_account: str) -> Number:
        """`knm_number:reserve` reads the numbers database only (knm_numbers.erl:396-400,
        185-191): a number known only to a search is 404 (B1). `to_reserved`
        (knm_number_states.erl:103-131) takes even an in-service number, after authorize."""
        number = self.numbers.get(e164)
        if number is None:
            raise not_found()
        if number.state == "reserved" and number.assigned_to == account_id:
            raise KazooError(
                400,
                "no_change_required",
                {"code": 400, "error": "no_change_required", "message": "no change required"},
            )
        if number.state not in ("discovery", "available", "reserved", "in_service"):
            raise transition_error(number.state, "reserved")
        if number.state != "available" and not self.authorized(token_account, number):
            raise unauthorized()
        if number.assigned_to is not None and number.assigned_to != account_id:
            self.leave_callflows(number.assigned_to, number.e164)
        number.reserve_history = [account_id, *number.reserve_history]
        number.state = "reserved"
        number.assigned_to = account_id
        number.updated = self.tick()
        return number

    def release(self, e164: str, token_account: str) -> Number:
        """`knm_numbers:release/2` (knm_numbers.erl:344-360, 897-985): authorised by the
        key's account over the owner; the reserve history unwinds to the previous holder
        (knm_phone_number.erl:1236-1249); else the released state (`available` by default,
        knm_config.erl:35-37). Then `delete_maybe_age` (knm_numbers.erl:951-985): deleted
        if `should_permanently_delete` or a local/mdn number, else an `available` one
        ages only with `should_age` (knm_config.erl:27-29)."""
        number = self.fetch(e164, token_account)
        if number.state not in ("released", "reserved", "port_in", "in_service") and (
            number.module != "knm_local"
        ):
            raise transition_error(number.state, self.released_state)
        if not self.authorized(token_account, number):
            raise unauthorized()
        number.used_by = ""
        number.public = {}
        number.features = []
        number.updated = self.tick()
        if len(number.reserve_history) >= 2:
            number.reserve_history = number.reserve_history[1:]
            number.assigned_to = number.reserve_history[0]
            number.state = "reserved"
            return number
        number.reserve_history = []
        number.assigned_to = None
        number.state = self.released_state
        if self.should_permanently_delete or number.module in ("knm_local", "knm_mdn"):
            number.state = "deleted"
        elif self.should_age and number.state == "available":
            number.state = "aging"
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

    # --- billing ---------------------------------------------------------------------

    def invoices(
        self, account_id: str, added: dict[str, int], activation: Decimal, e911_added: int = 0
    ) -> Any:
        """The 402's invoices as 4.3 writes them (core/kazoo_services/src/
        kz_services_invoice.erl:172-186, kz_services_item.erl:395-413): every item of the
        plan with its quantity and total after the change, `changes` only on the items
        the change touches, the `bookkeeper`, and `summary.today`/`recurring`."""
        held: dict[str, int] = {}
        for number in self.numbers.values():
            if number.assigned_to == account_id and number.state in (*OWNED, "reserved"):
                held[number.item()] = held.get(number.item(), 0) + 1
        users = len(self.users.get(account_id, {}))
        items: list[dict[str, Any]] = []
        for item, rate in sorted(self.rates.items()):
            quantity = held.get(item, 0) + added.get(item, 0)
            row: dict[str, Any] = {
                "category": "phone_numbers",
                "item": item,
                "name": {"did_us": "US DID", "tollfree_us": "US Toll Free"}.get(item, item),
                "quantity": quantity,
                "billable": quantity,
                "rate": float(rate),
                "prorate": {"additions": False, "removals": False},
                "total": float(rate * quantity),
            }
            if added.get(item):
                row["changes"] = {"type": "modified", "difference": {"quantity": added[item]}}
            items.append(row)
        if self.e911_rate:
            with_e911 = sum(
                1
                for n in self.numbers.values()
                if n.assigned_to == account_id and "e911" in n.features
            )
            row = {
                "category": "number_services",
                "item": "e911",
                "name": "E911 Service",
                "quantity": with_e911 + e911_added,
                "billable": with_e911 + e911_added,
                "rate": float(self.e911_rate),
                "total": float(self.e911_rate * (with_e911 + e911_added)),
            }
            if e911_added:
                row["changes"] = {"type": "modified", "difference": {"quantity": e911_added}}
            items.append(row)
        items.append(
            {
                "category": "user",
                "item": "user",
                "name": "User",
                "quantity": users,
                "billable": users,
                "rate": float(self.user_rate),
                "total": float(self.user_rate * users),
            }
        )
        recurring = sum((Decimal(str(i["total"])) for i in items), Decimal("0"))
        return [
            {
                "items": items,
                "activation_charges": [
                    {
                        "category": "phone_numbers",
                        "item": item,
                        "quantity": quantity,
                        "rate": float(self.activation_charge),
                        "total": float(self.activation_charge * quantity),
                    }
                    for item, quantity in sorted(added.items())
                    if self.activation_charge
                ],
                "taxes": [],
                "summary": {"today": float(activation), "recurring": float(recurring)},
                "plan": {"phone_numbers": {i: {"rate": float(r)} for i, r in self.rates.items()}},
                "bookkeeper": {"type": "default", "id": "reseller", "vendor_id": ROOT},
            }
        ]

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
