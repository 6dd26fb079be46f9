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
    retry_after: str | None = None
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
        self.slow: list[tuple[str, str, float]] = []
        self.failing_numbers: dict[str, Any] = {}
        self.seen: list[Seen] = []
        self.schema_errors: list[tuple[str, Any]] = []
        self._unhang = asyncio.Event()

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
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), body, dict(request.headers))
        )
        for fault in self.faults:
            if fault.count > 0 and fault.matches(request):
                fault.count -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                if fault.plain:
                    return web.Response(status=fault.status, text="Bad Gateway", headers=headers)
                response = self._error(
                    request,
                    fault.status,
                    fault.message or _default_message(fault.status),
                    fault.data,
                )
                if headers:
                    response.headers.update(headers)
                return response
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
        data, _ = self._body(request, "api_auth")
        account = self.model.api_keys.get(str(data.get("api_key")))
        if account is None:
            return self._error(request, 401, "invalid credentials")
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
        start = request.query.get("start_key")
        if start is not None:
            rows = [r for r in rows if str(r["id"]) >= start]
        size = int(request.query.get("page_size", "2"))
        page, rest = rows[:size], rows[size:]
        response = self._envelope(request, page)
        if rest:
            body = {**_json(response), "next_start_key": str(rest[0]["id"]), "page_size": len(page)}
            return web.json_response(body)
        return response

    # --- callflows -----------------------------------------------------------------------

    async def _callflows(self, request: web.Request) -> web.Response:
        docs = self.model.callflows.get(request.match_info["account"], {}).values()
        filters = {k[7:]: v for k, v in request.query.items() if k.startswith("filter_")}
        rows = [
            # Kazoo's listing is a summary; the bot reads a callflow before changing it.
            {"id": d["id"], "name": d.get("name", ""), "numbers": list(d.get("numbers", []))}
            for d in docs
            if all(str(d.get(k, "")) == v for k, v in filters.items())
        ]
        return self._paged(request, rows)

    async def _callflow(self, request: web.Request) -> web.Response:
        docs = self.model.callflows.get(request.match_info["account"], {})
        doc = docs.get(request.match_info["id"])
        if doc is None:
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        return self._envelope(request, doc)

    async def _save_callflow(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        cf_id = request.match_info["id"]
        data, _ = self._body(request, "callflows")
        if cf_id not in self.model.callflows.get(account, {}):
            raise KazooError(404, "bad_identifier", {"message": "bad identifier"})
        for number in data.get("numbers", []):
            holder = self.model.callflow_holding(account, number, other_than=cf_id)
            if holder is not None:
                raise KazooError(
                    400,
                    "invalid data",
                    {
                        "numbers": {
                            "unique": {
                                "message": f"Number {number} exists in callflow {holder}",
                                "cause": number,
                            }
                        }
                    },
                )
        doc = {**data, "id": cf_id}
        self.model.callflows[account][cf_id] = doc
        self.model.refresh_used_by(account)
        return self._envelope(request, doc)

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
        start = request.query.get("start_key")
        if start is not None:
            owned = [n for n in owned if n.e164 >= start]
        size = int(request.query.get("page_size", "50"))
        page, rest = owned[:size], owned[size:]
        body = {
            **_json(
                self._envelope(
                    request, {"cascade_quantity": 0, "numbers": {n.e164: n.listing() for n in page}}
                )
            ),
            "page_size": len(page),
        }
        if page:
            body["start_key"] = page[0].e164
        if rest:
            body["next_start_key"] = rest[0].e164
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
        data, _ = self._body(request, "phone_numbers")
        public = {
            k: v
            for k, v in data.items()
            if k not in ("id", "state", "used_by", "features", "_read_only")
        }
        if "e911" in public:
            return self._provision(request, number, public)
        number.public = public
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
        merged = {
            **number.public,
            **{k: v for k, v in data.items() if k not in ("id", "state", "_read_only")},
        }
        if "e911" in data:
            return self._provision(request, number, merged)
        number.public = merged
        number.updated = self.model.tick()
        return self._envelope(request, number.document())

    def _provision(
        self, request: web.Request, number: Number, public: dict[str, Any]
    ) -> web.Response:
        """A deterministic e911 provider (docs/decisions/kazoo.md lists its answers)."""
        e911 = dict(public["e911"])
        street = str(e911.get("street_address", ""))
        words = street.lower().split()
        if "fault" in words:
            raise KazooError(
                500,
                "unspecified_fault",
                {"code": 500, "error": "unspecified_fault", "message": "e911 provider timeout"},
            )
        if "cause" in words:
            raise KazooError(
                400,
                "invalid data",
                {
                    "code": 400,
                    "error": "address_not_found",
                    "cause": "postal_code",
                    "message": "postal code does not match city",
                },
            )
        if words[:1] == ["0"] or str(e911.get("postal_code", "")).startswith("000"):
            cause = {
                k: e911[k]
                for k in (
                    "caller_name",
                    "postal_code",
                    "street_address",
                    "extended_address",
                    "locality",
                    "region",
                )
                if k in e911
            }
            raise KazooError(
                400,
                "invalid data",
                {"address": {"invalid": {"cause": cause, "message": "Location is not geocoded"}}},
            )
        if not words or words[-1] not in STREET_TYPES:
            cause = {
                k: e911[k]
                for k in ("postal_code", "street_address", "extended_address", "locality", "region")
                if k in e911
            }
            details = [
                {**cause, "street_address": f"{street.upper()} {suffix}"}
                for suffix in ("ST", "AVE")
            ]
            raise KazooError(
                400,
                "multiple_choice",
                {
                    "multiple_choice": {
                        "e911": {
                            "cause": cause,
                            "details": details,
                            "message": "more than one address found",
                        }
                    }
                },
            )
        e911.update(
            {
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
        )
        number.public = {**public, "e911": e911}
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


def _default_message(status: int) -> str:
    return {
        402: "accept charges",
        429: "too many requests",
        500: "unspecified_fault",
        503: "service unavailable",
    }.get(status, "error")


def _json(response: web.Response) -> dict[str, Any]:
    assert response.text is not None
    loaded = json.loads(response.text)
    assert isinstance(loaded, dict)
    return loaded


__all__ = ["OWNED", "KazooStandIn", "running"]
