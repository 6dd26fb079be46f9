"""A small Crossbar (Kazoo API v2) client: auth, envelopes, retries, timeouts.

One aiohttp session is shared by every call. Every request has a timeout.
Authentication is by API key (`PUT /v2/api_auth`); a 401 means the token
expired, so the client authenticates again once and retries once. 429s and
gateway errors (a 5xx without Kazoo's envelope) are retried with bounded,
jittered exponential backoff; Kazoo's own 5xx answers are not (`_retryable`).
The sleep and the random source are injectable so tests need no real waiting.

The API key and the auth token never leave this module: they are kept in
`Secret` (whose repr is masked), never logged, and scrubbed from any text an
error carries (Kazoo echoes `auth_token` in every envelope).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.backends.carrier import (
    CarrierAuthFailed,
    CarrierUnavailable,
    OutcomeUnknown,
)

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Bounded, jittered exponential backoff for 429 and 5xx answers."""

    attempts: int = 4  # tries in all, the first included
    base: float = 0.2
    cap: float = 5.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (1-based): jittered, capped.

        Crossbar's 429 carries no Retry-After (cb_context.erl:978-980; none is set in
        applications/crossbar/src but for faxes): its buckets refill 10 tokens a
        second, so this backoff is the whole wait.
        """
        ceiling = min(self.cap, self.base * (2 ** (retry - 1)))
        return float(ceiling * (0.5 + self.rng.random() / 2))


@dataclass(frozen=True, slots=True)
class KazooResponse:
    """A decoded Crossbar envelope. `data` is whatever Kazoo put there."""

    status: int
    data: Any
    error: str = ""
    message: str = ""
    envelope: Mapping[str, Any] = field(default_factory=dict)
    # The token Kazoo put at the envelope's root, kept out of `envelope`.
    issued_token: Secret | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def has_envelope(self) -> bool:
        return "status" in self.envelope


def number_path(e164: str) -> str:
    """Numbers in a path are URL-encoded E.164 (`%2B14155550123`)."""
    return quote(e164, safe="")


class KazooClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        backoff: Backoff | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._api_key = Secret(api_key)
        self._token: Secret | None = None
        # Tokens replaced lately: an old one may still turn up in a late answer.
        self._old_tokens: list[Secret] = []
        self._auth_account_id: str | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._backoff = backoff or Backoff()
        self._session = session
        self._owns_session = session is None
        self._auth_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KazooClient({self._base!r})"

    @property
    def auth_account_id(self) -> str | None:
        """The account the API key belongs to (known after the first authentication)."""
        return self._auth_account_id

    def scrub(self, text: str) -> str:
        """Remove the API key and the token from text that may reach people or logs."""
        for secret in (self._api_key, self._token, *self._old_tokens):
            if secret and secret.reveal() in text:
                text = text.replace(secret.reveal(), REDACTED)
        return text

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(raise_for_status=False)
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()

    # --- auth ------------------------------------------------------------------------

    async def authenticate(self, *, stale: Secret | None = None) -> None:
        """Get a token. With `stale`, only if no other call replaced that token meanwhile."""
        async with self._auth_lock:
            if self._token is not None and self._token is not stale:
                return
            if self._token is not None:
                self._old_tokens = [self._token, *self._old_tokens][:5]
            self._token = None
            body = {"data": {"api_key": self._api_key.reveal()}}
            response = await self._send_retrying("PUT", "/v2/api_auth", body=body, token=None)
            refused = _KEY_REFUSALS.get(response.status)
            if refused is not None:
                raise CarrierAuthFailed(refused)
            if not response.ok:
                raise CarrierUnavailable(
                    f"Kazoo authentication failed: {response.status} {self.scrub(response.message)}"
                )
            if not response.issued_token:
                raise CarrierUnavailable("Kazoo authentication answered without a token.")
            self._token = response.issued_token
            data = response.data if isinstance(response.data, dict) else {}
            account = data.get("account_id")
            self._auth_account_id = account if isinstance(account, str) else None

    # --- requests --------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Any = None,
        accept_charges: bool = False,
        seconds: float | None = None,
    ) -> KazooResponse:
        """One Crossbar call, authenticated, with the retries described above.

        `seconds` replaces the client's total timeout for this call (a search).

        Raises `CarrierUnavailable` when Kazoo cannot be reached (nothing sent)
        or keeps failing a read, `OutcomeUnknown` when a change was sent and
        no answer came back. Kazoo's own error answers are returned, not raised.
        """
        body: dict[str, Any] | None = None
        if method not in _SAFE_METHODS:
            body = {"data": {} if data is None else data}
            if accept_charges:
                body["accept_charges"] = True
        if self._token is None:
            await self.authenticate()
        reauthenticated = False
        while True:
            token = self._token
            response = await self._send_retrying(
                method, path, params=params, body=body, token=token, seconds=seconds
            )
            if response.status != 401:
                return response
            if reauthenticated:
                raise CarrierAuthFailed("Kazoo refused the bot's credentials again after re-auth.")
            reauthenticated = True
            await self.authenticate(stale=token)

    async def _send_retrying(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        token: Secret | None,
        seconds: float | None = None,
    ) -> KazooResponse:
        """Send, retrying 429s and gateway errors with backoff, a bounded number of times."""
        retry = 0
        while True:
            response = await self._send(
                method, path, params=params, body=body, token=token, seconds=seconds
            )
            if not _retryable(method, response):
                return response
            retry += 1
            if retry < self._backoff.attempts:
                await self._backoff.sleep(self._backoff.delay(retry))
                continue
            if response.status == 429 or not response.has_envelope:
                raise self._gave_up(method, path, response)
            # Kazoo's own 503 to a read, after the retries: the caller maps it.
            return response

    def _gave_up(self, method: str, path: str, response: KazooResponse) -> CarrierUnavailable:
        what = "rate-limited the bot" if response.status == 429 else f"answered {response.status}"
        text = f"Kazoo {what} on {method} {_path_only(path)}, {self._backoff.attempts} tries."
        # A gateway error on a change says nothing about whether Kazoo applied it.
        if method not in _SAFE_METHODS and response.status != 429:
            return OutcomeUnknown(text)
        return CarrierUnavailable(text)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        token: Secret | None,
        seconds: float | None = None,
    ) -> KazooResponse:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-Auth-Token"] = token.reveal()
        session = self._session_now()
        try:
            async with session.request(
                method,
                self._base + path,
                params={k: str(v) for k, v in (params or {}).items()},
                json=body,
                headers=headers,
                timeout=self._timeout
                if seconds is None
                else aiohttp.ClientTimeout(total=max(seconds, self._timeout.total or 0)),
            ) as resp:
                status = resp.status
                try:
                    envelope = await resp.json(content_type=None)
                except ValueError:
                    envelope = None
        except TimeoutError:
            log.warning("kazoo %s %s timed out", method, _path_only(path))
            if method in _SAFE_METHODS:
                raise CarrierUnavailable(f"Kazoo did not answer {method} in time.") from None
            raise OutcomeUnknown(
                "Kazoo did not answer in time; the change may or may not have been made."
            ) from None
        except aiohttp.ClientConnectorError:
            log.warning("kazoo %s %s: cannot connect", method, _path_only(path))
            raise CarrierUnavailable("Kazoo cannot be reached.") from None
        except aiohttp.ClientError as exc:
            log.warning("kazoo %s %s: %s", method, _path_only(path), type(exc).__name__)
            if method in _SAFE_METHODS:
                raise CarrierUnavailable("The connection to Kazoo failed.") from None
            raise OutcomeUnknown(
                "The connection to Kazoo failed mid-call; the change may or may not have been made."
            ) from None
        log.info("kazoo %s %s -> %s", method, _path_only(path), status)
        if not isinstance(envelope, dict):
            envelope = {}
        # Kazoo echoes the token in every envelope; take it out at the door.
        issued = envelope.pop("auth_token", None)
        return KazooResponse(
            status=status,
            data=envelope.get("data"),
            error=str(envelope.get("error", "")),
            message=self.scrub(str(envelope.get("message", ""))),
            envelope=envelope,
            issued_token=Secret(issued) if isinstance(issued, str) and issued else None,
        )


# What Kazoo's answers to `PUT /v2/api_auth` say of the key (cb_api_auth.erl:95-164).
_KEY_REFUSALS = {
    # The schema wants exactly 64 characters (crossbar/priv/couchdb/schemas/api_auth.json).
    400: "Kazoo refused KAZOO_API_KEY as malformed: an API key is 64 characters.",
    # No account has the key: `response_bad_identifier` (crossbar_util.erl:241-244).
    404: "Kazoo does not know KAZOO_API_KEY: no account has this API key.",
    401: "Kazoo refused the API key (KAZOO_API_KEY).",
    403: "Kazoo refused the API key (KAZOO_API_KEY).",
}


def _retryable(method: str, response: KazooResponse) -> bool:
    """Whether to send the call again.

    429 (a token bucket; Crossbar sends no Retry-After, cb_context.erl:978-980) and a
    5xx without Kazoo's envelope (a proxy or load balancer in front of Crossbar) are
    retried. A 5xx in Kazoo's envelope is Kazoo's answer: `unspecified_fault`,
    "fault by carrier", Dash's `multiple_choice` (knm_errors.erl:158-168) come back
    the same and re-run carrier calls, so they are returned as they are. Only a read
    retries Kazoo's own 503 (`datastore_*`, cb_context.erl:1002-1011).
    """
    if response.status == 429:
        return True
    if response.status < 500:
        return False
    if not response.has_envelope:
        return True
    return response.status == 503 and method in _SAFE_METHODS


def _path_only(path: str) -> str:
    """What is logged of a path: it holds account ids and numbers, never secrets."""
    return path.split("?", 1)[0]
