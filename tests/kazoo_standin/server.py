"""The stand-in Kazoo: Crossbar v2 routes over `KazooModel`, with fault injection.

It answers in Kazoo's envelopes (echoing `auth_token` like Kazoo does, so a
leak would show), validates every request body against Kazoo's schemas and
records schema violations in `schema_errors` (the tests' fixture fails a
test that leaves any), and can be told to answer 402, 429 or 500, to time
out, to expire tokens, or to have a number change behind the bot's back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.kazoo_standin import validation
from tests.kazoo_standin.model import (
    OWNED,
    KazooError,
    KazooModel,
    Number,
    not_found,
)

BODY = web.RequestKey("body", object)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STREET_TYPES = frozenset("st street ave avenue blvd rd road dr drive ln lane way ct pl".split())


@dataclass
class Fault:
    """Answer `status` to the next `count` requests that match."""

    status: int
    count: int = 1
    method: str | None = None
    path: str | None = None
    message: str = ""
    data: Any = None
    plain: bool = False  # a proxy's answer: no Kazoo envelope

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or request.method == self.method) and (
            self.path is None or self.path in request.path
        )


@dataclass
class Hang:
    """Do not answer a matching request; `apply` first makes the change, or not."""

    method: str
    path: str
    apply: bool
    count: int = 1


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class KazooStandIn:
    def __init__(self) -> None:
        self.model = KazooModel()
        self.url = ""  # set by whoever serves the app
        self.tokens: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.hangs: list[Hang] = []
        self.befores: list[tuple[str, str, Callable[[], Awaitable[None]]]] = []
        self.slow: list[tuple[str, str, float]] = []
        self.failing_numbers: dict[str, Any] = {}
        self.seen: list[Seen] = []
        self.schema_errors: list[tuple[str, Any]] = []
        self._unhang = asyncio.Event()
        # Crossbar's default `pagination_page_size` (cb_context.erl:124-126).
        self.page_size = 50

    # --- what tests tell it ------------------------------------------------------------

    def fail_next(self, status: int, count: int = 1, **match: Any) -> None:
        self.faults.append(Fault(status, count, **match))

    def fail_number(
        self,
        e164: str,
        *,
        code: int = 500,
        error: str = "unspecified_fault",
        message: str = "",
        cause: str | None = None,
        bare: str | None = None,
    ) -> None:
        """`collection/activate` answers this number with a per-number error: a
        `knm_errors` object `{code, error, cause, message}` (knm_errors.erl:120-190;
        `fault by carrier` is `by_carrier`, :158-160), or `bare`, a string for an atom
        reason such as `not_found` (`kz_json:from_map` of the ko map, knm_numbers.erl:571-578)."""
        if bare is not None:
            self.failing_numbers[e164] = bare
            return
        value: dict[str, Any] = {"code": code, "error": error}
        value["cause"] = cause if cause is not None else e164
        value["message"] = message or "fault by carrier"
        self.failing_numbers[e164] = value

    def before_next(self, method: str, path: str, change: Callable[[], Awaitable[None]]) -> None:
        """Run `change` (SmartPBX acting meanwhile) just before the next matching request."""
        self.befores.append((method, path, change))

    def hang_next(self, method: str, path: str, *, apply: bool) -> None:
        self.hangs.append(Hang(method, path, apply))

    def slow_next(self, method: str, path: str, seconds: float) -> None:
        """Answer the next matching request only after `seconds` (a slow search:
        Kazoo waits up to `number_search_timeout_ms` per carrier, knm_search.erl:50-52)."""
        self.slow.append((method, path, seconds))

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def change_number(self, e164: str, **fields: Any) -> Number:
        """Change a number as SmartPBX or another client would, behind the bot's back."""
        number = self.model.numbers.setdefault(e164, Number(e164))
        for name, value in fields.items():
            setattr(number, name, value)
        number.updated = self.model.tick()
        return number

    def calls(self, method: str, fragment: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and fragment in s.path]

    async def release_hangs(self) -> None:
        self._unhang.set()

    # --- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_put("/v2/api_auth", self._api_auth)
        r.add_get("/v2/accounts/{account}", self._account)
        r.add_get("/v2/accounts/{account}/children", self._children)
        r.add_get("/v2/accounts/{account}/users", self._users)
        r.add_get("/v2/accounts/{account}/callflows", self._callflows)
        r.add_get("/v2/accounts/{account}/callflows/{id}", self._callflow)
        r.add_post("/v2/accounts/{account}/callflows/{id}", self._save_callflow)
        r.add_patch("/v2/accounts/{account}/callflows/{id}", self._patch_callflow)
        r.add_put("/v2/accounts/{account}/faxboxes", self._create_faxbox)
        r.add_get("/v2/accounts/{account}/faxboxes/{id}", self._faxbox)
        r.add_patch("/v2/accounts/{account}/faxboxes/{id}", self._faxbox)
        r.add_delete("/v2/accounts/{account}/faxboxes/{id}", self._faxbox)
        numbers = "/v2/accounts/{account}/phone_numbers"
        r.add_get(numbers, self._numbers)
        r.add_put(numbers + "/collection/activate", self._collection_activate)
        r.add_post(numbers + "/check", self._check)
        r.add_put(numbers + "/{number}/activate", self._activate_one)
        r.add_put(numbers + "/{number}/reserve", self._reserve)
        r.add_get(numbers + "/{number}/identify", self._identify)
        r.add_get(numbers + "/{number}", self._number)
        r.add_post(numbers + "/{number}", self._replace_number)
        r.add_patch(numbers + "/{number}", self._patch_number)
        r.add_delete(numbers + "/{number}", self._delete_number)
        return app

    # --- envelopes ---------------------------------------------------------------------

    def _envelope(self, request: web.Request, data: Any, status: int = 200) -> web.Response:
        body: dict[str, Any] = {
            "auth_token": request.headers.get("X-Auth-Token", ""),
            "data": data,
            "request_id": uuid.uuid4().hex,
            "revision": uuid.uuid4().hex[:8],
            "status": "success",
        }
        return web.json_response(body, status=status)

    def _error(
        self, request: web.Request, status: int, message: str, data: Any = None, **extra: Any
    ) -> web.Response:
        body: dict[str, Any] = {
            "auth_token": request.headers.get("X-Auth-Token", ""),
            "data": data if data is not None else {},
            "error": str(status),
            "message": message,
            "request_id": uuid.uuid4().hex,
            "status": "error",
            **extra,
        }
        return web.json_response(body, status=status)

    # --- the pipeline ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return self._error(request, 400, "invalid request body: not JSON")
        request[BODY] = body
        for before in list(self.befores):
            if before[0] == request.method and before[1] in request.path:
                self.befores.remove(before)
                await before[2]()
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), body, dict(request.headers))
        )
        for fault in self.faults:
            if fault.count > 0 and fault.matches(request):
                fault.count -= 1
                if fault.plain:
                    return web.Response(status=fault.status, text="Bad Gateway")
                # Crossbar sends no Retry-After, on a 429 or anything else
                # (cb_context.erl:978-980; api_util.erl sets none).
                return self._error(
                    request,
                    fault.status,
                    fault.message or _default_message(fault.status),
                    fault.data if fault.data is not None else _default_data(fault.status),
                )
        if request.path != "/v2/api_auth":
            denied = self._authorise(request)
            if denied is not None:
                return denied
        if request.method in ("PUT", "POST", "PATCH"):
            problems = validation.errors("envelope", body)
            if problems:
                self.schema_errors.append((request.path, problems))
                return self._error(request, 400, "invalid request body", problems)
        slow = next((w for w in self.slow if w[0] == request.method and w[1] in request.path), None)
        if slow is not None:
            self.slow.remove(slow)
            await asyncio.sleep(slow[2])
        hang = next(
            (
                h
                for h in self.hangs
                if h.count > 0 and h.method == request.method and h.path in request.path
            ),
            None,
        )
        if hang is not None:
            hang.count -= 1
            if hang.apply:
                await self._handle(request, handler)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._unhang.wait(), timeout=5)
            return self._error(request, 504, "gateway timeout")
        return await self._handle(request, handler)

    async def _handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except KazooError as err:
            return self._error(request, err.status, err.message, err.data)

    def _authorise(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("X-Auth-Token")
        owner = self.tokens.get(token or "")
        if owner is None:
            # An expired or unknown token is 401 (cb_token_auth.erl:194-210,
            # api_util.erl:772-781); the client logs in again once.
            return self._error(request, 401, "invalid credentials", {"message": "invalid token"})
        account = request.match_info.get("account")
        if account is not None and (
            account not in self.model.accounts or not self.model.descends(account, owner)
        ):
            return self._error(request, 403, "forbidden", {"message": "not your account"})
        return None

    def _body(self, request: web.Request, schema: str | None) -> tuple[dict[str, Any], bool]:
        raw = request.get(BODY)
        body = raw if isinstance(raw, dict) else {}
        data = body.get("data", {})
        if schema is not None:
            problems = validation.errors(schema, data)
            if problems:
                self.schema_errors.append((request.path, problems))
                raise KazooError(400, "validation error", problems)
        return data, bool(body.get("accept_charges"))

    # --- auth and accounts -------------------------------------------------------------

    async def _api_auth(self, request: web.Request) -> web.Response:
        """cb_api_auth.erl:95-164: a key that is not 64 characters fails the schema (400
        `validation error`); one no account has is 404 `bad identifier`, echoing the key
        (crossbar_util.erl:241-244). Expired tokens are 401 (`_authorise`)."""
        raw = request.get(BODY)
        data = raw.get("data", {}) if isinstance(raw, dict) else {}
        problems = validation.errors("api_auth", data)
        if problems:
            return self._error(request, 400, "validation error", problems)
        key = str(data.get("api_key"))
        account = self.model.api_keys.get(key)
        if account is None:
            return self._error(request, 404, "bad identifier", [key])
        token = secrets.token_hex(16)
        self.tokens[token] = account
        # Kazoo answers the token at the envelope's root.
        body = {
            "auth_token": token,
            "data": {"account_id": account, "owner_id": "owner-1"},
            "request_id": uuid.uuid4().hex,
            "status": "success",
        }
        return web.json_response(body, status=201)

    async def _account(self, request: web.Request) -> web.Response:
        account = self.model.accounts[request.match_info["account"]]
        return self._envelope(request, {"id": account.id, "name": account.name})

    async def _children(self, request: web.Request) -> web.Response:
        rows = [
            {"id": a.id, "name": a.name} for a in self.model.children(request.match_info["account"])
        ]
        return self._paged(request, rows)

    async def _users(self, request: web.Request) -> web.Response:
        users = self.model.users.get(request.match_info["account"], {})
        return self._paged(request, [dict(u) for u in users.values()])

    def _paged(self, request: web.Request, rows: list[dict[str, Any]]) -> web.Response:
        """Crossbar's paging: `page_size`, `start_key`, answered with `next_start_key`."""
        rows = sorted(rows, key=lambda r: str(r["id"]))
        start = decode_start_key(request.query.get("start_key"))
        if start is not None:
            rows = [r for r in rows if str(r["id"]) >= start]
        size = int(request.query.get("page_size", str(self.page_size)))
        page, rest = rows[:size], rows[size:]
        body = {**_json(self._envelope(request, page)), "page_size": len(page)}
        if page:
            body["start_key"] = encode_start_key(str(page[0]["id"]))
        if rest:
            body["next_start_key"] = encode_start_key(str(rest[0]["id"]))
        return web.json_response(body)

    # --- callflows -----------------------------------------------------------------------

    async def _callflows(self, request: web.Request) -> web.Response:
        """The `crossbar_listing` view: a summary (core/kazoo_apps/priv/couchdb/account/
        callflows.json); the bot reads a callflow before changing it."""
        docs = self.model.callflows.get(request.match_info["account"], {}).values()
        filters = {k[7:]: v for k, v in request.query.items() if k.startswith("filter_")}
        rows = [
            {
                "id": d["id"],
                "name": d.get("name"),
                "type": d.get("type"),
                "numbers": list(d.get("numbers", [])),
                "patterns": list(d.get("patterns", [])),
                "featurecode": d.get("featurecode", False),
                "owner_id": d.get("owner_id"),
                "group_id": d.get("group_id"),
                "modules": _modules(d.get("flow")),
                "flags": list(d.get("flags", [])),
            }
            for d in docs
            if all(str(d.get(k, "")) == v for k, v in filters.items())
        ]
        return self._paged(request, [{k: v for k, v in r.items() if v is not None} for r in rows])

    async def _callflow(self, request: web.Request) -> web.Response:
        docs = self.model.callflows.get(request.match_info["account"], {})
        doc = docs.get(request.match_info["id"])
        if doc is None:
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        # GET adds a computed `metadata` (cb_callflows.erl:160-178); it is not stored.
        return self._envelope(request, {**doc, "metadata": {"faxbox1": {"name": "computed"}}})

    async def _save_callflow(self, request: web.Request) -> web.Response:
        """POST replaces the callflow; there is no revision to check, the last writer wins."""
        account = request.match_info["account"]
        cf_id = request.match_info["id"]
        if cf_id not in self.model.callflows.get(account, {}):
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        data, _ = self._body(request, "callflows")
        return self._store_callflow(request, account, cf_id, data)

    async def _patch_callflow(self, request: web.Request) -> web.Response:
        """PATCH merges the body into the stored callflow, the body winning and `null`
        deleting (crossbar_doc.erl:309-312, kz_json.erl:421-445), then validates it."""
        account = request.match_info["account"]
        cf_id = request.match_info["id"]
        stored = self.model.callflows.get(account, {}).get(cf_id)
        if stored is None:
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        raw = request.get(BODY)
        patch = raw.get("data", {}) if isinstance(raw, dict) else {}
        merged = merge_right(copy.deepcopy(stored), patch)
        problems = validation.errors("callflows", merged)
        if problems:
            self.schema_errors.append((request.path, problems))
            raise KazooError(400, "validation error", problems)
        return self._store_callflow(request, account, cf_id, merged)

    def _store_callflow(
        self, request: web.Request, account: str, cf_id: str, data: dict[str, Any]
    ) -> web.Response:
        """kzd_callflows:validate (kzd_callflows.erl:164-277, 430-449): numbers normalised
        to E.164, unique within the account, owned by it."""
        numbers = [_normalise(str(n)) for n in data.get("numbers", [])]
        for number in numbers:
            holder = self.model.callflow_holding(account, number, other_than=cf_id)
            if holder is not None:
                name = self.model.callflows[account][holder].get("name", "")
                raise KazooError(
                    400,
                    "invalid data",
                    {
                        "numbers": {
                            "unique": {
                                "message": f"{number} exists in callflow {holder} ({name})",
                                "cause": number,
                            }
                        }
                    },
                )
        foreign = [
            n
            for n in numbers
            if n in self.model.numbers
            and self.model.numbers[n].assigned_to not in (None, account)
            and not self.model.descends(str(self.model.numbers[n].assigned_to), account)
        ]
        if foreign:
            # throw({system_error, {forbidden, "unauthorized to use ..."}}): the message
            # is replaced by "forbidden" (cb_context.erl:1043-1045).
            raise KazooError(403, "forbidden", {"message": "forbidden"})
        doc = {
            **{k: v for k, v in data.items() if k != "metadata"},
            "numbers": numbers,
            "id": cf_id,
        }
        self.model.callflows[account][cf_id] = doc
        self.model.refresh_used_by(account)
        return self._envelope(request, doc)

    # --- faxboxes ------------------------------------------------------------------------

    async def _create_faxbox(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        data, _ = self._body(request, None)
        if not data.get("name"):  # faxbox.json requires only `name`
            raise KazooError(400, "validation error", {"name": {"required": {}}})
        box = {**data, "id": uuid.uuid4().hex}
        self.model.faxboxes.setdefault(account, {})[box["id"]] = box
        return self._envelope(request, box, status=201)

    async def _faxbox(self, request: web.Request) -> web.Response:
        box = self.model.faxboxes.get(request.match_info["account"], {}).get(
            request.match_info["id"]
        )
        if box is None:
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        if request.method == "DELETE":
            del self.model.faxboxes[request.match_info["account"]][box["id"]]
        elif request.method == "PATCH":
            data, _ = self._body(request, None)
            box.update(data)
        return self._envelope(request, box)

    # --- phone numbers -------------------------------------------------------------------

    def _token_account(self, request: web.Request) -> str:
        return self.tokens[request.headers["X-Auth-Token"]]

    async def _search(self, request: web.Request) -> web.Response:
        """`find_numbers` (cb_phone_numbers_v2.erl:617-649): the query id is
        `Country-Prefix-sha(AccountId-AuthToken)`, so the cache is per account and token."""
        query: dict[str, Any] = dict(request.query)
        for name in ("quantity", "offset"):
            if name in query:
                query[name] = int(query[name])
        problems = validation.errors(
            "find_numbers", {k: v for k, v in query.items() if k != "offset"}
        )
        if problems:
            self.schema_errors.append((request.path, problems))
            raise KazooError(400, "validation error", problems)
        token = request.headers.get("X-Auth-Token", "")
        digest = hashlib.sha1(f"{request.match_info['account']}-{token}".encode()).digest()
        hashed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        query_id = f"{query.get('country', 'US')}-{query['prefix']}-{hashed}"
        found = self.model.search(
            query["prefix"], max(1, query.get("quantity", 1)), query.get("offset", 0), query_id
        )
        return self._envelope(request, [{"number": n, "state": st} for n, st in found])

    async def _numbers(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        if "prefix" in request.query:
            return await self._search(request)
        owned = sorted(
            (n for n in self.model.numbers.values() if n.assigned_to == account),
            key=lambda n: n.e164,
        )
        state = request.query.get("filter_state")
        if state:
            owned = [n for n in owned if n.state == state]
        start = decode_start_key(request.query.get("start_key"))
        if start is not None:
            owned = [n for n in owned if n.e164 >= start]
        size = int(request.query.get("page_size", str(self.page_size)))
        page, rest = owned[:size], owned[size:]
        # Open port requests are merged into every page, unpaged, under the number docs,
        # unless `include_ports=false` (cb_phone_numbers_v2.erl:513-556; the view
        # port_requests.json:103-122 skips unconfirmed, canceled and completed ones).
        listed: dict[str, Any] = {}
        if request.query.get("include_ports", "true").lower() != "false":
            listed = self.model.port_listing(account)
        for n in page:
            listed[n.e164] = {**listed.get(n.e164, {}), **n.listing()}
        body = {
            **_json(self._envelope(request, {"cascade_quantity": 0, "numbers": listed})),
            "page_size": len(page),
        }
        # Keys are opaque: base64url of an Erlang term (api_util.erl:1680-1704).
        if page:
            body["start_key"] = encode_start_key(page[0].e164)
        if rest:
            body["next_start_key"] = encode_start_key(rest[0].e164)
        return web.json_response(body)

    def _charges(
        self, request: web.Request, account: str, numbers: list[Number], accept: bool
    ) -> web.Response | None:
        """Kazoo's billing check. Every number write runs as a dry run unless it
        accepts charges (`dry_run = not accepting_charges`, cb_phone_numbers_v2.erl:
        1029-1039); priced changes answer 402 with the invoices (:884-901,
        crossbar_util.erl:119-122); a free one is carried out at once (`CB()`)."""
        if not numbers:
            return None
        counts: dict[str, int] = {}
        for number in numbers:
            counts[number.item()] = counts.get(number.item(), 0) + 1
        recurring = sum((self.model.rates[i] * q for i, q in counts.items()), Decimal("0"))
        activation = self.model.activation_charge * len(numbers)
        if recurring + activation == 0:
            return None  # no charges: the "dry run" is carried out
        if not accept:
            return self._error(
                request,
                402,
                "accept charges",
                self._quote_body(account, counts, activation),
            )
        if self.model.credit is not None and self.model.credit < recurring + activation:
            if self.model.credit_refusal == "4.3":
                # 4.3 throws `billing_issue` after the dry run and the binding swallows it
                # (knm_numbers.erl:697-715, kazoo_bindings.erl:652-665): probably a success
                # with no result (unverified, real-behaviour.md M8).
                return self._envelope(request, {})
            return self._error(
                request,
                402,
                "not_enough_credit",
                {
                    "error": "not_enough_credit",
                    "message": "Not enough credit to perform this action",
                },
            )
        if self.model.credit is not None:
            self.model.credit -= recurring + activation
        for number in numbers:
            self.model.charges.append((account, number.e164, number.item()))
        return None

    def _quote_body(self, account: str, counts: dict[str, int], activation: Decimal) -> Any:
        if self.model.quote_shape == "legacy":
            body: dict[str, Any] = {
                "phone_numbers": {
                    item: {
                        "category": "phone_numbers",
                        "item": item,
                        "quantity": quantity,
                        "rate": float(self.model.rates[item]),
                        "single_discount": True,
                        "single_discount_rate": 0.0,
                        "cumulative_discount": 0,
                        "cumulative_discount_rate": 0.0,
                        "activation_charges": float(self.model.activation_charge * quantity),
                    }
                    for item, quantity in sorted(counts.items())
                },
                "activation_charges": float(activation),
            }
            return body
        return self.model.invoices(account, counts, activation)

    async def _collection_activate(self, request: web.Request) -> web.Response:
        """`collection/activate` = `knm_numbers:move/3` (cb_phone_numbers_v2.erl:964-968).
        Not a dry run: 200 "success" with `data.success` and `data.error` keyed by number,
        even when every number failed (`knm_numbers:to_json/1`, knm_numbers.erl:571-578,
        sent by `crossbar_util:response/2`, cb_phone_numbers_v2.erl:884-895)."""
        account = request.match_info["account"]
        data, accept = self._body(request, "numbers_collection")
        owner = self._token_account(request)
        good: list[Number] = []
        failed: dict[str, Any] = {}
        for e164 in data["numbers"]:
            if e164 in self.failing_numbers:
                failed[e164] = copy.deepcopy(self.failing_numbers[e164])
                continue
            try:
                good.append(self.model.check_activation(account, e164, owner))
            except KazooError as err:
                failed[e164] = err.data
        billed = self.model.activation_cost(account, [n.e164 for n in good])
        refused = self._charges(request, account, billed, accept)
        if refused is not None:
            return refused
        success: dict[str, Any] = {}
        for number in good:
            self.model.activate(account, number)
            success[number.e164] = number.document()
        out: dict[str, Any] = {}
        if success:
            out["success"] = success
        if failed:
            out["error"] = failed
        return self._envelope(request, out)

    async def _check(self, request: web.Request) -> web.Response:
        """`knm_carriers:check/1` (carriers/knm_carriers.erl:85-110): every carrier but the
        phonebook one (`knm_other`) answers `not_implemented`, so every number is "error"."""
        data, _ = self._body(request, "numbers_collection")
        return self._envelope(request, dict.fromkeys(data["numbers"], "error"))

    async def _activate_one(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        e164 = request.match_info["number"]
        tokens = self.model.activation_tokens
        if tokens is not None:
            # The extra bucket on single-number activation (cb_phone_numbers_v2.erl:284-288).
            tokens += self.model.activation_refill
            if tokens < 1:
                self.model.activation_tokens = tokens
                return self._error(
                    request, 429, "too_many_requests", {"message": "too many requests"}
                )
            self.model.activation_tokens = tokens - 1
        _, accept = self._body(request, "phone_numbers")
        owner = self._token_account(request)
        try:
            number = self.model.check_activation(account, e164, owner)
        except KazooError as err:
            if isinstance(err.data, str):
                raise not_found() from None
            raise
        refused = self._charges(
            request, account, self.model.activation_cost(account, [e164]), accept
        )
        if refused is not None:
            return refused
        self.model.activate(account, number)
        return self._envelope(request, number.document())

    async def _reserve(self, request: web.Request) -> web.Response:
        """`PUT /{n}/reserve` (cb_phone_numbers_v2.erl:390-397): a dry run first, like
        every number write; 402 when the plan prices the reserved number (H4c)."""
        _, accept = self._body(request, "phone_numbers")
        account = request.match_info["account"]
        e164 = request.match_info["number"]
        owner = self._token_account(request)
        known = self.model.numbers.get(e164)
        if self.model.reserve_priced and known is not None and known.assigned_to != account:
            refused = self._charges(request, account, [known], accept)
            if refused is not None:
                return refused
        number = self.model.reserve(account, e164, owner)
        return self._envelope(request, number.document())

    async def _identify(self, request: web.Request) -> web.Response:
        """`GET /{n}/identify` (cb_phone_numbers_v2.erl:831-843, 903-919)."""
        e164 = request.match_info["number"]
        owner = self.model.identify(e164)
        return self._envelope(request, {"account_id": owner, "number": e164})

    async def _number(self, request: web.Request) -> web.Response:
        number = self.model.fetch(request.match_info["number"], self._token_account(request))
        return self._envelope(request, number.document())

    async def _replace_number(self, request: web.Request) -> web.Response:
        number = self.model.fetch(request.match_info["number"], self._token_account(request))
        data, accept = self._body(request, "phone_numbers")
        priced = self._e911_charges(request, number, data, accept)
        if priced is not None:
            return priced
        public = {
            k: v
            for k, v in data.items()
            if k not in ("id", "state", "used_by", "features", "_read_only")
        }
        # POST = reset_doc: the body replaces the public document
        # (knm_phone_number.erl:1506-1514); an unchanged `e911` calls no provider, a
        # missing one is removed upstream (knm_dash_e911.erl:93-101).
        if "e911" in public and public["e911"] != number.public.get("e911"):
            return self._provision(request, number, public)
        number.public = public
        if "e911" in public:
            number.updated = self.model.tick()
            return self._envelope(request, number.document())
        number.features = [f for f in number.features if f != "e911"]
        number.updated = self.model.tick()
        return self._envelope(request, number.document())

    def _e911_charges(
        self, request: web.Request, number: Number, data: dict[str, Any], accept: bool
    ) -> web.Response | None:
        """A number write is a dry run first (cb_phone_numbers_v2.erl:408-420): adding the
        `e911` feature raises `number_services.e911` (kz_services_quantities.erl:479-518),
        so a plan that prices it answers 402 (H4c)."""
        if accept or not self.model.e911_rate or "e911" not in data or "e911" in number.features:
            return None
        account = number.assigned_to or request.match_info["account"]
        return self._error(
            request,
            402,
            "accept charges",
            self.model.invoices(account, {}, Decimal("0"), e911_added=1),
        )

    async def _patch_number(self, request: web.Request) -> web.Response:
        number = self.model.fetch(request.match_info["number"], self._token_account(request))
        data, accept = self._body(request, "phone_numbers")
        priced = self._e911_charges(request, number, data, accept)
        if priced is not None:
            return priced
        # PATCH = update_doc: a recursive right-merge into the stored document where
        # `null` deletes (knm_phone_number.erl:1497-1504, kz_json.erl:447-470).
        merged = merge_right(
            number.public, {k: v for k, v in data.items() if k not in ("id", "state", "_read_only")}
        )
        if "e911" in merged and merged.get("e911") != number.public.get("e911"):
            return self._provision(request, number, merged)
        number.public = merged
        number.updated = self.model.tick()
        return self._envelope(request, number.document())

    def _provision(
        self, request: web.Request, number: Number, public: dict[str, Any]
    ) -> web.Response:
        """A deterministic Dash e911 provider, answering as 4.3 does.

        It reads the merged `e911` object (knm_dash_e911.erl:90-111) and answers
        (docs/decisions/kazoo.md lists the streets that trigger each):
        - the feature not allowed: 403 `forbidden` (knm_providers.erl:537-546,
          knm_errors.erl:141-143);
        - provider down: 500 `unspecified_fault`, the reason as `message`
          (knm_dash_e911.erl:117-119, knm_errors.erl:166-168);
        - not geocoded: 400 `invalid`, free-text `cause` ending with the address JSON
          (knm_dash_e911.erl:120-123, knm_errors.erl:155-157);
        - several matches: 500 `unspecified_fault`, `message: "multiple_choice"`, the
          `{cause, details, message}` JSON-encoded in `cause` (knm_dash_e911.erl:130-138,
          knm_errors.erl:166-168, kz_term.erl:335-338).
        Each try counts one upstream `validateLocation` in `e911_provider_calls`.
        Errors carry the envelope message `error` (cb_phone_numbers_v2.erl:921-927).
        """
        e911 = dict(public["e911"])
        if not self.model.e911_allowed:
            raise KazooError(
                403,
                "forbidden",
                {
                    "code": 403,
                    "error": "forbidden",
                    "message": "requestor is unauthorized to perform operation",
                },
            )
        self.model.e911_provider_calls += 1
        street = str(e911.get("street_address", ""))
        words = street.lower().split()
        address = {
            k: e911[k]
            for k in ("street_address", "extended_address", "locality", "region", "postal_code")
            if k in e911
        }
        if "fault" in words:
            raise KazooError(
                500,
                "unspecified_fault",
                {"code": 500, "error": "unspecified_fault", "message": "server_error"},
            )
        if words[:1] == ["0"] or str(e911.get("postal_code", "")).startswith("000"):
            raise KazooError(
                400,
                "invalid",
                {
                    "code": 400,
                    "error": "invalid",
                    "message": "invalid",
                    "cause": f"Location is not geocoded ({json.dumps(e911)})",
                },
            )
        if not words or words[-1] not in STREET_TYPES:
            details = [
                {**address, "street_address": f"{street.upper()} {suffix}", "status": "GEOCODED"}
                for suffix in ("ST", "AVE")
            ]
            choice = {"cause": e911, "details": details, "message": "more than one address found"}
            raise KazooError(
                500,
                "unspecified_fault",
                {
                    "code": 500,
                    "error": "unspecified_fault",
                    "message": "multiple_choice",
                    "cause": json.dumps(choice),
                },
            )
        # The stored object is the request merged with Dash's answer (knm_dash_e911.erl:105).
        answer: dict[str, Any] = {
            "street_address": street.upper(),
            "locality": str(e911.get("locality", "")).upper(),
            "latitude": "37.786861",
            "longitude": "-122.399484",
            "location_id": "27578725",
            "plus_four": "3745",
            "status": "PROVISIONED",
            "legacy_data": {
                "house_number": words[0],
                "streetname": " ".join(words[1:]).upper(),
            },
        }
        if e911.get("extended_address"):
            answer["legacy_data"]["suite"] = str(e911["extended_address"]).upper()
        number.public = {**public, "e911": {**e911, **answer}}
        if "e911" not in number.features:
            number.features.append("e911")
        number.updated = self.model.tick()
        return self._envelope(request, number.document())

    async def _delete_number(self, request: web.Request) -> web.Response:
        """DELETE is `knm_number:release` wherever the number is in the key's tree
        (cb_phone_numbers_v2.erl:427-443): the path's account is not checked (H2)."""
        number = self.model.release(request.match_info["number"], self._token_account(request))
        return self._envelope(request, number.document())


@asynccontextmanager
async def running(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[KazooStandIn]:
    """Serve a fresh stand-in on a loopback port; `kazoo.url` is its base URL."""
    kazoo = KazooStandIn()
    runner = web.AppRunner(kazoo.app())
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    kazoo.url = f"http://{host}:{bound}"
    try:
        yield kazoo
    finally:
        await kazoo.release_hangs()
        await runner.cleanup()


def _modules(flow: Any) -> list[str]:
    """The listing's `modules`: every module of the flow tree, once."""
    found: list[str] = []
    stack = [flow]
    while stack:
        node = stack.pop(0)
        if not isinstance(node, dict):
            continue
        if node.get("module") and node.get("module") not in found:
            found.append(str(node["module"]))
        children = node.get("children")
        if isinstance(children, dict):
            stack.extend(children.values())
    return found


def _normalise(entry: str) -> str:
    """knm_converters:normalize on a US number: `4155550123`/`14155550123` -> E.164;
    extensions and SmartPBX's placeholders stay as they are."""
    if entry.isdigit() and len(entry) == 10:
        return "+1" + entry
    if entry.isdigit() and len(entry) == 11 and entry.startswith("1"):
        return "+" + entry
    return entry


def encode_start_key(key: str) -> str:
    """An opaque paging key, as Crossbar's base64url(term_to_binary(Key)) is to a client."""
    return base64.urlsafe_b64encode(b"\x83k" + key.encode()).decode().rstrip("=")


def decode_start_key(encoded: str | None) -> str | None:
    """Crossbar decodes its own keys and takes anything else as given (api_util.erl:1700-1704)."""
    if encoded is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return encoded
    return raw[2:].decode() if raw.startswith(b"\x83k") else encoded


def merge_right(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """kz_json:merge/2: right wins, objects merge recursively, `null` deletes the key,
    an empty object on the right replaces the left one (kz_json.erl:447-470)."""
    merged = dict(left)
    for key, value in right.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and value and isinstance(merged.get(key), dict):
            merged[key] = merge_right(merged[key], value)
        else:
            merged[key] = value
    return merged


def _default_data(status: int) -> Any:
    # add_system_error('too_many_requests') (cb_context.erl:979-980).
    return {"message": "too many requests"} if status == 429 else None


def _default_message(status: int) -> str:
    return {
        402: "accept charges",
        429: "too_many_requests",
        500: "unspecified_fault",
        503: "service unavailable",
    }.get(status, "error")


def _json(response: web.Response) -> dict[str, Any]:
    assert response.text is not None
    loaded = json.loads(response.text)
    assert isinstance(loaded, dict)
    return loaded


__all__ = ["OWNED", "KazooStandIn", "running"]
